#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Backend::relu: y = max(x, 0), mask = [x > 0] (the DRMM's a latent).
layout(local_size_x = LOCAL_SIZE_1D) in;
BUFFER_RO(0, x)
BUFFER_WO(1, y)
BUFFER_WO(2, mask)
layout(push_constant) uniform Params { uint count; } p;
void main() {
  GRID_STRIDE(i, p.count) {
    const float v = x[i];
    const bool on = v > 0.0;
    y[i] = on ? v : 0.0;
    mask[i] = on ? 1.0 : 0.0;
  }
}
