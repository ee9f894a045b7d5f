// Indexing for per-channel batch-norm kernels: one workgroup per channel c walks the
// M = N·H·W values of that channel; value j sits at ((n·C + c)·HW + s), n = j / HW.
#define DRMM_WORKGROUP_SUM
#include "common.glsl"
layout(local_size_x = LOCAL_SIZE_1D) in;
#define CHANNEL_INDEX(j, c) ((((j) / p.hw) * p.channels + (c)) * p.hw + (j) % p.hw)
#define CHANNEL_LOOP(j) for (uint j = gl_LocalInvocationIndex; j < p.batch * p.hw; j += LOCAL_SIZE_1D)
