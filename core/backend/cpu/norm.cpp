// Batch normalisation per channel over (N, H, W): Ioffe & Szegedy 2015, Alg. 1 (forward)
// and the gradient of §3 of the same paper. Sums are taken in double so that a float
// channel of 10⁵ values keeps its digits.
#include <cmath>

#include "core/backend/cpu/kernels.h"
#include "core/backend/cpu/simd.h"

namespace drmm::cpu {

namespace {

// Calls fn(v) with a pointer to each image's plane of channel c, then returns.
template <class Fn>
void for_each_plane(const NormGeometry& g, int c, Fn&& fn) {
  for (int img = 0; img < g.n; ++img) fn(g.at(img, c));
}

// Σ f(i) over i < n, f giving four lanes at a time (D4) or one value (double) for the tail.
template <class Lanes, class One>
double sum_plane(size_t n, Lanes&& lanes, One&& one) {
  D4 acc0{}, acc1{};  // two chains: the adds' latency, not their throughput, bounds one
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    acc0 += lanes(i);
    acc1 += lanes(i + 4);
  }
  for (; i + 4 <= n; i += 4) acc0 += lanes(i);
  double tail = 0;
  for (; i < n; ++i) tail += one(i);
  return sum_lanes(acc0 + acc1) + tail;
}

// The batch mean and (biased) variance of channel c; two passes for accuracy.
template <class Real>
void channel_moments(const NormGeometry& g, int c, const Real* x, double& mean, double& var) {
  const double count = double(g.n) * double(g.plane);
  double sum = 0, sq = 0;
  for_each_plane(g, c, [&](size_t at) {
    const Real* p = x + at;
    sum += sum_plane(g.plane, [&](size_t i) { return load_d4(p + i); }, [&](size_t i) { return double(p[i]); });
  });
  mean = sum / count;
  const D4 m4 = D4{} + mean;
  for_each_plane(g, c, [&](size_t at) {
    const Real* p = x + at;
    sq += sum_plane(
        g.plane,
        [&](size_t i) {
          const D4 d = load_d4(p + i) - m4;
          return d * d;
        },
        [&](size_t i) { return (p[i] - mean) * (p[i] - mean); });
  });
  var = sq / count;
}

// y = scale·x + shift over channel c (the normalisation folded into one affine map).
template <class Real>
void affine_channel(const NormGeometry& g, int c, const Real* x, Real scale, Real shift, Real* y) {
  for_each_plane(g, c, [&](size_t at) {
    for (size_t i = 0; i < g.plane; ++i) y[at + i] = scale * x[at + i] + shift;
  });
}

}  // namespace

template <class Real>
void batchnorm_train(const NormGeometry& g, int c0, int c1, const Real* x, const Real* gamma, const Real* beta,
                     Real momentum, Real eps, Real* running_mean, Real* running_var, Real* y, Real* saved_mean,
                     Real* saved_inv_std) {
  const double count = double(g.n) * double(g.plane);
  for (int c = c0; c < c1; ++c) {
    double mean, var;
    channel_moments(g, c, x, mean, var);
    const double inv_std = 1.0 / std::sqrt(var + double(eps));
    saved_mean[c] = Real(mean);
    saved_inv_std[c] = Real(inv_std);
    const double unbiased = count > 1 ? var * count / (count - 1) : var;
    running_mean[c] = Real((1 - double(momentum)) * running_mean[c] + double(momentum) * mean);
    running_var[c] = Real((1 - double(momentum)) * running_var[c] + double(momentum) * unbiased);
    const double scale = double(gamma[c]) * inv_std;
    affine_channel(g, c, x, Real(scale), Real(double(beta[c]) - scale * mean), y);
  }
}

template <class Real>
void batchnorm_infer(const NormGeometry& g, int c0, int c1, const Real* x, const Real* gamma, const Real* beta,
                     const Real* running_mean, const Real* running_var, Real eps, Real* y) {
  for (int c = c0; c < c1; ++c) {
    const double scale = double(gamma[c]) / std::sqrt(double(running_var[c]) + double(eps));
    affine_channel(g, c, x, Real(scale), Real(double(beta[c]) - scale * double(running_mean[c])), y);
  }
}

// With x̂ = (x − μ)/σ over m values: dβ = Σ dy, dγ = Σ dy·x̂,
// dx = γ/σ · (dy − dβ/m − x̂·dγ/m).
template <class Real>
void batchnorm_backward(const NormGeometry& g, int c0, int c1, const Real* dy, const Real* x, const Real* gamma,
                        const Real* saved_mean, const Real* saved_inv_std, Real* dx, Real* dgamma, Real* dbeta) {
  const double count = double(g.n) * double(g.plane);
  for (int c = c0; c < c1; ++c) {
    const double mean = saved_mean[c], inv_std = saved_inv_std[c];
    const D4 m4 = D4{} + mean;
    double sum_dy = 0, sum_dy_centered = 0;  // Σ dy and Σ dy·(x − μ); Σ dy·x̂ = the latter / σ
    for_each_plane(g, c, [&](size_t at) {
      const Real *d = dy + at, *v = x + at;
      sum_dy += sum_plane(g.plane, [&](size_t i) { return load_d4(d + i); }, [&](size_t i) { return double(d[i]); });
      sum_dy_centered += sum_plane(
          g.plane, [&](size_t i) { return load_d4(d + i) * (load_d4(v + i) - m4); },
          [&](size_t i) { return double(d[i]) * (double(v[i]) - mean); });
    });
    const double sum_dy_xhat = sum_dy_centered * inv_std;
    dgamma[c] += Real(sum_dy_xhat);
    dbeta[c] += Real(sum_dy);
    // dx = k·(dy − mean_dy − x̂·mean_dy_xhat) = k·dy + b·(x − μ) + a, with the coefficients in
    // double and the per-value work in the tensor's precision (vectorised).
    const double k = double(gamma[c]) * inv_std, mean_dy = sum_dy / count, mean_dy_xhat = sum_dy_xhat / count;
    const Real ka = Real(k), kb = Real(-k * inv_std * mean_dy_xhat), kc = Real(-k * mean_dy), mu = Real(mean);
    for_each_plane(g, c, [&](size_t at) {
      const Real *d = dy + at, *v = x + at;
      Real* o = dx + at;
      for (size_t i = 0; i < g.plane; ++i) o[i] = ka * d[i] + kb * (v[i] - mu) + kc;
    });
  }
}

#define DRMM_INSTANTIATE(Real)                                                                                  \
  template void batchnorm_train<Real>(const NormGeometry&, int, int, const Real*, const Real*, const Real*,    \
                                      Real, Real, Real*, Real*, Real*, Real*, Real*);                          \
  template void batchnorm_infer<Real>(const NormGeometry&, int, int, const Real*, const Real*, const Real*,    \
                                      const Real*, const Real*, Real, Real*);                                  \
  template void batchnorm_backward<Real>(const NormGeometry&, int, int, const Real*, const Real*, const Real*, \
                                         const Real*, const Real*, Real*, Real*, Real*);
DRMM_INSTANTIATE(float)
DRMM_INSTANTIATE(double)
#undef DRMM_INSTANTIATE

}  // namespace drmm::cpu
