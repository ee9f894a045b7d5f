#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Backend::maxpool: one invocation per output element scans its K×K window row-major and
// keeps the first maximum (strict >), so the switch is the first position attaining it.
layout(local_size_x = LOCAL_SIZE_1D) in;
layout(constant_id = 0) const int K = 2;
BUFFER_RO(0, x)
BUFFER_WO(1, y)
BUFFER_WO(2, switches)
layout(push_constant) uniform Params { uint count; int ho, wo; } p;  // count = N·C·Ho·Wo
void main() {
  GRID_STRIDE(i, p.count) {
    const int o = int(i), plane = o / (p.ho * p.wo), q = o - plane * p.ho * p.wo;
    const int oy = q / p.wo, ox = q - oy * p.wo, w = p.wo * K;
    const int base = (plane * p.ho * K + oy * K) * w + ox * K;
    int best = base;
    float best_v = x[base];
    for (int dy = 0; dy < K; ++dy)
      for (int dx = 0; dx < K; ++dx) {
        const int at = base + dy * w + dx;
        const float v = x[at];
        if (v > best_v) { best_v = v; best = at; }
      }
    y[o] = best_v;
    for (int dy = 0; dy < K; ++dy)
      for (int dx = 0; dx < K; ++dx) {
        const int at = base + dy * w + dx;
        switches[at] = at == best ? 1.0 : 0.0;
      }
  }
}
