// Helpers shared by the compute shaders (included, never compiled on its own).
// Conventions: tensors are dense NCHW float32 storage buffers; sizes and scalars arrive as
// push constants; 1-D kernels use 256 invocations and a grid-stride loop, so the host may
// cap the number of workgroups (maxComputeWorkGroupCount) without losing elements.
#ifndef DRMM_COMMON_GLSL
#define DRMM_COMMON_GLSL

#define BUFFER_RO(b, name) layout(std430, binding = b) readonly buffer name##_block { float name[]; };
#define BUFFER_RW(b, name) layout(std430, binding = b) buffer name##_block { float name[]; };
#define BUFFER_WO(b, name) layout(std430, binding = b) writeonly buffer name##_block { float name[]; };

#define LOCAL_SIZE_1D 256
#define GRID_STRIDE(i, n) \
  for (uint i = gl_GlobalInvocationID.x; i < uint(n); i += gl_NumWorkGroups.x * gl_WorkGroupSize.x)

// Sum of v over one 256-invocation workgroup, returned to every invocation. Tree order
// (not sequential) — the reason reductions differ from the cpu reference in the last bits.
// Must be reached in uniform control flow (it contains barriers).
#ifdef DRMM_WORKGROUP_SUM
shared float drmm_sum_scratch[LOCAL_SIZE_1D];
float workgroup_sum(float v) {
  const uint t = gl_LocalInvocationIndex;
  drmm_sum_scratch[t] = v;
  barrier();
  for (uint s = LOCAL_SIZE_1D / 2; s > 0; s >>= 1) {
    if (t < s) drmm_sum_scratch[t] += drmm_sum_scratch[t + s];
    barrier();
  }
  const float total = drmm_sum_scratch[0];
  barrier();  // the next call overwrites the scratch
  return total;
}
#endif

#endif
