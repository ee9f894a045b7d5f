#version 450
#extension GL_GOOGLE_include_directive : require
// Second pass of the summed losses: loss[0] = (accumulate ? loss[0] : 0) + scale·Σ partials.
#define DRMM_WORKGROUP_SUM
#include "common.glsl"
layout(local_size_x = LOCAL_SIZE_1D) in;
BUFFER_RO(0, partials)
BUFFER_RW(1, loss)
layout(push_constant) uniform Params { uint count; float scale; int accumulate; } p;
void main() {
  float s = 0.0;
  for (uint i = gl_LocalInvocationIndex; i < p.count; i += LOCAL_SIZE_1D) s += partials[i];
  const float total = workgroup_sum(s);
  if (gl_LocalInvocationIndex == 0) loss[0] = (p.accumulate != 0 ? loss[0] : 0.0) + p.scale * total;
}
