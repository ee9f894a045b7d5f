// The classifier and the DRMM losses (DESIGN.md §3.2; paper 002 eqs. 5–8). Sums are taken
// in double; the batch is small (N×C) so these run on one thread.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/backend/cpu/kernels.h"

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

template <class Real>
double squared_error(size_t count, const Real* a, const Real* b, Real scale, Real* da) {
  double sum = 0;
  for (size_t i = 0; i < count; ++i) {
    const Real d = a[i] - b[i];
    sum += double(d) * double(d);
    da[i] += scale * 2 * d;
  }
  return sum;
}

template <class Real>
double negative_part_squared(size_t count, const Real* z, Real scale, Real* dz) {
  double sum = 0;
  for (size_t i = 0; i < count; ++i) {
    const Real neg = std::min(z[i], Real(0));
    sum += double(neg) * double(neg);
    dz[i] += scale * 2 * neg;
  }
  return sum;
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
