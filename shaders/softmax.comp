#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Backend::softmax over the C classes of each row; one invocation per image (C is 10).
// Subtracting the row max keeps exp() finite for any logits.
layout(local_size_x = LOCAL_SIZE_1D) in;
BUFFER_RO(0, logits)
BUFFER_WO(1, q)
layout(push_constant) uniform Params { uint batch, classes; } p;
void main() {
  GRID_STRIDE(n, p.batch) {
    const uint row = n * p.classes;
    float top = logits[row];
    for (uint c = 1; c < p.classes; ++c) top = max(top, logits[row + c]);
    float s = 0.0;
    for (uint c = 0; c < p.classes; ++c) s += exp(logits[row + c] - top);
    for (uint c = 0; c < p.classes; ++c) q[row + c] = exp(logits[row + c] - top) / s;
  }
}
