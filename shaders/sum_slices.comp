#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// dst[i] (+)= Σ_s slices[s·count + i]: the second half of a split-K GEMM (conv_gemm.comp),
// summed in a fixed order so results do not depend on scheduling.
layout(local_size_x = LOCAL_SIZE_1D) in;
BUFFER_RO(0, slices)
BUFFER_RW(1, dst)
layout(push_constant) uniform Params { uint count; uint num_slices; int accumulate; } p;
void main() {
  GRID_STRIDE(i, p.count) {
    float s = p.accumulate != 0 ? dst[i] : 0.0;
    for (uint z = 0; z < p.num_slices; ++z) s += slices[z * p.count + i];
    dst[i] = s;
  }
}
