#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Backend::mean_pool_backward: dx[n,c,·,·] = dy[n,c] / (H·W).
layout(local_size_x = LOCAL_SIZE_1D) in;
BUFFER_RO(0, dy)
BUFFER_WO(1, dx)
layout(push_constant) uniform Params { uint count; uint hw; } p;
void main() {
  GRID_STRIDE(i, p.count) { dx[i] = dy[i / p.hw] / float(p.hw); }
}
