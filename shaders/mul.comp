#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Backend::mul: y = a ⊙ b. y may be the same buffer as a or b (each element is read before
// it is written, by the same invocation), so no binding is `restrict`.
layout(local_size_x = LOCAL_SIZE_1D) in;
BUFFER_RO(0, a)
BUFFER_RO(1, b)
BUFFER_RW(2, y)
layout(push_constant) uniform Params { uint count; } p;
void main() {
  GRID_STRIDE(i, p.count) { y[i] = a[i] * b[i]; }
}
