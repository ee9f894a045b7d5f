#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Backend::sgd_step: v = momentum·v − lr·g; p += v.
layout(local_size_x = LOCAL_SIZE_1D) in;
BUFFER_RW(0, param)
BUFFER_RO(1, grad)
BUFFER_RW(2, velocity)
layout(push_constant) uniform Params { uint count; float lr, momentum; } p;
void main() {
  GRID_STRIDE(i, p.count) {
    const float v = p.momentum * velocity[i] - p.lr * grad[i];
    velocity[i] = v;
    param[i] += v;
  }
}
