#version 450
#extension GL_GOOGLE_include_directive : require
// Backend::kl_loss, one workgroup for the batch (the loss is a mean over it). Per row, with
// f(q) = sign·Σ_c q_c·log(C·q_c + 1e−8) (sign −1: the authors' code, +1: paper 002 eq. 7):
//   g_c = ∂f/∂q_c = sign·(log(C·q_c + 1e−8) + C·q_c/(C·q_c + 1e−8)),
// and through q = softmax(s):  ∂f/∂s_j = q_j·(g_j − Σ_c q_c·g_c).
#define DRMM_WORKGROUP_SUM
#include "common.glsl"
layout(local_size_x = LOCAL_SIZE_1D) in;
BUFFER_RO(0, q)
BUFFER_WO(1, loss)
BUFFER_RW(2, dlogits)
layout(push_constant) uniform Params { uint batch, classes; float weight, sign; } p;
void main() {
  const float C = float(p.classes);
  float f_sum = 0.0;
  for (uint n = gl_LocalInvocationIndex; n < p.batch; n += LOCAL_SIZE_1D) {
    const uint row = n * p.classes;
    float qg = 0.0;
    for (uint c = 0; c < p.classes; ++c) {
      const float qc = q[row + c], cq = C * qc;
      f_sum += p.sign * qc * log(cq + 1e-8);
      qg += qc * p.sign * (log(cq + 1e-8) + cq / (cq + 1e-8));
    }
    const float scale = p.weight / float(p.batch);
    for (uint c = 0; c < p.classes; ++c) {
      const float qc = q[row + c], cq = C * qc;
      const float g = p.sign * (log(cq + 1e-8) + cq / (cq + 1e-8));
      dlogits[row + c] += scale * qc * (g - qg);
    }
  }
  const float total = workgroup_sum(f_sum);
  if (gl_LocalInvocationIndex == 0) loss[0] = total / float(p.batch);
}
