#version 450
#extension GL_GOOGLE_include_directive : require
// Backend::unpool (see pool_expand.glsl).
#define HAS_MASK 1
#include "pool_expand.glsl"
