#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Backend::axpy: y += alpha·x.
layout(local_size_x = LOCAL_SIZE_1D) in;
BUFFER_RO(0, x)
BUFFER_RW(1, y)
layout(push_constant) uniform Params { uint count; float alpha; } p;
void main() {
  GRID_STRIDE(i, p.count) { y[i] += p.alpha * x[i]; }
}
