#version 460
// Fragment stage of Metta's video renderer (see triangle-textured.vert).
//
// Objects other than agents keep their GDY shape and colour, dimmed while they cool
// down; a black object (the renderer's floor) fills its whole tile, so nothing of the
// render target's background shows. An agent (render_group > 0) is drawn as its shape in its kinship group's
// colour; a raised shield is a ring around it, a frozen agent sits in a block of ice
// with a frosted body, and an energy bar along the bottom of its tile shows
// energy / max_energy (green when full, red when empty, grey for what is missing).

layout(binding = 0) uniform sampler2DArray samplerArray;

layout(location = 0) in vec4 inColor;
layout(location = 1) in vec3 inFragTextureCoords;
layout(location = 2) in vec2 inTilePosition;
layout(location = 3) flat in ivec4 inAgent;
layout(location = 4) flat in ivec2 inTimers;
layout(location = 5) in vec2 inBodyPosition;

layout(location = 0) out vec4 outFragColor;

// One colour per kinship group, cycling: distinct hues, none of them the ice or shield colour.
const vec3 GROUP_COLORS[10] = vec3[](
    vec3(0.95, 0.35, 0.20),   // vermilion
    vec3(0.25, 0.55, 1.00),   // blue
    vec3(0.30, 0.85, 0.30),   // green
    vec3(0.95, 0.80, 0.15),   // yellow
    vec3(0.75, 0.40, 0.95),   // violet
    vec3(1.00, 0.55, 0.75),   // pink
    vec3(0.60, 0.40, 0.20),   // brown
    vec3(0.10, 0.75, 0.65),   // teal
    vec3(1.00, 0.60, 0.10),   // orange
    vec3(0.55, 0.65, 0.25));  // olive

const vec3 SHIELD_COLOR = vec3(1.0, 1.0, 1.0);
const vec3 ICE_COLOR = vec3(0.65, 0.85, 1.0);
const vec3 BAR_EMPTY = vec3(0.25, 0.25, 0.25);

// geometry in tile units (a tile spans -0.5 .. 0.5)
const float BODY_SCALE = 0.72;        // the shape leaves room for the bar and the ring
const float RING_INNER = 0.39;
const float RING_OUTER = 0.48;
const float BAR_TOP = 0.34;
const float BAR_HALF_WIDTH = 0.42;

void main() {
  int group = inAgent.x;
  if (group <= 0) {
    if (all(equal(inColor.rgb, vec3(0.0)))) {
      outFragColor = vec4(0.0, 0.0, 0.0, 1.0);
      return;
    }
    vec4 color = texture(samplerArray, inFragTextureCoords) * inColor;
    if (inTimers.y > 0) {
      color.rgb *= 0.45;
    }
    outFragColor = color;
    return;
  }

  int energy = inAgent.y;
  int maxEnergy = inAgent.z;
  bool shielded = inAgent.w > 0;
  bool frozen = inTimers.x > 0;
  vec2 p = inTilePosition;

  // the body: the shape texture shrunk about the tile's centre
  vec2 uv = inBodyPosition / BODY_SCALE + 0.5;
  float inside = all(greaterThanEqual(uv, vec2(0.0))) && all(lessThanEqual(uv, vec2(1.0))) ? 1.0 : 0.0;
  float body = texture(samplerArray, vec3(uv, inFragTextureCoords.z)).a * inside;
  vec3 groupColor = GROUP_COLORS[(group - 1) % 10];

  vec4 color = vec4(0.0);
  if (frozen) {
    color = vec4(ICE_COLOR * 0.55, 1.0);
  }
  if (body > 0.5) {
    color = vec4(frozen ? mix(groupColor, ICE_COLOR, 0.6) : groupColor, 1.0);
  }

  float r = length(p);
  if (shielded && r >= RING_INNER && r <= RING_OUTER) {
    color = vec4(SHIELD_COLOR, 1.0);
  }

  if (p.y >= BAR_TOP && abs(p.x) <= BAR_HALF_WIDTH) {
    float full = clamp(float(energy) / float(max(maxEnergy, 1)), 0.0, 1.0);
    float along = (p.x + BAR_HALF_WIDTH) / (2.0 * BAR_HALF_WIDTH);
    color = vec4(along <= full ? mix(vec3(0.9, 0.15, 0.1), vec3(0.2, 0.9, 0.2), full) : BAR_EMPTY, 1.0);
  }
  outFragColor = color;
}
