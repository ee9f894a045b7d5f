// coarse[n,c,y,x] = Σ over the K×K window of fine (⊙ mask when HAS_MASK):
// Backend::sum_pool and Backend::unpool_backward, the adjoints of pool_expand.glsl.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = LOCAL_SIZE_1D) in;
layout(constant_id = 0) const int K = 2;
BUFFER_RO(0, fine)
BUFFER_WO(1, coarse)
#if HAS_MASK
BUFFER_RO(2, mask)
#endif
layout(push_constant) uniform Params { uint count; int ho, wo; } p;  // count, Ho, Wo of coarse
void main() {
  GRID_STRIDE(i, p.count) {
    const int o = int(i), plane = o / (p.ho * p.wo), q = o - plane * p.ho * p.wo;
    const int oy = q / p.wo, ox = q - oy * p.wo, w = p.wo * K;
    const int base = (plane * p.ho * K + oy * K) * w + ox * K;
    float s = 0.0;
    for (int dy = 0; dy < K; ++dy)
      for (int dx = 0; dx < K; ++dx) {
        const int at = base + dy * w + dx;
#if HAS_MASK
        s += fine[at] * mask[at];
#else
        s += fine[at];
#endif
      }
    coarse[o] = s;
  }
}
