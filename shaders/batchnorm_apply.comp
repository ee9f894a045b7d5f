#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// y = gamma·(x − mean)·inv_std + beta per channel: the normalising half of
// Backend::batchnorm_train (mean, inv_std = the saved batch statistics) and all of
// Backend::batchnorm_infer (INFER = 1: binding 4 holds the running variance, turned into
// 1/sqrt(var + eps) here).
layout(local_size_x = LOCAL_SIZE_1D) in;
layout(constant_id = 0) const int INFER = 0;
BUFFER_RO(0, x)
BUFFER_RO(1, gamma)
BUFFER_RO(2, beta)
BUFFER_RO(3, mean)
BUFFER_RO(4, spread)  // inv_std, or the running variance when INFER
BUFFER_WO(5, y)
layout(push_constant) uniform Params { uint count, channels, hw; float eps; } p;
void main() {
  GRID_STRIDE(i, p.count) {
    const uint c = (i / p.hw) % p.channels;
    const float inv_std = INFER != 0 ? 1.0 / sqrt(spread[c] + p.eps) : spread[c];
    y[i] = gamma[c] * (x[i] - mean[c]) * inv_std + beta[c];
  }
}
