#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Backend::add_channel_bias: y[n,c,·,·] += bias[c] (a conv layer's bias; paper 004 eq. 7).
layout(local_size_x = LOCAL_SIZE_1D) in;
BUFFER_RW(0, y)
BUFFER_RO(1, bias)
layout(push_constant) uniform Params { uint count, channels, hw; } p;
void main() {
  GRID_STRIDE(i, p.count) { y[i] += bias[(i / p.hw) % p.channels]; }
}
