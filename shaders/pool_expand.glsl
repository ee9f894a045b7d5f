// fine[n,c,y,x] = coarse[n,c,y/K,x/K] (⊙ mask[n,c,y,x] when HAS_MASK): Backend::upsample and
// Backend::unpool, one invocation per fine element. Included by upsample.comp / unpool.comp,
// which define HAS_MASK (a #define, not a specialization constant, so that upsample's
// pipeline layout has no mask binding at all).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = LOCAL_SIZE_1D) in;
layout(constant_id = 0) const int K = 2;
BUFFER_RO(0, coarse)
BUFFER_WO(1, fine)
#if HAS_MASK
BUFFER_RO(2, mask)
#endif
layout(push_constant) uniform Params { uint count; int h, w; } p;  // count, H, W of fine
void main() {
  GRID_STRIDE(i, p.count) {
    const int f = int(i), plane = f / (p.h * p.w), q = f - plane * p.h * p.w;
    const int fy = q / p.w, fx = q - fy * p.w, wc = p.w / K;
    const float v = coarse[(plane * (p.h / K) + fy / K) * wc + fx / K];
#if HAS_MASK
    fine[f] = v * mask[f];
#else
    fine[f] = v;
#endif
  }
}
