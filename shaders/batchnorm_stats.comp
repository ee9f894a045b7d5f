#version 450
#extension GL_GOOGLE_include_directive : require
// The statistics half of Backend::batchnorm_train, one workgroup per channel: batch mean,
// variance in a second pass over the data (numerically safer than E[x²] − E[x]², and the
// cpu reference does the same), saved_inv_std = 1/sqrt(var_biased + eps), and the running
// averages with the unbiased variance (backend.h).
#include "batchnorm_common.glsl"
BUFFER_RO(0, x)
BUFFER_RW(1, running_mean)
BUFFER_RW(2, running_var)
BUFFER_WO(3, saved_mean)
BUFFER_WO(4, saved_inv_std)
layout(push_constant) uniform Params { uint batch, channels, hw; float momentum, eps; } p;
void main() {
  const uint c = gl_WorkGroupID.x;
  const float m = float(p.batch * p.hw);
  float s = 0.0;
  CHANNEL_LOOP(j) { s += x[CHANNEL_INDEX(j, c)]; }
  const float mean = workgroup_sum(s) / m;
  float s2 = 0.0;
  CHANNEL_LOOP(j) {
    const float d = x[CHANNEL_INDEX(j, c)] - mean;
    s2 += d * d;
  }
  const float ss = workgroup_sum(s2);
  if (gl_LocalInvocationIndex == 0) {
    saved_mean[c] = mean;
    saved_inv_std[c] = 1.0 / sqrt(ss / m + p.eps);
    const float unbiased = m > 1.0 ? ss / (m - 1.0) : 0.0;
    running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * mean;
    running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * unbiased;
  }
}
