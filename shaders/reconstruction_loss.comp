#version 450
#extension GL_GOOGLE_include_directive : require
// First pass of Backend::reconstruction_loss: da += weight·2(a − b)/N elementwise, and
// each workgroup's Σ(a − b)² into partials[workgroup]; reduce_partials.comp adds those up
// (two passes in a fixed order instead of float atomics: deterministic, and core Vulkan 1.1).
#define DRMM_WORKGROUP_SUM
#include "common.glsl"
layout(local_size_x = LOCAL_SIZE_1D) in;
BUFFER_RO(0, a)
BUFFER_RO(1, b)
BUFFER_RW(2, da)
BUFFER_WO(3, partials)
layout(push_constant) uniform Params { uint count; float grad_scale; } p;  // weight·2/N
void main() {
  float s = 0.0;
  GRID_STRIDE(i, p.count) {
    const float d = a[i] - b[i];
    s += d * d;
    da[i] += p.grad_scale * d;
  }
  const float total = workgroup_sum(s);
  if (gl_LocalInvocationIndex == 0) partials[gl_WorkGroupID.x] = total;
}
