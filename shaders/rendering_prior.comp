#version 450
#extension GL_GOOGLE_include_directive : require
// First pass of Backend::rendering_prior (paper 004 eq. 1, 10): per-workgroup Σ b_c·m into
// partials (see reduce_partials), and dz += grad_scale·b_c·a with grad_scale = sign·weight/count.
#define DRMM_WORKGROUP_SUM
#include "common.glsl"
layout(local_size_x = LOCAL_SIZE_1D) in;
BUFFER_RO(0, masked)
BUFFER_RO(1, mask)
BUFFER_RO(2, bias)
BUFFER_RW(3, dz)
BUFFER_WO(4, partials)
layout(push_constant) uniform Params { uint count; float grad_scale; uint channels, hw; } p;
void main() {
  float s = 0.0;
  GRID_STRIDE(i, p.count) {
    const float b = bias[(i / p.hw) % p.channels];
    s += b * masked[i];
    dz[i] += p.grad_scale * b * mask[i];
  }
  const float total = workgroup_sum(s);
  if (gl_LocalInvocationIndex == 0) partials[gl_WorkGroupID.x] = total;
}
