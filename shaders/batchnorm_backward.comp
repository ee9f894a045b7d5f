#version 450
#extension GL_GOOGLE_include_directive : require
// Backend::batchnorm_backward, one workgroup per channel. With x̂ = (x − mean)·inv_std:
//   dbeta += Σ dy,  dgamma += Σ dy·x̂,
//   dx = gamma·inv_std·(dy − Σdy/M − x̂·Σ(dy·x̂)/M)   (batch statistics depend on x).
#include "batchnorm_common.glsl"
BUFFER_RO(0, dy)
BUFFER_RO(1, x)
BUFFER_RO(2, gamma)
BUFFER_RO(3, saved_mean)
BUFFER_RO(4, saved_inv_std)
BUFFER_WO(5, dx)
BUFFER_RW(6, dgamma)
BUFFER_RW(7, dbeta)
layout(push_constant) uniform Params { uint batch, channels, hw; } p;
void main() {
  const uint c = gl_WorkGroupID.x;
  const float m = float(p.batch * p.hw), mean = saved_mean[c], inv_std = saved_inv_std[c];
  float s_dy = 0.0, s_dyx = 0.0;
  CHANNEL_LOOP(j) {
    const uint at = CHANNEL_INDEX(j, c);
    s_dy += dy[at];
    s_dyx += dy[at] * (x[at] - mean) * inv_std;
  }
  const float sum_dy = workgroup_sum(s_dy);
  const float sum_dyx = workgroup_sum(s_dyx);
  if (gl_LocalInvocationIndex == 0) {
    dbeta[c] += sum_dy;
    dgamma[c] += sum_dyx;
  }
  const float g = gamma[c] * inv_std;
  CHANNEL_LOOP(j) {
    const uint at = CHANNEL_INDEX(j, c);
    const float xhat = (x[at] - mean) * inv_std;
    dx[at] = g * (dy[at] - sum_dy / m - xhat * sum_dyx / m);
  }
}
