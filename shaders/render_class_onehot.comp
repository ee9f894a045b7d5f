#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Backend::render_class_onehot on the device, so the top-down pass needs no host round
// trip: per image, one-hot of labels[n] when use_labels and labels[n] >= 0, else of the
// first maximum of q[n, ·] (the same tie rule as std::max_element in the host default).
layout(local_size_x = LOCAL_SIZE_1D) in;
BUFFER_RO(0, q)
BUFFER_RO(1, labels)
BUFFER_WO(2, onehot)
layout(push_constant) uniform Params { uint batch, classes; int use_labels; } p;
void main() {
  GRID_STRIDE(n, p.batch) {
    const uint row = n * p.classes;
    uint best = 0;
    for (uint c = 1; c < p.classes; ++c)
      if (q[row + c] > q[row + best]) best = c;
    if (p.use_labels != 0 && labels[n] >= 0.0) best = uint(labels[n]);
    for (uint c = 0; c < p.classes; ++c) onehot[row + c] = c == best ? 1.0 : 0.0;
  }
}
