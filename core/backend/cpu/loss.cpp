// The classifier and the DRMM losses (DESIGN.md §3.2; paper 002 eqs. 5–8). Sums are taken
// in double. The classifier's losses see only N×C values and run on one thread; the two
// image-sized losses work on a range so the backend can split them.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/backend/cpu/kernels.h"
#include "core/backend/cpu/simd.h"

namespace drmm::cpu {

namespace {
// log q for q that underflowed to 0 in float: the smallest normal instead of −∞, so one
// saturated image gives a large finite loss rather than inf/NaN for the whole run.
template <class Real>
double safe_log(Real q) {
  return std::log(std::max(double(q), double(std::numeric_limits<Real>::min())));
}
}  // namespace

// Stable softmax: subtracting the row max leaves q unchanged and keeps exp() ≤ 1.
template <class Real>
void softmax(int n, int classes, const Real* logits, Real* q) {
  for (int i = 0; i < n; ++i) {
    const Real* s = logits + size_t(i) * classes;
    Real* out = q + size_t(i) * classes;
    const double top = *std::max_element(s, s + classes);
    double sum = 0;
    for (int c = 0; c < classes; ++c) sum += std::exp(double(s[c]) - top);
    for (int c = 0; c < classes; ++c) out[c] = Real(std::exp(double(s[c]) - top) / sum);
  }
}

// L_H = −(1/|D_L|) Σ_{n∈D_L} log q[n, label_n]; through the softmax,
// ∂L_H/∂logit[n,c] = (q[n,c] − [c = label_n]) / |D_L| for labeled n, 0 otherwise.
template <class Real>
double cross_entropy(int n, int classes, const Real* q, const Real* labels, Real weight, Real* dlogits) {
  int labeled = 0;
  for (int i = 0; i < n; ++i) labeled += labels[i] >= 0;
  if (labeled == 0) return 0;
  double loss = 0;
  const double scale = double(weight) / labeled;
  for (int i = 0; i < n; ++i) {
    if (labels[i] < 0) continue;
    const int label = int(labels[i]);
    const Real* qi = q + size_t(i) * classes;
    loss -= safe_log(qi[label]);
    for (int c = 0; c < classes; ++c)
      dlogits[size_t(i) * classes + c] += Real(scale * (double(qi[c]) - (c == label ? 1.0 : 0.0)));
  }
  return loss / labeled;
}

// L_KL = (1/N) Σ_n f(q_n), f(q) = Σ_c s·q_c·log(C·q_c + 1e−8), s = −1 (authors' code) or +1
// (paper 002 eq. 7). df/dq_c = s·(log(C q_c + 1e−8) + C q_c/(C q_c + 1e−8)); the softmax
// Jacobian turns that into dlogit_c = q_c·(df/dq_c − Σ_j q_j df/dq_j).
template <class Real>
double kl_loss(int n, int classes, const Real* q, bool paper_sign, Real weight, Real* dlogits) {
  constexpr double kFloor = 1e-8;
  const double s = paper_sign ? 1.0 : -1.0, count = classes;
  const double scale = double(weight) / n;
  double loss = 0;
  std::vector<double> df(static_cast<size_t>(classes));
  for (int i = 0; i < n; ++i) {
    const Real* qi = q + size_t(i) * classes;
    double mean_df = 0;
    for (int c = 0; c < classes; ++c) {
      const double cq = count * double(qi[c]), log_term = std::log(cq + kFloor);
      loss += s * double(qi[c]) * log_term;
      df[size_t(c)] = s * (log_term + cq / (cq + kFloor));
      mean_df += double(qi[c]) * df[size_t(c)];
    }
    for (int c = 0; c < classes; ++c)
      dlogits[size_t(i) * classes + c] += Real(scale * double(qi[c]) * (df[size_t(c)] - mean_df));
  }
  return loss / n;
}

// The two elementwise losses below run over whole images: blocks small enough to stay in L1,
// the gradient update in the tensor's precision (vectorised by the compiler) and the sum in
// four double lanes.
constexpr size_t kLossBlock = 1024;

template <class Real>
double squared_error(size_t count, const Real* a, const Real* b, Real scale, Real* da) {
  D4 acc{};
  double tail = 0;
  const Real s2 = scale * 2;
  for (size_t b0 = 0; b0 < count; b0 += kLossBlock) {
    const size_t end = std::min(count, b0 + kLossBlock);
    for (size_t i = b0; i < end; ++i) da[i] += s2 * (a[i] - b[i]);
    size_t i = b0;
    for (; i + 4 <= end; i += 4) {
      const D4 d = load_d4(a + i) - load_d4(b + i);
      acc += d * d;
    }
    for (; i < end; ++i) tail += (double(a[i]) - double(b[i])) * (double(a[i]) - double(b[i]));
  }
  return sum_lanes(acc) + tail;
}

template <class Real>
double negative_part_squared(size_t count, const Real* z, Real scale, Real* dz) {
  D4 acc{};
  double tail = 0;
  const Real s2 = scale * 2;
  for (size_t b0 = 0; b0 < count; b0 += kLossBlock) {
    const size_t end = std::min(count, b0 + kLossBlock);
    for (size_t i = b0; i < end; ++i) dz[i] += s2 * (z[i] < 0 ? z[i] : Real(0));
    size_t i = b0;
    for (; i + 4 <= end; i += 4) {
      const D4 v = load_d4(z + i), neg = v < 0 ? v : D4{};
      acc += neg * neg;
    }
    for (; i < end; ++i) tail += z[i] < 0 ? double(z[i]) * double(z[i]) : 0.0;
  }
  return sum_lanes(acc) + tail;
}

#define DRMM_INSTANTIATE(Real)                                                                 \
  template void softmax<Real>(int, int, const Real*, Real*);                                   \
  template double cross_entropy<Real>(int, int, const Real*, const Real*, Real, Real*);        \
  template double kl_loss<Real>(int, int, const Real*, bool, Real, Real*);                     \
  template double squared_error<Real>(size_t, const Real*, const Real*, Real, Real*);          \
  template double negative_part_squared<Real>(size_t, const Real*, Real, Real*);
DRMM_INSTANTIATE(float)
DRMM_INSTANTIATE(double)
#undef DRMM_INSTANTIATE

}  // namespace drmm::cpu
