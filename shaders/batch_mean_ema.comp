#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Backend::batch_mean_ema: ema = decay·ema + (1−decay)·mean_n x[n], per C·H·W element.
layout(local_size_x = LOCAL_SIZE_1D) in;
BUFFER_RO(0, x)
BUFFER_RW(1, ema)
layout(push_constant) uniform Params { uint per_image, batch; float decay; } p;
void main() {
  GRID_STRIDE(i, p.per_image) {
    float s = 0.0;
    for (uint n = 0; n < p.batch; ++n) s += x[n * p.per_image + i];
    ema[i] = p.decay * ema[i] + (1.0 - p.decay) * (s / float(p.batch));
  }
}
