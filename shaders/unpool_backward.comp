#version 450
#extension GL_GOOGLE_include_directive : require
// Backend::unpool_backward (see pool_reduce.glsl).
#define HAS_MASK 1
#include "pool_reduce.glsl"
