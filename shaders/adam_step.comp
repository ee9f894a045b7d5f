#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Backend::adam_step (Kingma & Ba 2015, Alg. 1). The bias corrections 1 − β^t depend only
// on the step, so the host computes them once (push constants bc1, bc2).
layout(local_size_x = LOCAL_SIZE_1D) in;
BUFFER_RW(0, param)
BUFFER_RO(1, grad)
BUFFER_RW(2, m)
BUFFER_RW(3, v)
layout(push_constant) uniform Params { uint count; float lr, beta1, beta2, eps, bc1, bc2; } p;
void main() {
  GRID_STRIDE(i, p.count) {
    const float g = grad[i];
    const float mi = p.beta1 * m[i] + (1.0 - p.beta1) * g;
    const float vi = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] -= p.lr * (mi / p.bc1) / (sqrt(vi / p.bc2) + p.eps);
  }
}
