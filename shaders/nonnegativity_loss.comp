#version 450
#extension GL_GOOGLE_include_directive : require
// First pass of Backend::nonnegativity_loss: with m = min(z, 0), ‖max(0, −z)‖² = Σ m² and
// ∂/∂z = 2m, so dz += weight·2m/N; per-workgroup Σ m² into partials (see reduce_partials).
#define DRMM_WORKGROUP_SUM
#include "common.glsl"
layout(local_size_x = LOCAL_SIZE_1D) in;
BUFFER_RO(0, z)
BUFFER_RW(1, dz)
BUFFER_WO(2, partials)
layout(push_constant) uniform Params { uint count; float grad_scale; } p;  // weight·2/N
void main() {
  float s = 0.0;
  GRID_STRIDE(i, p.count) {
    const float m = min(z[i], 0.0);
    s += m * m;
    dz[i] += p.grad_scale * m;
  }
  const float total = workgroup_sum(s);
  if (gl_LocalInvocationIndex == 0) partials[gl_WorkGroupID.x] = total;
}
