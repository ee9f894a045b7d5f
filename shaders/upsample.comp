#version 450
#extension GL_GOOGLE_include_directive : require
// Backend::upsample (see pool_expand.glsl).
#define HAS_MASK 0
#include "pool_expand.glsl"
