#pragma once
// The cpu backend (DESIGN.md §3.1): the reference every other backend is tested against,
// and the fast path on machines without a GPU. Convolutions run as blocked GEMMs over
// implicit im2col matrices (conv.h, gemm.h), split across a batch by a persistent thread
// pool; the other ops are plain loops (kernels.h).
//
// CpuBackendT<double> is the check mode for finite-difference tests: the same code in double
// precision, with upload/download converting from/to float.
//
// Backend checks every op's arguments before it calls run_<op> here (op_checks.h), so a wrong
// call is an error message, never memory corruption.
#include <memory>
#include <vector>

#include "core/backend/backend.h"

namespace drmm {

class ThreadPool;
namespace cpu {
template <class Real>
struct ConvWorkspace;
}

template <class Real>
class CpuBackendT final : public Backend {
 public:
  // `threads` counts the calling thread; 0 means std::thread::hardware_concurrency().
  explicit CpuBackendT(int threads = 0);
  ~CpuBackendT() override;

  std::string name() const override;
  int threads() const;

  // Zero-copy access to a tensor this backend allocated (throws drmm::Error otherwise).
  Real* data(Tensor& t) const;
  const Real* data(const Tensor& t) const;

 private:
  // The ops (backend.h), called with arguments Backend has checked.
  Tensor run_alloc(Shape shape) override;
  void run_upload(Tensor& dst, std::span<const float> src) override;
  std::vector<float> run_download(const Tensor& src) override;
  void run_finish() override {}                      // every op has finished when it returns
  double run_read_scalar(const Tensor& t) override;  // unrounded in the check mode
  void run_fill(Tensor& t, float value) override;
  void run_copy(const Tensor& src, Tensor& dst) override;

  void run_conv2d(const Tensor& x, const Tensor& w, int pad, Tensor& y) override;
  void run_conv2d_backward_input(const Tensor& dy, const Tensor& w, int pad, Tensor& dx,
                                 bool accumulate) override;
  void run_conv2d_backward_weight(const Tensor& x, const Tensor& dy, int pad, Tensor& dw,
                                  bool accumulate) override;
  void run_add_channel_bias(Tensor& y, const Tensor& bias) override;
  void run_channel_sum(const Tensor& dy, Tensor& dbias, bool accumulate) override;

  void run_maxpool(const Tensor& x, int k, Tensor& y, Tensor& switches) override;
  void run_unpool(const Tensor& y, const Tensor& switches, int k, Tensor& x) override;
  void run_unpool_backward(const Tensor& dx, const Tensor& switches, int k, Tensor& dy) override;
  void run_upsample(const Tensor& x, int k, Tensor& y) override;
  void run_sum_pool(const Tensor& x, int k, Tensor& y) override;
  void run_mean_pool(const Tensor& x, Tensor& y) override;
  void run_mean_pool_backward(const Tensor& dy, Tensor& dx) override;

  void run_relu(const Tensor& x, Tensor& y, Tensor& mask) override;
  void run_mul(const Tensor& a, const Tensor& b, Tensor& y) override;
  void run_axpy(float alpha, const Tensor& x, Tensor& y) override;
  void run_scale(Tensor& y, float alpha) override;

  void run_batchnorm_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, float momentum, float eps,
                           Tensor& running_mean, Tensor& running_var, Tensor& y, Tensor& saved_mean,
                           Tensor& saved_inv_std) override;
  void run_batchnorm_infer(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                           const Tensor& running_var, float eps, Tensor& y) override;
  void run_batchnorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& saved_mean,
                              const Tensor& saved_inv_std, Tensor& dx, Tensor& dgamma, Tensor& dbeta) override;

  void run_softmax(const Tensor& logits, Tensor& q) override;
  void run_cross_entropy(const Tensor& q, const Tensor& labels, float weight, Tensor& loss,
                         Tensor& dlogits) override;
  void run_kl_loss(const Tensor& q, bool paper_sign, float weight, Tensor& loss, Tensor& dlogits) override;
  void run_reconstruction_loss(const Tensor& a, const Tensor& b, float weight, Tensor& loss, Tensor& da) override;
  void run_nonnegativity_loss(const Tensor& z, float weight, Tensor& loss, Tensor& dz) override;
  void run_rendering_prior(const Tensor& masked, const Tensor& mask, const Tensor& bias, float sign, float weight,
                           Tensor& loss, Tensor& dz) override;

  void run_batch_mean_ema(const Tensor& x, float decay, Tensor& ema) override;
  void run_sgd_step(Tensor& param, const Tensor& grad, Tensor& velocity, float lr, float momentum) override;
  void run_adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, float lr, float beta1, float beta2,
                     float eps, int step) override;

  // Runs fn(begin, end, worker) over [0, count) on the pool, or inline when count·cost
  // (roughly, values touched) is too small to pay for waking the workers.
  template <class Fn>
  void parallel(size_t count, size_t cost_per_item, Fn&& fn);
  // The same for a reduction: fn(begin, end) returns its range's sum; the partial sums are
  // added in worker order, so the result depends on the thread count but not on timing.
  template <class Fn>
  double parallel_sum(size_t count, size_t cost_per_item, Fn&& fn);

  std::unique_ptr<ThreadPool> pool_;
  std::vector<std::unique_ptr<cpu::ConvWorkspace<Real>>> workspaces_;  // one per worker
};

using CpuBackend = CpuBackendT<float>;
using CpuCheckBackend = CpuBackendT<double>;

extern template class CpuBackendT<float>;
extern template class CpuBackendT<double>;

}  // namespace drmm
