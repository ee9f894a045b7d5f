#version 450
#extension GL_GOOGLE_include_directive : require
// Backend::cross_entropy, one workgroup for the whole batch because the loss and every
// gradient entry divide by |D_L|, the number of labeled rows (label >= 0), which only a
// reduction over the batch knows. Gradient of −log softmax(s)[label] w.r.t. s: q − onehot.
#define DRMM_WORKGROUP_SUM
#include "common.glsl"
layout(local_size_x = LOCAL_SIZE_1D) in;
BUFFER_RO(0, q)
BUFFER_RO(1, labels)
BUFFER_WO(2, loss)
BUFFER_RW(3, dlogits)
layout(push_constant) uniform Params { uint batch, classes; float weight; } p;
void main() {
  float nll = 0.0, labeled = 0.0;
  for (uint n = gl_LocalInvocationIndex; n < p.batch; n += LOCAL_SIZE_1D) {
    const int label = int(labels[n]);
    if (label < 0) continue;
    // A label that is no class would read past q's row: it is not read, and it makes the loss
    // NaN, which the trainer reports (the cpu backend throws; a shader cannot).
    if (label >= int(p.classes)) {
      nll += uintBitsToFloat(0x7fc00000u);
      continue;
    }
    // A q that underflowed to 0 counts as the smallest normal float (as the cpu reference):
    // one saturated image gives a large finite loss, not inf for the whole batch.
    nll -= log(max(q[n * p.classes + uint(label)], 1.17549435e-38));
    labeled += 1.0;
  }
  const float total = workgroup_sum(nll);
  const float count = workgroup_sum(labeled);
  if (gl_LocalInvocationIndex == 0) loss[0] = count > 0.0 ? total / count : 0.0;
  if (count == 0.0) return;
  const float g = p.weight / count;
  for (uint n = gl_LocalInvocationIndex; n < p.batch; n += LOCAL_SIZE_1D) {
    const int label = int(labels[n]);
    if (label < 0 || label >= int(p.classes)) continue;
    for (uint c = 0; c < p.classes; ++c) {
      const uint at = n * p.classes + c;
      dlogits[at] += g * (q[at] - (int(c) == label ? 1.0 : 0.0));
    }
  }
}
