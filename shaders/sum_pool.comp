#version 450
#extension GL_GOOGLE_include_directive : require
// Backend::sum_pool (see pool_reduce.glsl).
#define HAS_MASK 0
#include "pool_reduce.glsl"
