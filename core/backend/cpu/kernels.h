#pragma once
// The cpu backend's non-convolution kernels on raw arrays. Each works on a range of planes,
// channels or elements so the backend can split the work across threads; the backend checks
// shapes before it calls them. Formulas follow core/backend/backend.h.
#include <cstddef>

namespace drmm::cpu {

// A stack of `planes` non-overlapping-window poolings: the big side is h×w, the pooled side
// (h/k)×(w/k); h and w are multiples of k (checked by the backend).
struct PoolGeometry {
  int h = 1, w = 1, k = 1;
  size_t big_plane() const { return size_t(h) * size_t(w); }
  size_t small_plane() const { return size_t(h / k) * size_t(w / k); }
};

// ---- pooling (pool.cpp) ---------------------------------------------------------------
template <class Real>
void maxpool(const PoolGeometry& g, size_t planes, const Real* x, Real* y, Real* switches);
template <class Real>
void unpool(const PoolGeometry& g, size_t planes, const Real* y, const Real* switches, Real* x);
template <class Real>
void unpool_backward(const PoolGeometry& g, size_t planes, const Real* dx, const Real* switches, Real* dy);
template <class Real>
void upsample(const PoolGeometry& g, size_t planes, const Real* x, Real* y);
template <class Real>
void sum_pool(const PoolGeometry& g, size_t planes, const Real* x, Real* y);
// y[p] = mean of plane p (`plane` values each), and its adjoint dx[p, ·] = dy[p] / plane.
template <class Real>
void mean_pool(size_t planes, size_t plane, const Real* x, Real* y);
template <class Real>
void mean_pool_backward(size_t planes, size_t plane, const Real* dy, Real* dx);

// ---- batch normalisation (norm.cpp), channels [c0, c1) of an n×C×plane tensor -----------
struct NormGeometry {
  int n = 1, c = 1;
  size_t plane = 1;
  size_t at(int image, int channel) const { return (size_t(image) * size_t(c) + size_t(channel)) * plane; }
};
template <class Real>
void batchnorm_train(const NormGeometry& g, int c0, int c1, const Real* x, const Real* gamma, const Real* beta,
                     Real momentum, Real eps, Real* running_mean, Real* running_var, Real* y, Real* saved_mean,
                     Real* saved_inv_std);
template <class Real>
void batchnorm_infer(const NormGeometry& g, int c0, int c1, const Real* x, const Real* gamma, const Real* beta,
                     const Real* running_mean, const Real* running_var, Real eps, Real* y);
template <class Real>
void batchnorm_backward(const NormGeometry& g, int c0, int c1, const Real* dy, const Real* x, const Real* gamma,
                        const Real* saved_mean, const Real* saved_inv_std, Real* dx, Real* dgamma, Real* dbeta);

// ---- classifier and losses (loss.cpp); logits and q are n×classes row-major ------------
template <class Real>
void softmax(int n, int classes, const Real* logits, Real* q);
// Returns L_H; adds weight·∂L_H/∂logits into dlogits. labels < 0 are unlabeled.
template <class Real>
double cross_entropy(int n, int classes, const Real* q, const Real* labels, Real weight, Real* dlogits);
template <class Real>
double kl_loss(int n, int classes, const Real* q, bool paper_sign, Real weight, Real* dlogits);
// Σ (a−b)² over [0, count), adding scale·2(a−b) into da.
template <class Real>
double squared_error(size_t count, const Real* a, const Real* b, Real scale, Real* da);
// Σ min(z, 0)² over [0, count), adding scale·2·min(z, 0) into dz.
template <class Real>
double negative_part_squared(size_t count, const Real* z, Real scale, Real* dz);

// ---- optimisers and statistics (optim.cpp), elements [0, count) -------------------
template <class Real>
void sgd_step(size_t count, Real* param, const Real* grad, Real* velocity, Real lr, Real momentum);
template <class Real>
void adam_step(size_t count, Real* param, const Real* grad, Real* m, Real* v, Real lr, Real beta1, Real beta2,
               Real eps, int step);
// ema[i] = decay·ema[i] + (1−decay)·mean over n images of x[img·stride + i], i < count.
template <class Real>
void batch_mean_ema(int n, size_t stride, size_t count, const Real* x, Real decay, Real* ema);

}  // namespace drmm::cpu
