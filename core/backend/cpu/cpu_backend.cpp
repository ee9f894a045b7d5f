#include "core/backend/cpu/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/backend/cpu/aligned_buffer.h"
#include "core/backend/cpu/conv.h"
#include "core/backend/cpu/kernels.h"
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

// ---- shape checks: every failure names the op and the shapes involved -------------------

[[noreturn]] void fail(const char* op, const std::string& what) { throw Error(std::string(op) + ": " + what); }

std::string describe(const Tensor& t) { return t.empty() ? std::string("unallocated") : t.shape().str(); }

void require(bool ok, const char* op, const std::string& what) {
  if (!ok) fail(op, what);
}

void require_shape(const char* op, const char* name, const Tensor& t, const Shape& expected) {
  require(!t.empty() && t.shape() == expected, op,
          std::string(name) + " is " + describe(t) + ", expected " + expected.str());
}

void require_allocated(const char* op, const char* name, const Tensor& t) {
  require(!t.empty(), op, std::string(name) + " is not allocated");
}

void require_scalar(const char* op, const char* name, const Tensor& t) {
  require(!t.empty() && t.count() == 1, op, std::string(name) + " is " + describe(t) + ", expected 1 element");
}

// Ops that read one tensor while writing another in a different layout must not get the
// same memory for both (the result would depend on the loop order).
void require_distinct(const char* op, const char* out_name, const Tensor& out, const char* in_name,
                      const Tensor& in) {
  require(out.storage() != in.storage(), op, std::string(out_name) + " must not share memory with " + in_name);
}

Shape channel_shape(int c) { return {1, c, 1, 1}; }

// Checks x and w (Cout×Cin×k×k) against each other and pad; returns the geometry.
cpu::ConvGeometry conv_geometry(const char* op, const Tensor& x, const Tensor& w, int pad, const char* x_name) {
  require_allocated(op, x_name, x);
  require_allocated(op, "w", w);
  const Shape& xs = x.shape();
  const Shape& ws = w.shape();
  const std::string shapes = std::string(" (") + x_name + " " + xs.str() + ", w " + ws.str() + ", pad " +
                             std::to_string(pad) + ")";
  require(ws.h == ws.w, op, "kernel must be square" + shapes);
  require(xs.c == ws.c, op, "input channels differ" + shapes);
  require(pad >= 0 && pad < ws.h, op, "pad must be in [0, k)" + shapes);
  cpu::ConvGeometry g{xs.c, ws.n, xs.h, xs.w, ws.h, pad, conv_output_size(xs.h, ws.h, pad),
                      conv_output_size(xs.w, ws.h, pad)};
  require(g.ho >= 1 && g.wo >= 1, op, "kernel larger than the padded input" + shapes);
  return g;
}

Shape conv_output_shape(const Tensor& x, const cpu::ConvGeometry& g) { return {x.shape().n, g.cout, g.ho, g.wo}; }

// Checks that `big` can be pooled by k×k windows; returns the geometry.
cpu::PoolGeometry pool_geometry(const char* op, const char* name, const Tensor& big, int k) {
  require_allocated(op, name, big);
  const Shape& s = big.shape();
  require(k >= 1 && s.h % k == 0 && s.w % k == 0, op,
          std::string(name) + " " + s.str() + " cannot be split into " + std::to_string(k) + "x" +
              std::to_string(k) + " windows");
  return {s.h, s.w, k};
}

Shape pooled_shape(const Tensor& big, int k) { return {big.shape().n, big.shape().c, big.shape().h / k, big.shape().w / k}; }

// Classifier tensors are N×C×1×1.
void require_scores(const char* op, const char* name, const Tensor& t) {
  require_allocated(op, name, t);
  require(t.shape().h == 1 && t.shape().w == 1, op, std::string(name) + " is " + t.shape().str() + ", expected Nx C x1x1");
}

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
  if (!storage) throw Error(name() + ": tensor " + describe(t) + " was not allocated by this backend");
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
Tensor CpuBackendT<Real>::alloc(Shape shape) {
  require(shape.n >= 0 && shape.c >= 0 && shape.h >= 0 && shape.w >= 0, "alloc", "negative size " + shape.str());
  return Tensor(shape, std::make_shared<CpuStorage<Real>>(shape.count()));
}

template <class Real>
void CpuBackendT<Real>::upload(Tensor& dst, std::span<const float> src) {
  require_allocated("upload", "dst", dst);
  require(src.size() == dst.count(), "upload",
          std::to_string(src.size()) + " values for a tensor of " + dst.shape().str());
  std::copy(src.begin(), src.end(), data(dst));
}

template <class Real>
std::vector<float> CpuBackendT<Real>::download(const Tensor& src) {
  require_allocated("download", "src", src);
  const Real* p = data(src);
  return std::vector<float>(p, p + src.count());
}

template <class Real>
double CpuBackendT<Real>::read_scalar(const Tensor& t) {
  require(!t.empty() && t.count() >= 1, "read_scalar", "t is " + describe(t) + ", expected at least 1 element");
  return double(data(t)[0]);
}

template <class Real>
void CpuBackendT<Real>::fill(Tensor& t, float value) {
  require_allocated("fill", "t", t);
  std::fill_n(data(t), t.count(), Real(value));
}

template <class Real>
void CpuBackendT<Real>::copy(const Tensor& src, Tensor& dst) {
  require_allocated("copy", "src", src);
  require_allocated("copy", "dst", dst);
  require(src.count() == dst.count(), "copy", "src " + src.shape().str() + " and dst " + dst.shape().str() +
                                                  " hold different counts");
  std::copy_n(data(src), src.count(), data(dst));
}

// ---- convolution -------------------------------------------------------------------------

template <class Real>
void CpuBackendT<Real>::conv2d(const Tensor& x, const Tensor& w, int pad, Tensor& y) {
  const auto g = conv_geometry("conv2d", x, w, pad, "x");
  require_shape("conv2d", "y", y, conv_output_shape(x, g));
  require_distinct("conv2d", "y", y, "x", x);
  const Real *xp = data(x), *wp = data(w);
  Real* yp = data(y);
  parallel(size_t(x.shape().n), g.out_image() * size_t(g.patch()), [&](size_t b, size_t e, int t) {
    cpu::conv_forward(g, xp + b * g.in_image(), wp, int(e - b), yp + b * g.out_image(), *workspaces_[size_t(t)]);
  });
}

template <class Real>
void CpuBackendT<Real>::conv2d_backward_input(const Tensor& dy, const Tensor& w, int pad, Tensor& dx,
                                              bool accumulate) {
  const auto g = conv_geometry("conv2d_backward_input", dx, w, pad, "dx");
  require_shape("conv2d_backward_input", "dy", dy, conv_output_shape(dx, g));
  require_distinct("conv2d_backward_input", "dx", dx, "dy", dy);
  const Real *dyp = data(dy), *wp = data(w);
  Real* dxp = data(dx);
  parallel(size_t(dx.shape().n), g.out_image() * size_t(g.patch()), [&](size_t b, size_t e, int t) {
    cpu::conv_backward_input(g, dyp + b * g.out_image(), wp, int(e - b), dxp + b * g.in_image(), accumulate,
                             *workspaces_[size_t(t)]);
  });
}

template <class Real>
void CpuBackendT<Real>::conv2d_backward_weight(const Tensor& x, const Tensor& dy, int pad, Tensor& dw,
                                               bool accumulate) {
  const auto g = conv_geometry("conv2d_backward_weight", x, dw, pad, "x");
  require_shape("conv2d_backward_weight", "dy", dy, conv_output_shape(x, g));
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

// ---- pooling -----------------------------------------------------------------------------

template <class Real>
void CpuBackendT<Real>::maxpool(const Tensor& x, int k, Tensor& y, Tensor& switches) {
  const auto g = pool_geometry("maxpool", "x", x, k);
  require_shape("maxpool", "y", y, pooled_shape(x, k));
  require_shape("maxpool", "switches", switches, x.shape());
  require_distinct("maxpool", "switches", switches, "x", x);
  const Real* xp = data(x);
  Real *yp = data(y), *sp = data(switches);
  parallel(size_t(x.shape().n) * size_t(x.shape().c), g.big_plane(), [&](size_t b, size_t e, int) {
    cpu::maxpool(g, e - b, xp + b * g.big_plane(), yp + b * g.small_plane(), sp + b * g.big_plane());
  });
}

template <class Real>
void CpuBackendT<Real>::unpool(const Tensor& y, const Tensor& switches, int k, Tensor& x) {
  const auto g = pool_geometry("unpool", "x", x, k);
  require_shape("unpool", "y", y, pooled_shape(x, k));
  require_shape("unpool", "switches", switches, x.shape());
  require_distinct("unpool", "x", x, "y", y);
  const Real *yp = data(y), *sp = data(switches);
  Real* xp = data(x);
  parallel(size_t(x.shape().n) * size_t(x.shape().c), g.big_plane(), [&](size_t b, size_t e, int) {
    cpu::unpool(g, e - b, yp + b * g.small_plane(), sp + b * g.big_plane(), xp + b * g.big_plane());
  });
}

template <class Real>
void CpuBackendT<Real>::unpool_backward(const Tensor& dx, const Tensor& switches, int k, Tensor& dy) {
  const auto g = pool_geometry("unpool_backward", "dx", dx, k);
  require_shape("unpool_backward", "dy", dy, pooled_shape(dx, k));
  require_shape("unpool_backward", "switches", switches, dx.shape());
  require_distinct("unpool_backward", "dy", dy, "dx", dx);
  const Real *dxp = data(dx), *sp = data(switches);
  Real* dyp = data(dy);
  parallel(size_t(dx.shape().n) * size_t(dx.shape().c), g.big_plane(), [&](size_t b, size_t e, int) {
    cpu::unpool_backward(g, e - b, dxp + b * g.big_plane(), sp + b * g.big_plane(), dyp + b * g.small_plane());
  });
}

template <class Real>
void CpuBackendT<Real>::upsample(const Tensor& x, int k, Tensor& y) {
  const auto g = pool_geometry("upsample", "y", y, k);
  require_shape("upsample", "x", x, pooled_shape(y, k));
  require_distinct("upsample", "y", y, "x", x);
  const Real* xp = data(x);
  Real* yp = data(y);
  parallel(size_t(y.shape().n) * size_t(y.shape().c), g.big_plane(), [&](size_t b, size_t e, int) {
    cpu::upsample(g, e - b, xp + b * g.small_plane(), yp + b * g.big_plane());
  });
}

template <class Real>
void CpuBackendT<Real>::sum_pool(const Tensor& x, int k, Tensor& y) {
  const auto g = pool_geometry("sum_pool", "x", x, k);
  require_shape("sum_pool", "y", y, pooled_shape(x, k));
  require_distinct("sum_pool", "y", y, "x", x);
  const Real* xp = data(x);
  Real* yp = data(y);
  parallel(size_t(x.shape().n) * size_t(x.shape().c), g.big_plane(), [&](size_t b, size_t e, int) {
    cpu::sum_pool(g, e - b, xp + b * g.big_plane(), yp + b * g.small_plane());
  });
}

template <class Real>
void CpuBackendT<Real>::mean_pool(const Tensor& x, Tensor& y) {
  require_allocated("mean_pool", "x", x);
  require_shape("mean_pool", "y", y, {x.shape().n, x.shape().c, 1, 1});
  require_distinct("mean_pool", "y", y, "x", x);
  const size_t plane = x.shape().plane();
  const Real* xp = data(x);
  Real* yp = data(y);
  parallel(size_t(x.shape().n) * size_t(x.shape().c), plane,
           [&](size_t b, size_t e, int) { cpu::mean_pool(e - b, plane, xp + b * plane, yp + b); });
}

template <class Real>
void CpuBackendT<Real>::mean_pool_backward(const Tensor& dy, Tensor& dx) {
  require_allocated("mean_pool_backward", "dx", dx);
  require_shape("mean_pool_backward", "dy", dy, {dx.shape().n, dx.shape().c, 1, 1});
  require_distinct("mean_pool_backward", "dx", dx, "dy", dy);
  const size_t plane = dx.shape().plane();
  const Real* dyp = data(dy);
  Real* dxp = data(dx);
  parallel(size_t(dx.shape().n) * size_t(dx.shape().c), plane,
           [&](size_t b, size_t e, int) { cpu::mean_pool_backward(e - b, plane, dyp + b, dxp + b * plane); });
}

// ---- elementwise -------------------------------------------------------------------------

template <class Real>
void CpuBackendT<Real>::relu(const Tensor& x, Tensor& y, Tensor& mask) {
  require_allocated("relu", "x", x);
  require_shape("relu", "y", y, x.shape());
  require_shape("relu", "mask", mask, x.shape());
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
void CpuBackendT<Real>::mul(const Tensor& a, const Tensor& b, Tensor& y) {
  require_allocated("mul", "a", a);
  require_shape("mul", "b", b, a.shape());
  require_shape("mul", "y", y, a.shape());
  const Real *ap = data(a), *bp = data(b);
  Real* yp = data(y);
  parallel(a.count(), 1, [&](size_t begin, size_t end, int) {
    for (size_t i = begin; i < end; ++i) yp[i] = ap[i] * bp[i];
  });
}

template <class Real>
void CpuBackendT<Real>::axpy(float alpha, const Tensor& x, Tensor& y) {
  require_allocated("axpy", "x", x);
  require_shape("axpy", "y", y, x.shape());
  const Real* xp = data(x);
  Real* yp = data(y);
  const Real a = Real(alpha);
  parallel(x.count(), 1, [&](size_t b, size_t e, int) {
    for (size_t i = b; i < e; ++i) yp[i] += a * xp[i];
  });
}

template <class Real>
void CpuBackendT<Real>::scale(Tensor& y, float alpha) {
  require_allocated("scale", "y", y);
  Real* yp = data(y);
  const Real a = Real(alpha);
  parallel(y.count(), 1, [&](size_t b, size_t e, int) {
    for (size_t i = b; i < e; ++i) yp[i] *= a;
  });
}

// ---- batch normalisation -----------------------------------------------------------------

template <class Real>
void CpuBackendT<Real>::batchnorm_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, float momentum,
                                        float eps, Tensor& running_mean, Tensor& running_var, Tensor& y,
                                        Tensor& saved_mean, Tensor& saved_inv_std) {
  const char* op = "batchnorm_train";
  require_allocated(op, "x", x);
  const Shape ch = channel_shape(x.shape().c);
  require_shape(op, "gamma", gamma, ch);
  require_shape(op, "beta", beta, ch);
  require_shape(op, "running_mean", running_mean, ch);
  require_shape(op, "running_var", running_var, ch);
  require_shape(op, "saved_mean", saved_mean, ch);
  require_shape(op, "saved_inv_std", saved_inv_std, ch);
  require_shape(op, "y", y, x.shape());
  require(x.shape().n * x.shape().h * x.shape().w > 0, op, "x " + x.shape().str() + " has no values per channel");
  const cpu::NormGeometry g{x.shape().n, x.shape().c, x.shape().plane()};
  parallel(size_t(g.c), x.count() / size_t(g.c), [&](size_t b, size_t e, int) {
    cpu::batchnorm_train(g, int(b), int(e), data(x), data(gamma), data(beta), Real(momentum), Real(eps),
                         data(running_mean), data(running_var), data(y), data(saved_mean), data(saved_inv_std));
  });
}

template <class Real>
void CpuBackendT<Real>::batchnorm_infer(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                        const Tensor& running_mean, const Tensor& running_var, float eps,
                                        Tensor& y) {
  const char* op = "batchnorm_infer";
  require_allocated(op, "x", x);
  const Shape ch = channel_shape(x.shape().c);
  require_shape(op, "gamma", gamma, ch);
  require_shape(op, "beta", beta, ch);
  require_shape(op, "running_mean", running_mean, ch);
  require_shape(op, "running_var", running_var, ch);
  require_shape(op, "y", y, x.shape());
  const cpu::NormGeometry g{x.shape().n, x.shape().c, x.shape().plane()};
  parallel(size_t(g.c), x.count() / std::max<size_t>(1, size_t(g.c)), [&](size_t b, size_t e, int) {
    cpu::batchnorm_infer(g, int(b), int(e), data(x), data(gamma), data(beta), data(running_mean),
                         data(running_var), Real(eps), data(y));
  });
}

template <class Real>
void CpuBackendT<Real>::batchnorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                           const Tensor& saved_mean, const Tensor& saved_inv_std, Tensor& dx,
                                           Tensor& dgamma, Tensor& dbeta) {
  const char* op = "batchnorm_backward";
  require_allocated(op, "x", x);
  const Shape ch = channel_shape(x.shape().c);
  require_shape(op, "dy", dy, x.shape());
  require_shape(op, "dx", dx, x.shape());
  require_shape(op, "gamma", gamma, ch);
  require_shape(op, "saved_mean", saved_mean, ch);
  require_shape(op, "saved_inv_std", saved_inv_std, ch);
  require_shape(op, "dgamma", dgamma, ch);
  require_shape(op, "dbeta", dbeta, ch);
  require_distinct(op, "dx", dx, "x", x);
  require(x.shape().n * x.shape().h * x.shape().w > 0, op, "x " + x.shape().str() + " has no values per channel");
  const cpu::NormGeometry g{x.shape().n, x.shape().c, x.shape().plane()};
  parallel(size_t(g.c), x.count() / size_t(g.c), [&](size_t b, size_t e, int) {
    cpu::batchnorm_backward(g, int(b), int(e), data(dy), data(x), data(gamma), data(saved_mean),
                            data(saved_inv_std), data(dx), data(dgamma), data(dbeta));
  });
}

// ---- classifier and losses ---------------------------------------------------------------

template <class Real>
void CpuBackendT<Real>::softmax(const Tensor& logits, Tensor& q) {
  require_scores("softmax", "logits", logits);
  require_shape("softmax", "q", q, logits.shape());
  cpu::softmax(logits.shape().n, logits.shape().c, data(logits), data(q));
}

template <class Real>
void CpuBackendT<Real>::cross_entropy(const Tensor& q, const Tensor& labels, float weight, Tensor& loss,
                                      Tensor& dlogits) {
  const char* op = "cross_entropy";
  require_scores(op, "q", q);
  const int n = q.shape().n, classes = q.shape().c;
  require_shape(op, "labels", labels, {n, 1, 1, 1});
  require_shape(op, "dlogits", dlogits, q.shape());
  require_scalar(op, "loss", loss);
  const Real* lp = data(labels);
  for (int i = 0; i < n; ++i)  // a label outside [0, C) would index past q's row
    require(lp[i] < 0 || (lp[i] == std::floor(lp[i]) && lp[i] < classes), op,
            "label " + std::to_string(double(lp[i])) + " of image " + std::to_string(i) + " is not a class index in [0, " +
                std::to_string(classes) + ") or negative (unlabeled)");
  data(loss)[0] = Real(cpu::cross_entropy(n, classes, data(q), lp, Real(weight), data(dlogits)));
}

template <class Real>
void CpuBackendT<Real>::kl_loss(const Tensor& q, bool paper_sign, float weight, Tensor& loss, Tensor& dlogits) {
  require_scores("kl_loss", "q", q);
  require_shape("kl_loss", "dlogits", dlogits, q.shape());
  require_scalar("kl_loss", "loss", loss);
  require(q.shape().n > 0, "kl_loss", "empty batch " + q.shape().str());
  data(loss)[0] = Real(cpu::kl_loss(q.shape().n, q.shape().c, data(q), paper_sign, Real(weight), data(dlogits)));
}

template <class Real>
void CpuBackendT<Real>::reconstruction_loss(const Tensor& a, const Tensor& b, float weight, Tensor& loss,
                                            Tensor& da) {
  require_allocated("reconstruction_loss", "a", a);
  require_shape("reconstruction_loss", "b", b, a.shape());
  require_shape("reconstruction_loss", "da", da, a.shape());
  require_scalar("reconstruction_loss", "loss", loss);
  require(a.shape().n > 0, "reconstruction_loss", "empty batch " + a.shape().str());
  const double n = a.shape().n;
  const Real *ap = data(a), *bp = data(b);
  Real* dap = data(da);
  const double sum = parallel_sum(a.count(), 2, [&](size_t begin, size_t end) {
    return cpu::squared_error(end - begin, ap + begin, bp + begin, Real(double(weight) / n), dap + begin);
  });
  data(loss)[0] = Real(sum / n);
}

template <class Real>
void CpuBackendT<Real>::nonnegativity_loss(const Tensor& z, float weight, Tensor& loss, Tensor& dz) {
  require_allocated("nonnegativity_loss", "z", z);
  require_shape("nonnegativity_loss", "dz", dz, z.shape());
  require_scalar("nonnegativity_loss", "loss", loss);
  require(z.shape().n > 0, "nonnegativity_loss", "empty batch " + z.shape().str());
  const double count = double(z.count());  // the mean over the level's elements (backend.h)
  const Real* zp = data(z);
  Real* dzp = data(dz);
  const double sum = parallel_sum(z.count(), 2, [&](size_t begin, size_t end) {
    return cpu::negative_part_squared(end - begin, zp + begin, Real(double(weight) / count), dzp + begin);
  });
  data(loss)[0] += Real(sum / count);
}

// ---- statistics and optimisers -----------------------------------------------------------

template <class Real>
void CpuBackendT<Real>::batch_mean_ema(const Tensor& x, float decay, Tensor& ema) {
  require_allocated("batch_mean_ema", "x", x);
  require_shape("batch_mean_ema", "ema", ema, {1, x.shape().c, x.shape().h, x.shape().w});
  require(x.shape().n > 0, "batch_mean_ema", "empty batch " + x.shape().str());
  const size_t size = x.shape().per_image();
  const Real* xp = data(x);
  Real* ep = data(ema);
  parallel(size, size_t(x.shape().n), [&](size_t b, size_t e, int) {
    cpu::batch_mean_ema(x.shape().n, size, e - b, xp + b, Real(decay), ep + b);
  });
}

template <class Real>
void CpuBackendT<Real>::sgd_step(Tensor& param, const Tensor& grad, Tensor& velocity, float lr, float momentum) {
  require_allocated("sgd_step", "param", param);
  require_shape("sgd_step", "grad", grad, param.shape());
  require_shape("sgd_step", "velocity", velocity, param.shape());
  Real *pp = data(param), *vp = data(velocity);
  const Real* gp = data(grad);
  parallel(param.count(), 1, [&](size_t b, size_t e, int) {
    cpu::sgd_step(e - b, pp + b, gp + b, vp + b, Real(lr), Real(momentum));
  });
}

template <class Real>
void CpuBackendT<Real>::adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, float lr, float beta1,
                                  float beta2, float eps, int step) {
  require_allocated("adam_step", "param", param);
  require_shape("adam_step", "grad", grad, param.shape());
  require_shape("adam_step", "m", m, param.shape());
  require_shape("adam_step", "v", v, param.shape());
  require(step >= 1, "adam_step", "step " + std::to_string(step) + " must count from 1");
  Real *pp = data(param), *mp = data(m), *vp = data(v);
  const Real* gp = data(grad);
  parallel(param.count(), 4, [&](size_t b, size_t e, int) {
    cpu::adam_step(e - b, pp + b, gp + b, mp + b, vp + b, Real(lr), Real(beta1), Real(beta2), Real(eps), step);
  });
}

template class CpuBackendT<float>;
template class CpuBackendT<double>;

}  // namespace drmm
