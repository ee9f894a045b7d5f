#version 450
#extension GL_GOOGLE_include_directive : require
// Backend::channel_sum, one workgroup per channel: dbias[c] (+)= Σ_{n,h,w} dy[n,c,h,w], the
// gradient of add_channel_bias.
#include "batchnorm_common.glsl"
BUFFER_RO(0, dy)
BUFFER_RW(1, dbias)
layout(push_constant) uniform Params { uint batch, channels, hw, accumulate; } p;
void main() {
  const uint c = gl_WorkGroupID.x;
  float s = 0.0;
  CHANNEL_LOOP(j) { s += dy[CHANNEL_INDEX(j, c)]; }
  const float total = workgroup_sum(s);
  if (gl_LocalInvocationIndex == 0) dbias[c] = p.accumulate != 0 ? dbias[c] + total : total;
}
