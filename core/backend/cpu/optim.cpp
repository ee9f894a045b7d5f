#include <algorithm>
// Parameter updates and running statistics, elementwise.
#include <cmath>

#include "core/backend/cpu/kernels.h"

namespace drmm::cpu {

// Heavy-ball momentum as backend.h states it: v = μ·v − lr·g; p += v.
template <class Real>
void sgd_step(size_t count, Real* param, const Real* grad, Real* velocity, Real lr, Real momentum) {
  for (size_t i = 0; i < count; ++i) {
    velocity[i] = momentum * velocity[i] - lr * grad[i];
    param[i] += velocity[i];
  }
}

// Kingma & Ba 2015, Alg. 1: m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²;
// p −= lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + ε).
template <class Real>
void adam_step(size_t count, Real* param, const Real* grad, Real* m, Real* v, Real lr, Real beta1, Real beta2,
               Real eps, int step) {
  const Real correct1 = Real(1 - std::pow(double(beta1), step)), correct2 = Real(1 - std::pow(double(beta2), step));
  for (size_t i = 0; i < count; ++i) {
    m[i] = beta1 * m[i] + (1 - beta1) * grad[i];
    v[i] = beta2 * v[i] + (1 - beta2) * grad[i] * grad[i];
    param[i] -= lr * (m[i] / correct1) / (std::sqrt(v[i] / correct2) + eps);
  }
}

template <class Real>
void batch_mean_ema(int n, size_t stride, size_t count, const Real* x, Real decay, Real* ema) {
  // Blocks of values, images in the outer loop: each image's block is one contiguous read
  // (a column walk down the batch would touch a new cache line per value). Each value's sum
  // still runs over the images in order.
  constexpr size_t kBlock = 512;
  double sum[kBlock];
  for (size_t b = 0; b < count; b += kBlock) {
    const size_t len = std::min(kBlock, count - b);
    std::fill_n(sum, len, 0.0);
    for (int img = 0; img < n; ++img) {
      const Real* row = x + size_t(img) * stride + b;
      for (size_t i = 0; i < len; ++i) sum[i] += row[i];
    }
    for (size_t i = 0; i < len; ++i)
      ema[b + i] = Real(double(decay) * ema[b + i] + (1 - double(decay)) * sum[i] / n);
  }
}

#define DRMM_INSTANTIATE(Real)                                                                           \
  template void sgd_step<Real>(size_t, Real*, const Real*, Real*, Real, Real);                           \
  template void adam_step<Real>(size_t, Real*, const Real*, Real*, Real*, Real, Real, Real, Real, int);  \
  template void batch_mean_ema<Real>(int, size_t, size_t, const Real*, Real, Real*);
DRMM_INSTANTIATE(float)
DRMM_INSTANTIATE(double)
#undef DRMM_INSTANTIATE

}  // namespace drmm::cpu
