#version 460
// Vertex stage of Metta's video renderer: Griddly's BLOCK_2D observer, global view.
//
// Griddly 1.6.7 feeds every object through this shader with the buffers declared below
// (their layout is Griddly's, see griddly/resources/shaders/default/block). Besides
// the defaults it forwards the object variables the observer exposes through
// `Shader.ObjectVariables`, in the order metta.griddly_ext.render.SHADER_VARIABLES
// gives them: render_group, energy, max_energy, shield, frozen, cooldown.

layout(location = 0) in vec3 inPosition;
layout(location = 1) in vec2 inFragTextureCoords;

layout(location = 0) out vec4 outColor;
layout(location = 1) out vec3 outFragTextureCoords;
// where in its tile this fragment lies, screen-aligned (x right, y down), tile units, centre 0
layout(location = 2) out vec2 outTilePosition;
layout(location = 3) flat out ivec4 outAgent;    // render_group (0: not an agent), energy, max_energy, shield
layout(location = 4) flat out ivec2 outTimers;   // frozen, cooldown
layout(location = 5) out vec2 outBodyPosition;   // where in the agent's body texture, turned to its facing

out gl_PerVertex {
  vec4 gl_Position;
};

struct PlayerInfo {
  vec4 playerColor;
  vec4 playerObservableGrid;
};

struct ObjectData {
  mat4 modelMatrix;
  vec4 color;
  vec4 gridPosition;
  vec2 textureMultiply;
  int textureIndex;
  int objectType;
  int playerId;
};

struct ObjectVariable {
  int value;
};

layout(std140, binding = 1) uniform EnvironmentData {
  mat4 projectionMatrix;
  mat4 viewMatrix;
  vec4 globalObserverAvatarHighlightColor;
  vec2 gridDims;
  int playerCount;
  int playerId;
  int globalVariableCount;
  int objectVariableCount;
  int globalObserverAvatarMode;
  int highlightPlayers;
}
environmentData;

layout(std430, binding = 3) readonly buffer ObjectDataBuffer {
  uint size;
  ObjectData variables[];
}
objectDataBuffer;

layout(std430, binding = 5) readonly buffer ObjectVariableBuffer {
  ObjectVariable variables[];
}
objectVariableBuffer;

layout(push_constant) uniform PushConsts {
  int idx;
}
pushConsts;

// The number of SHADER_VARIABLES, fixed here rather than read from environmentData: a game
// loaded from a saved state can leave that uniform unwritten.
const int VARIABLE_COUNT = 6;

int objectVariable(int index) {
  return objectVariableBuffer.variables[pushConsts.idx * VARIABLE_COUNT + index].value;
}

void main() {
  ObjectData object = objectDataBuffer.variables[pushConsts.idx];

  outFragTextureCoords = vec3(inFragTextureCoords.x * object.textureMultiply.x,
                              inFragTextureCoords.y * object.textureMultiply.y,
                              object.textureIndex);
  // The model matrix turns an agent's quad with its orientation (so its triangle points
  // where it faces); rotating the quad's corner by the same matrix gives a position in
  // the tile that stays upright on screen, for bars and rings that must not turn.
  outTilePosition = (mat3(object.modelMatrix) * inPosition).xy;
  // Griddly 1.6.7 turns a LEFT-facing avatar's quad to point right and vice versa (its
  // default shaders show the same); turning the corner once more by the same rotation
  // gives the body texture the agent's true facing (up and down are unaffected).
  mat2 turn = mat2(object.modelMatrix) / length(object.modelMatrix[0].xyz);
  outBodyPosition = turn * turn * inPosition.xy;

  gl_Position = environmentData.projectionMatrix * environmentData.viewMatrix * object.modelMatrix
                * vec4(inPosition, 1.0);
  outColor = object.color;
  outAgent = ivec4(objectVariable(0), objectVariable(1), objectVariable(2), objectVariable(3));
  outTimers = ivec2(objectVariable(4), objectVariable(5));
}
