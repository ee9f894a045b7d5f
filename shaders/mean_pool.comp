#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Backend::mean_pool: y[n,c] = mean over the H×W plane; one invocation per plane (the
// planes it pools in the DRMM are 6×6, far too small to split across a workgroup).
layout(local_size_x = LOCAL_SIZE_1D) in;
BUFFER_RO(0, x)
BUFFER_WO(1, y)
layout(push_constant) uniform Params { uint planes; uint hw; } p;
void main() {
  GRID_STRIDE(i, p.planes) {
    float s = 0.0;
    for (uint j = 0; j < p.hw; ++j) s += x[i * p.hw + j];
    y[i] = s / float(p.hw);
  }
}
