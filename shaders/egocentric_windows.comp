// Every agent's egocentric window, cut from one global VECTOR observation.
//
// The contract (coordinates, rotations, the two table channels) is the module docstring of
// metta/griddly_ext/windows.py; metta/griddly_ext/vulkan_windows.py dispatches this shader.
// Bytes travel packed four to a uint (std430 uint arrays, little-endian), so the shader needs
// no 8-bit storage feature: every invocation writes whole output words.
//
// One command buffer runs three dispatches, selected by the push constant `phase`:
//   0: clear the agent-id grid;
//   1: write each agent's player id (1..n) into its cell (agents hold distinct cells;
//      atomicMax keeps the result defined if they did not);
//   2: cut the windows: each invocation assembles the output words of four consecutive
//      window cells (agent i, row oy, column ox), 4 (K + 2) bytes.
//
// Recompile (fixed flags; tests/test_vulkan_windows.py checks the committed SPIR-V is current):
//   glslc -O --target-env=vulkan1.0 -o shaders/egocentric_windows.spv shaders/egocentric_windows.comp
#version 450

layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer GlobalView { uint global_words[]; };  // (H, W, Cg) bytes
layout(std430, binding = 1) readonly buffer Poses { int pose[]; };                // x[n], y[n], orientation[n]
layout(std430, binding = 2) readonly buffer Tables { uint table_words[]; };       // agent_table (n, n+1) bytes, observer_fill (n) bytes
layout(std430, binding = 3) readonly buffer Keep { uint keep[]; };                // global channel of each kept channel
layout(std430, binding = 4) buffer Ids { uint ids[]; };                           // (H, W) player id per cell, 0 = none
layout(std430, binding = 5) writeonly buffer Windows { uint out_words[]; };       // (n, h, w, K + 2) bytes

// Sizes are specialization constants: the pipeline is built once per layout, and the driver
// folds them, turning the divisions below into multiplications.
layout(constant_id = 0) const uint grid_w = 1u;
layout(constant_id = 1) const uint grid_h = 1u;
layout(constant_id = 2) const uint global_channels = 1u;
layout(constant_id = 3) const uint kept = 1u;             // K
layout(constant_id = 4) const uint win_w = 1u;
layout(constant_id = 5) const uint win_h = 1u;
layout(constant_id = 6) const uint agents = 1u;           // n
layout(constant_id = 7) const uint rotate = 1u;           // 0: every agent's window faces up

layout(push_constant) uniform Phase { uint phase; };

uint table_byte(uint b) {
    return (table_words[b >> 2] >> ((b & 3u) << 3)) & 0xFFu;
}

uint global_byte(uint b) {
    return (global_words[b >> 2] >> ((b & 3u) << 3)) & 0xFFu;
}

uint word;        // the output word being assembled
uint group_word;  // the first output word of this invocation's four window cells

// Byte q (0 <= q < 4 (K + 2)) of the current four cells: appended to `word`, flushed every fourth.
void put(uint q, uint value) {
    word |= value << ((q & 3u) << 3);
    if ((q & 3u) == 3u) {
        uint at = group_word + (q >> 2);
        if (at < (agents * win_h * win_w * (kept + 2u) + 3u) / 4u) {
            out_words[at] = word;
        }
        word = 0u;
    }
}

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (phase == 0u) {
        for (uint c = gl_GlobalInvocationID.x; c < grid_w * grid_h; c += stride) {
            ids[c] = 0u;
        }
    } else if (phase == 1u) {
        for (uint i = gl_GlobalInvocationID.x; i < agents; i += stride) {
            int x = pose[i];
            int y = pose[agents + i];
            if (x >= 0 && y >= 0 && x < int(grid_w) && y < int(grid_h)) {
                atomicMax(ids[uint(y) * grid_w + uint(x)], i + 1u);
            }
        }
    } else {
        // Four window cells hold 4 (K + 2) bytes, a whole number of words: each invocation
        // assembles the words of four consecutive cells (agent i, row oy, column ox).
        uint channels = kept + 2u;
        uint cells = agents * win_h * win_w;
        for (uint g = gl_GlobalInvocationID.x; 4u * g < cells; g += stride) {
            word = 0u;
            group_word = g * channels;
            for (uint c = 0u; c < 4u; ++c) {
                uint cell = 4u * g + c;
                uint q = c * channels;
                if (cell >= cells) {  // past the last window: zero padding of the last word
                    for (uint k = 0u; k < channels; ++k) {
                        put(q + k, 0u);
                    }
                    continue;
                }
                uint ox = cell % win_w;
                uint oy = (cell / win_w) % win_h;
                uint i = cell / (win_w * win_h);
                int u = int(ox) - int(win_w / 2u);
                int v = int(oy) - int(win_h / 2u);
                int facing = rotate != 0u ? (pose[2u * agents + i] & 3) : 0;
                ivec2 d = facing == 0 ? ivec2(u, v)      // up
                        : facing == 1 ? ivec2(-v, u)     // right
                        : facing == 2 ? ivec2(-u, -v)    // down
                        :               ivec2(v, -u);    // left
                int gx = pose[i] + d.x;
                int gy = pose[agents + i] + d.y;
                bool inside = gx >= 0 && gy >= 0 && gx < int(grid_w) && gy < int(grid_h);
                uint at = inside ? uint(gy) * grid_w + uint(gx) : 0u;
                for (uint k = 0u; k < kept; ++k) {
                    put(q + k, inside ? global_byte(at * global_channels + keep[k]) : 0u);
                }
                put(q + kept, table_byte(i * (agents + 1u) + (inside ? ids[at] : 0u)));  // agent_table[i, p]
                put(q + kept + 1u, table_byte(agents * (agents + 1u) + i));              // observer_fill[i]
            }
        }
    }
}
