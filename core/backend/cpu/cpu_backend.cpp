#include "core/backend/cpu/cpu_backend.h"

#include <algorithm>
#include <string>

#include "core/backend/cpu/aligned_buffer.h"
#include "core/backend/cpu/conv.h"
#include "core/backend/cpu/kernels.h"
#include "core/backend/op_checks.h"
#include "core/util/error.h"
#include "core/util/thread_pool.h"

namespace drmm {

namespace {

template <class Real>
class CpuStorage final : public Storage {
 public:
  explicit CpuStorage(size_t count) : buffer(count) { std::fill_n(buffer.data(), count, Real(0)); }
  cpu::AlignedBuffer<Real> buffer;
};

// The geometry of an op whose arguments Backend has checked (op_checks.h).
cpu::ConvGeometry conv_geometry(const Tensor& x, const Tensor& w, int pad) {
  const Shape& xs = x.shape();
  const Shape& ws = w.shape();
  return {xs.c, ws.n, xs.h, xs.w, ws.h, pad, conv_output_size(xs.h, ws.h, pad), conv_output_size(xs.w, ws.h, pad)};
}

cpu::PoolGeometry pool_geometry(const Tensor& big, int k) { return {big.shape().h, big.shape().w, k}; }

constexpr size_t kMinParallelWork = size_t(1) << 15;  // values; below this a wake-up costs more

}  // namespace

template <class Real>
CpuBackendT<Real>::CpuBackendT(int threads) : pool_(std::make_unique<ThreadPool>(threads)) {
  for (int t = 0; t < pool_->size(); ++t) workspaces_.push_back(std::make_unique<cpu::ConvWorkspace<Real>>());
}

template <class Real>
CpuBackendT<Real>::~CpuBackendT() = default;

template <class Real>
std::string CpuBackendT<Real>::name() const {
  return sizeof(Real) == sizeof(float) ? "cpu" : "cpu-f64";
}

template <class Real>
int CpuBackendT<Real>::threads() const {
  return pool_->size();
}

template <class Real>
Real* CpuBackendT<Real>::data(Tensor& t) const {
  auto* storage = dynamic_cast<CpuStorage<Real>*>(t.storage());
  if (!storage) throw Error(name() + ": tensor " + checks::describe(t) + " was not allocated by this backend");
  return storage->buffer.data();
}

template <class Real>
const Real* CpuBackendT<Real>::data(const Tensor& t) const {
  return data(const_cast<Tensor&>(t));
}

template <class Real>
template <class Fn>
void CpuBackendT<Real>::parallel(size_t count, size_t cost_per_item, Fn&& fn) {
  if (pool_->size() == 1 || count * cost_per_item < kMinParallelWork)
    fn(size_t(0), count, 0);
  else
    pool_->parallel_for(count, fn);
}

template <class Real>
template <class Fn>
double CpuBackendT<Real>::parallel_sum(size_t count, size_t cost_per_item, Fn&& fn) {
  std::vector<double> partial(workspaces_.size(), 0.0);
  parallel(count, cost_per_item, [&](size_t b, size_t e, int t) { partial[size_t(t)] = fn(b, e); });
  double sum = 0;
  for (double p : partial) sum += p;  // in worker order: the same result every run
  return sum;
}

// ---- memory ------------------------------------------------------------------------------

template <class Real>
Tensor CpuBackendT<Real>::run_alloc(Shape shape) {
  return Tensor(shape, std::make_shared<CpuStorage<Real>>(shape.count()));
}

template <class Real>
void CpuBackendT<Real>::run_upload(Tensor& dst, std::span<const float> src) {
  std::copy(src.begin(), src.end(), data(dst));
}

template <class Real>
std::vector<float> CpuBackendT<Real>::run_download(const Tensor& src) {
  const Real* p = data(src);
  return std::vector<float>(p, p + src.count());
}

template <class Real>
double CpuBackendT<Real>::run_read_scalar(const Tensor& t) {
  return double(data(t)[0]);
}

template <class Real>
void CpuBackendT<Real>::run_fill(Tensor& t, float value) {
  std::fill_n(data(t), t.count(), Real(value));
}

template <class Real>
void CpuBackendT<Real>::run_copy(const Tensor& src, Tensor& dst) {
  std::copy_n(data(src), src.count(), data(dst));
}

// ---- convolution -------------------------------------------------------------------------

template <class Real>
void CpuBackendT<Real>::run_conv2d(const Tensor& x, const Tensor& w, int pad, Tensor& y) {
  const auto g = conv_geometry(x, w, pad);
  const Real *xp = data(x), *wp = data(w);
  Real* yp = data(y);
  parallel(size_t(x.shape().n), g.out_image() * size_t(g.patch()), [&](size_t b, size_t e, int t) {
    cpu::conv_forward(g, xp + b * g.in_image(), wp, int(e - b), yp + b * g.out_image(), *workspaces_[size_t(t)]);
  });
}

template <class Real>
void CpuBackendT<Real>::run_conv2d_backward_input(const Tensor& dy, const Tensor& w, int pad, Tensor& dx,
                                                  bool accumulate) {
  const auto g = conv_geometry(dx, w, pad);
  const Real *dyp = data(dy), *wp = data(w);
  Real* dxp = data(dx);
  parallel(size_t(dx.shape().n), g.out_image() * size_t(g.patch()), [&](size_t b, size_t e, int t) {
    cpu::conv_backward_input(g, dyp + b * g.out_image(), wp, int(e - b), dxp + b * g.in_image(), accumulate,
                             *workspaces_[size_t(t)]);
  });
}

template <class Real>
void CpuBackendT<Real>::run_conv2d_backward_weight(const Tensor& x, const Tensor& dy, int pad, Tensor& dw,
                                                   bool accumulate) {
  const auto g = conv_geometry(x, dw, pad);
  const size_t size = dw.count();
  const Real *xp = data(x), *dyp = data(dy);
  // Each worker sums its images' gradients into its own buffer; the buffers are added up
  // afterwards in worker order, so the result does not depend on timing.
  std::vector<char> used(workspaces_.size(), 0);
  parallel(size_t(x.shape().n), g.out_image() * size_t(g.patch()), [&](size_t b, size_t e, int t) {
    auto& ws = *workspaces_[size_t(t)];
    ws.dw.reserve_discard(size);
    std::fill_n(ws.dw.data(), size, Real(0));
    cpu::conv_backward_weight(g, xp + b * g.in_image(), dyp + b * g.out_image(), int(e - b), ws.dw.data(), ws);
    used[size_t(t)] = 1;
  });
  Real* out = data(dw);
  if (!accumulate) std::fill_n(out, size, Real(0));
  for (size_t t = 0; t < workspaces_.size(); ++t)
    if (used[t])
      for (size_t i = 0; i < size; ++i) out[i] += workspaces_[t]->dw.data()[i];
}

template <class Real>
void CpuBackendT<Real>::run_add_channel_bias(Tensor& y, const Tensor& bias) {
  const Shape& s = y.shape();
  const size_t plane = s.plane();
  Real* yp = data(y);
  const Real* bp = data(bias);
  parallel(size_t(s.n) * size_t(s.c), plane, [&](size_t b, size_t e, int) {
    for (size_t map = b; map < e; ++map) {
      const Real v = bp[map % size_t(s.c)];
      for (Real *p = yp + map * plane, *end = p + plane; p != end; ++p) *p += v;
    }
  });
}

// Per channel, in image order: the sum does not depend on the thread count.
template <class Real>
void CpuBackendT<Real>::run_channel_sum(const Tensor& dy, Tensor& dbias, bool accumulate) {
  const Shape& s = dy.shape();
  const size_t plane = s.plane();
  const Real* dyp = data(dy);
  Real* out = data(dbias);
  parallel(size_t(s.c), plane * size_t(s.n), [&](size_t b, size_t e, int) {
    for (size_t c = b; c < e; ++c) {
      double sum = 0;
      for (int n = 0; n < s.n; ++n) {
        const Real* p = dyp + (size_t(n) * size_t(s.c) + c) * plane;
        for (size_t j = 0; j < plane; ++j) sum += double(p[j]);
      }
      out[c] = Real(accumulate ? double(out[c]) + sum : sum);
    }
  });
}

// ---- pooling -----------------------------------------------------------------------------

template <class Real>
void CpuBackendT<Real>::run_maxpool(const Tensor& x, int k, Tensor& y, Tensor& switches) {
  const auto g = pool_geometry(x, k);
  const Real* xp = data(x);
  Real *yp = data(y), *sp = data(switches);
  parallel(size_t(x.shape().n) * size_t(x.shape().c), g.big_plane(), [&](size_t b, size_t e, int) {
    cpu::maxpool(g, e - b, xp + b * g.big_plane(), yp + b * g.small_plane(), sp + b * g.big_plane());
  });
}

template <class Real>
void CpuBackendT<Real>::run_unpool(const Tensor& y, const Tensor& switches, int k, Tensor& x) {
  const auto g = pool_geometry(x, k);
  const Real *yp = data(y), *sp = data(switches);
  Real* xp = data(x);
  parallel(size_t(x.shape().n) * size_t(x.shape().c), g.big_plane(), [&](size_t b, size_t e, int) {
    cpu::unpool(g, e - b, yp + b * g.small_plane(), sp + b * g.big_plane(), xp + b * g.big_plane());
  });
}

template <class Real>
void CpuBackendT<Real>::run_unpool_backward(const Tensor& dx, const Tensor& switches, int k, Tensor& dy) {
  const auto g = pool_geometry(dx, k);
  const Real *dxp = data(dx), *sp = data(switches);
  Real* dyp = data(dy);
  parallel(size_t(dx.shape().n) * size_t(dx.shape().c), g.big_plane(), [&](size_t b, size_t e, int) {
    cpu::unpool_backward(g, e - b, dxp + b * g.big_plane(), sp + b * g.big_plane(), dyp + b * g.small_plane());
  });
}

template <class Real>
void CpuBackendT<Real>::run_upsample(const Tensor& x, int k, Tensor& y) {
  const auto g = pool_geometry(y, k);
  const Real* xp = data(x);
  Real* yp = data(y);
  parallel(size_t(y.shape().n) * size_t(y.shape().c), g.big_plane(), [&](size_t b, size_t e, int) {
    cpu::upsample(g, e - b, xp + b * g.small_plane(), yp + b * g.big_plane());
  });
}

template <class Real>
void CpuBackendT<Real>::run_sum_pool(const Tensor& x, int k, Tensor& y) {
  const auto g = pool_geometry(x, k);
  const Real* xp = data(x);
  Real* yp = data(y);
  parallel(size_t(x.shape().n) * size_t(x.shape().c), g.big_plane(), [&](size_t b, size_t e, int) {
    cpu::sum_pool(g, e - b, xp + b * g.big_plane(), yp + b * g.small_plane());
  });
}

template <class Real>
void CpuBackendT<Real>::run_mean_pool(const Tensor& x, Tensor& y) {
  const size_t plane = x.shape().plane();
  const Real* xp = data(x);
  Real* yp = data(y);
  parallel(size_t(x.shape().n) * size_t(x.shape().c), plane,
           [&](size_t b, size_t e, int) { cpu::mean_pool(e - b, plane, xp + b * plane, yp + b); });
}

template <class Real>
void CpuBackendT<Real>::run_mean_pool_backward(const Tensor& dy, Tensor& dx) {
  const size_t plane = dx.shape().plane();
  const Real* dyp = data(dy);
  Real* dxp = data(dx);
  parallel(size_t(dx.shape().n) * size_t(dx.shape().c), plane,
           [&](size_t b, size_t e, int) { cpu::mean_pool_backward(e - b, plane, dyp + b, dxp + b * plane); });
}

// ---- elementwise -------------------------------------------------------------------------

template <class Real>
void CpuBackendT<Real>::run_relu(const Tensor& x, Tensor& y, Tensor& mask) {
  const Real* xp = data(x);
  Real *yp = data(y), *mp = data(mask);
  parallel(x.count(), 1, [&](size_t b, size_t e, int) {
    for (size_t i = b; i < e; ++i) {
      const Real v = xp[i];  // read once: y may alias x
      mp[i] = v > 0 ? Real(1) : Real(0);
      yp[i] = v > 0 ? v : Real(0);
    }
  });
}

template <class Real>
void CpuBackendT<Real>::run_mul(const Tensor& a, const Tensor& b, Tensor& y) {
  const Real *ap = data(a), *bp = data(b);
  Real* yp = data(y);
  parallel(a.count(), 1, [&](size_t begin, size_t end, int) {
    for (size_t i = begin; i < end; ++i) yp[i] = ap[i] * bp[i];
  });
}

template <class Real>
void CpuBackendT<Real>::run_axpy(float alpha, const Tensor& x, Tensor& y) {
  const Real* xp = data(x);
  Real* yp = data(y);
  const Real a = Real(alpha);
  parallel(x.count(), 1, [&](size_t b, size_t e, int) {
    for (size_t i = b; i < e; ++i) yp[i] += a * xp[i];
  });
}

template <class Real>
void CpuBackendT<Real>::run_scale(Tensor& y, float alpha) {
  Real* yp = data(y);
  const Real a = Real(alpha);
  parallel(y.count(), 1, [&](size_t b, size_t e, int) {
    for (size_t i = b; i < e; ++i) yp[i] *= a;
  });
}

// ---- batch normalisation -----------------------------------------------------------------

template <class Real>
void CpuBackendT<Real>::run_batchnorm_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, float momentum,
                                            float eps, Tensor& running_mean, Tensor& running_var, Tensor& y,
                                            Tensor& saved_mean, Tensor& saved_inv_std) {
  const cpu::NormGeometry g{x.shape().n, x.shape().c, x.shape().plane()};
  parallel(size_t(g.c), x.count() / size_t(g.c), [&](size_t b, size_t e, int) {
    cpu::batchnorm_train(g, int(b), int(e), data(x), data(gamma), data(beta), Real(momentum), Real(eps),
                         data(running_mean), data(running_var), data(y), data(saved_mean), data(saved_inv_std));
  });
}

template <class Real>
void CpuBackendT<Real>::run_batchnorm_infer(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                            const Tensor& running_mean, const Tensor& running_var, float eps,
                                            Tensor& y) {
  const cpu::NormGeometry g{x.shape().n, x.shape().c, x.shape().plane()};
  parallel(size_t(g.c), x.count() / std::max<size_t>(1, size_t(g.c)), [&](size_t b, size_t e, int) {
    cpu::batchnorm_infer(g, int(b), int(e), data(x), data(gamma), data(beta), data(running_mean),
                         data(running_var), Real(eps), data(y));
  });
}

template <class Real>
void CpuBackendT<Real>::run_batchnorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                               const Tensor& saved_mean, const Tensor& saved_inv_std, Tensor& dx,
                                               Tensor& dgamma, Tensor& dbeta) {
  const cpu::NormGeometry g{x.shape().n, x.shape().c, x.shape().plane()};
  parallel(size_t(g.c), x.count() / size_t(g.c), [&](size_t b, size_t e, int) {
    cpu::batchnorm_backward(g, int(b), int(e), data(dy), data(x), data(gamma), data(saved_mean),
                            data(saved_inv_std), data(dx), data(dgamma), data(dbeta));
  });
}

// ---- classifier and losses ---------------------------------------------------------------

template <class Real>
void CpuBackendT<Real>::run_softmax(const Tensor& logits, Tensor& q) {
  cpu::softmax(logits.shape().n, logits.shape().c, data(logits), data(q));
}

template <class Real>
void CpuBackendT<Real>::run_cross_entropy(const Tensor& q, const Tensor& labels, float weight, Tensor& loss,
                                          Tensor& dlogits) {
  const int n = q.shape().n, classes = q.shape().c;
  const Real* lp = data(labels);
  // A label outside [0, C) would index past q's row. The labels are on the host here, so their
  // values are checked here and not in Backend (backend.h, cross_entropy).
  for (int i = 0; i < n; ++i) checks::label_value("cross_entropy", double(lp[i]), i, classes);
  data(loss)[0] = Real(cpu::cross_entropy(n, classes, data(q), lp, Real(weight), data(dlogits)));
}

template <class Real>
void CpuBackendT<Real>::run_kl_loss(const Tensor& q, bool paper_sign, float weight, Tensor& loss, Tensor& dlogits) {
  data(loss)[0] = Real(cpu::kl_loss(q.shape().n, q.shape().c, data(q), paper_sign, Real(weight), data(dlogits)));
}

template <class Real>
void CpuBackendT<Real>::run_reconstruction_loss(const Tensor& a, const Tensor& b, float weight, Tensor& loss,
                                                Tensor& da) {
  const double n = a.shape().n;
  const Real *ap = data(a), *bp = data(b);
  Real* dap = data(da);
  const double sum = parallel_sum(a.count(), 2, [&](size_t begin, size_t end) {
    return cpu::squared_error(end - begin, ap + begin, bp + begin, Real(double(weight) / n), dap + begin);
  });
  data(loss)[0] = Real(sum / n);
}

template <class Real>
void CpuBackendT<Real>::run_nonnegativity_loss(const Tensor& z, float weight, Tensor& loss, Tensor& dz) {
  const double count = double(z.count());  // the mean over the level's elements (backend.h)
  const Real* zp = data(z);
  Real* dzp = data(dz);
  const double sum = parallel_sum(z.count(), 2, [&](size_t begin, size_t end) {
    return cpu::negative_part_squared(end - begin, zp + begin, Real(double(weight) / count), dzp + begin);
  });
  data(loss)[0] += Real(sum / count);
}

// Map by map (image n, channel c): Σ b_c m over the map, and the gradient b_c·a on it.
template <class Real>
void CpuBackendT<Real>::run_rendering_prior(const Tensor& masked, const Tensor& mask, const Tensor& bias, float sign,
                                            float weight, Tensor& loss, Tensor& dz) {
  const Shape& s = masked.shape();
  const size_t plane = s.plane();
  const double count = double(masked.count());  // the mean over the level's elements (backend.h)
  const Real *mp = data(masked), *ap = data(mask), *bp = data(bias);
  Real* dzp = data(dz);
  const double grad_scale = double(sign) * double(weight) / count;
  const double sum = parallel_sum(size_t(s.n) * size_t(s.c), plane, [&](size_t begin, size_t end) {
    double total = 0;
    for (size_t map = begin; map < end; ++map) {
      const double b = double(bp[map % size_t(s.c)]);
      const Real g = Real(grad_scale * b);
      double map_sum = 0;
      for (size_t j = map * plane, last = j + plane; j < last; ++j) {
        map_sum += double(mp[j]);
        dzp[j] += g * ap[j];
      }
      total += b * map_sum;
    }
    return total;
  });
  data(loss)[0] += Real(double(sign) * sum / count);
}

// ---- statistics and optimisers -----------------------------------------------------------

template <class Real>
void CpuBackendT<Real>::run_batch_mean_ema(const Tensor& x, float decay, Tensor& ema) {
  const size_t size = x.shape().per_image();
  const Real* xp = data(x);
  Real* ep = data(ema);
  parallel(size, size_t(x.shape().n), [&](size_t b, size_t e, int) {
    cpu::batch_mean_ema(x.shape().n, size, e - b, xp + b, Real(decay), ep + b);
  });
}

template <class Real>
void CpuBackendT<Real>::run_sgd_step(Tensor& param, const Tensor& grad, Tensor& velocity, float lr, float momentum) {
  Real *pp = data(param), *vp = data(velocity);
  const Real* gp = data(grad);
  parallel(param.count(), 1, [&](size_t b, size_t e, int) {
    cpu::sgd_step(e - b, pp + b, gp + b, vp + b, Real(lr), Real(momentum));
  });
}

template <class Real>
void CpuBackendT<Real>::run_adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, float lr, float beta1,
                                      float beta2, float eps, int step) {
  Real *pp = data(param), *mp = data(m), *vp = data(v);
  const Real* gp = data(grad);
  parallel(param.count(), 4, [&](size_t b, size_t e, int) {
    cpu::adam_step(e - b, pp + b, gp + b, mp + b, vp + b, Real(lr), Real(beta1), Real(beta2), Real(eps), step);
  });
}

template class CpuBackendT<float>;
template class CpuBackendT<double>;

}  // namespace drmm
