#pragma once
// The one interface every compute backend implements (DESIGN.md §3.1). The model, the
// trainer and the analyses only ever talk to a Backend; `cpu` is the reference that every
// other backend is tested against, op by op.
//
// Conventions shared by all ops:
// - Tensors are NCHW float32 (the cpu check backend stores double; see cpu_backend.h).
// - Outputs are passed by reference and must already be allocated with the right shape;
//   ops overwrite them unless the op says it accumulates (`accumulate` or "+=").
// - Ops may be queued: a backend may run them later (vulkan records one command buffer
//   per training step). `download` and `finish` wait for everything queued before them.
// - Scalars an op produces (loss values) are written into 1-element tensors so that a
//   queued backend needs no host round trip until the step ends.
// - Convolutions have stride 1 and square kernels; `pad` zeros are added on every side,
//   so y = x + 2·pad − k + 1. Theano's modes map to pad: valid 0, half k/2, full k−1.
// - Pooling windows are k×k and do not overlap (the paper's poolings); H and W of the
//   pooled input are multiples of k.
// - Every op is a non-virtual function that checks its arguments (op_checks.h: shapes,
//   allocation, aliasing) and then calls the backend's run_<op> with the same arguments, so
//   every backend accepts and refuses the same calls with the same drmm::Error message, and
//   a backend implements only run_<op>, for arguments that fit.
// - Aliasing, the same rule on every backend: an elementwise op (relu, mul, axpy,
//   batchnorm_train/infer's y) may write its output over an input, as each value is read
//   before its own index is written. Ops that read one tensor in another layout than they
//   write the other refuse the same memory for both (conv2d, conv2d_backward_input, maxpool's
//   switches, unpool, unpool_backward, upsample, sum_pool, mean_pool, mean_pool_backward,
//   batchnorm_backward's dx): the result would depend on the order the cpu loops or the
//   device's invocations run in.
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/backend/tensor.h"

namespace drmm {

enum class ConvMode { Valid, Half, Full };

int conv_padding(ConvMode mode, int kernel);              // valid 0, half k/2, full k-1
int conv_output_size(int input, int kernel, int pad);     // input + 2 pad - kernel + 1
ConvMode parse_conv_mode(const std::string& text);        // "valid" | "half" | "full"
std::string conv_mode_name(ConvMode mode);

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;  // "cpu", "cpu-f64", "vulkan (<device name>)"

  // ---- memory -------------------------------------------------------------------------
  Tensor alloc(Shape shape);                             // zero-filled
  void upload(Tensor& dst, std::span<const float> src);  // src.size() == dst.count()
  std::vector<float> download(const Tensor& src);        // waits for queued work
  void finish();                                         // run and wait for queued work
  // The first value of `t` at the backend's own precision (double on the check backend, so
  // finite-difference tests see the loss unrounded).
  double read_scalar(const Tensor& t);
  void fill(Tensor& t, float value);
  void copy(const Tensor& src, Tensor& dst);  // same count

  // ---- convolution (stride 1, weights Cout×Cin×k×k, no bias) ----------------------------
  // y[n,o] = Σ_i x[n,i] ⋆ w[o,i]  (cross-correlation, as every CNN library).
  void conv2d(const Tensor& x, const Tensor& w, int pad, Tensor& y);
  // The adjoint of conv2d in x, i.e. the transposed convolution: dx = convᵀ(dy, w).
  // The DRMM top-down pass renders with this same op (paper 002 App. B, eq. 13).
  void conv2d_backward_input(const Tensor& dy, const Tensor& w, int pad, Tensor& dx, bool accumulate);
  // dw[o,i] (+)= Σ_n x[n,i] ⋆ dy[n,o]: the gradient of conv2d w.r.t. its weights.
  void conv2d_backward_weight(const Tensor& x, const Tensor& dy, int pad, Tensor& dw, bool accumulate);
  // A conv layer's bias (bias is 1×C×1×1): y[n,c,·,·] += bias[c], and its gradient
  // dbias[c] (+)= Σ_{n,h,w} dy[n,c,h,w]. In the NRM (paper 004 eq. 7) the bias is the log-prior
  // of the rendering configuration; it enters the bottom-up pass only (model/drmm_model.h).
  void add_channel_bias(Tensor& y, const Tensor& bias);
  void channel_sum(const Tensor& dy, Tensor& dbias, bool accumulate);

  // ---- pooling and switches ------------------------------------------------------------
  // y = max over each k×k window of x; switches (same shape as x) = 1 at the first position
  // (row-major scan) that attains the window's max, 0 elsewhere: the DRMM's t latent, one
  // position per window as in paper 002 App. B (t ∈ {UL, UR, LL, LR} for k = 2).
  void maxpool(const Tensor& x, int k, Tensor& y, Tensor& switches);
  // x = switches ⊙ upsample_k(y): the adjoint of max pool given its switches, and the
  // top-down "unpool" T_t Z (paper 002 eq. 13).
  void unpool(const Tensor& y, const Tensor& switches, int k, Tensor& x);
  // y = Σ over each k×k window of (switches ⊙ x): the adjoint of unpool.
  void unpool_backward(const Tensor& dx, const Tensor& switches, int k, Tensor& dy);
  // y = nearest-neighbour upsample by k, and its adjoint (sum over each k×k window).
  void upsample(const Tensor& x, int k, Tensor& y);
  void sum_pool(const Tensor& x, int k, Tensor& y);
  // y[n,c] = mean over H×W of x[n,c] (y is N×C×1×1), and its adjoint: x[n,c,·,·] = y[n,c]/(H·W).
  // The adjoint is also the top-down inverse of the mean pool (DESIGN.md §3.2).
  void mean_pool(const Tensor& x, Tensor& y);
  void mean_pool_backward(const Tensor& dy, Tensor& dx);

  // ---- elementwise ---------------------------------------------------------------------
  // y = max(x, 0) and mask = [x > 0]: the DRMM's a latent (template on/off).
  void relu(const Tensor& x, Tensor& y, Tensor& mask);
  void mul(const Tensor& a, const Tensor& b, Tensor& y);   // y = a ⊙ b (y may alias a or b)
  void axpy(float alpha, const Tensor& x, Tensor& y);      // y += alpha·x
  void scale(Tensor& y, float alpha);                      // y *= alpha

  // ---- batch normalisation (per channel over N, H, W; Ioffe & Szegedy 2015) -------------
  // Training mode: normalise with batch statistics, save mean and 1/sqrt(var+eps) for the
  // backward pass, and update running_* ← (1−momentum)·running_* + momentum·batch_* (the
  // running variance uses the unbiased batch variance). gamma, beta, running_*, saved_* are 1×C×1×1.
  void batchnorm_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, float momentum, float eps,
                       Tensor& running_mean, Tensor& running_var, Tensor& y, Tensor& saved_mean,
                       Tensor& saved_inv_std);
  // Inference mode: normalise with the running statistics.
  void batchnorm_infer(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                       const Tensor& running_var, float eps, Tensor& y);
  // Gradients of batchnorm_train: dx is overwritten, dgamma and dbeta accumulate (+=).
  void batchnorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& saved_mean,
                          const Tensor& saved_inv_std, Tensor& dx, Tensor& dgamma, Tensor& dbeta);

  // ---- classifier and losses (DESIGN.md §3.2; paper 002 eqs. 5–8) ----------------------
  // logits and q are N×C×1×1; labels is N×1×1×1 holding the class index as a float, or −1
  // for an unlabeled image. Each loss writes its unweighted value into the 1-element `loss`
  // tensor and adds weight·∂loss/∂input into the gradient tensor (+=).
  void softmax(const Tensor& logits, Tensor& q);
  // L_H = −(1/|D_L|) Σ_{n labeled} log q[n, label_n]; gradient w.r.t. the logits.
  // The label values are checked only where they are on the host: the cpu backend throws on
  // a label that is no class index; a device backend does not download them in the middle of
  // a step, so its kernel never reads past q's row and makes the loss NaN instead (which the
  // trainer reports).
  void cross_entropy(const Tensor& q, const Tensor& labels, float weight, Tensor& loss, Tensor& dlogits);
  // L_KL over all N images, gradient w.r.t. the logits. `paper_sign` false (default, the
  // authors' code): (1/N) Σ_n Σ_c −q log(C·q + 1e−8); true (paper 002 eq. 7):
  // (1/N) Σ_n Σ_c q log(C·q + 1e−8), i.e. KL(q ‖ uniform).
  void kl_loss(const Tensor& q, bool paper_sign, float weight, Tensor& loss, Tensor& dlogits);
  // L_RC = (1/N) Σ_n ‖a_n − b_n‖²; gradient w.r.t. a (+=).
  void reconstruction_loss(const Tensor& a, const Tensor& b, float weight, Tensor& loss, Tensor& da);
  // L_NN term of one level: loss += (1/(N·D)) Σ_n ‖max(0, −z_n)‖², the mean over the level's N·D
  // elements (accumulates into `loss`, so the levels' terms add up), dz += weight·∂/∂z.
  void nonnegativity_loss(const Tensor& z, float weight, Tensor& loss, Tensor& dz);
  // One level's term of η, the log-prior of a rendering path (paper 004 eq. 1; the Rendering Path
  // Normalization, eq. 10): with m = a ⊙ z the template a conv renders (N×C×H×W), a its switches
  // and b its bias (1×C×1×1), loss += sign·(1/(N·C·H·W)) Σ b_c m[n,c,·,·], the mean over the
  // level's elements, and dz += sign·weight·b_c·a/(N·C·H·W), the gradient w.r.t. the template z
  // entering the conv from above.
  void rendering_prior(const Tensor& masked, const Tensor& mask, const Tensor& bias, float sign, float weight,
                       Tensor& loss, Tensor& dz);

  // The class each image is rendered from in the top-down E-step (DESIGN.md §3.2): one-hot
  // (N×C×1×1) of labels[n] when labels[n] ≥ 0 and `use_labels`, else of ĉ = argmax_c q[n,c].
  // The default run_render_class_onehot goes through the host and so also refuses a label
  // that is no class index (as cross_entropy on cpu); a queued backend may override it with a
  // kernel, which never writes past an image's row (vulkan: such an image's row stays zero).
  void render_class_onehot(const Tensor& q, const Tensor& labels, bool use_labels, Tensor& onehot);

  // ---- statistics and optimisers -------------------------------------------------------
  // ema = decay·ema + (1−decay)·mean_n x[n]  (ema is 1×C×H×W): the latent frequencies π_a, π_t.
  void batch_mean_ema(const Tensor& x, float decay, Tensor& ema);
  // SGD with momentum: v = momentum·v − lr·g; p += v.
  void sgd_step(Tensor& param, const Tensor& grad, Tensor& velocity, float lr, float momentum);
  // Adam (Kingma & Ba 2015, Alg. 1) with bias correction; `step` counts from 1.
  void adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, float lr, float beta1, float beta2,
                 float eps, int step);

 protected:
  // What a backend implements: each op above, called only after its checks passed.
  virtual Tensor run_alloc(Shape shape) = 0;
  virtual void run_upload(Tensor& dst, std::span<const float> src) = 0;
  virtual std::vector<float> run_download(const Tensor& src) = 0;
  virtual void run_finish() = 0;
  virtual double run_read_scalar(const Tensor& t) { return double(run_download(t).front()); }
  virtual void run_fill(Tensor& t, float value) = 0;
  virtual void run_copy(const Tensor& src, Tensor& dst) = 0;

  virtual void run_conv2d(const Tensor& x, const Tensor& w, int pad, Tensor& y) = 0;
  virtual void run_conv2d_backward_input(const Tensor& dy, const Tensor& w, int pad, Tensor& dx,
                                         bool accumulate) = 0;
  virtual void run_conv2d_backward_weight(const Tensor& x, const Tensor& dy, int pad, Tensor& dw,
                                          bool accumulate) = 0;
  virtual void run_add_channel_bias(Tensor& y, const Tensor& bias) = 0;
  virtual void run_channel_sum(const Tensor& dy, Tensor& dbias, bool accumulate) = 0;

  virtual void run_maxpool(const Tensor& x, int k, Tensor& y, Tensor& switches) = 0;
  virtual void run_unpool(const Tensor& y, const Tensor& switches, int k, Tensor& x) = 0;
  virtual void run_unpool_backward(const Tensor& dx, const Tensor& switches, int k, Tensor& dy) = 0;
  virtual void run_upsample(const Tensor& x, int k, Tensor& y) = 0;
  virtual void run_sum_pool(const Tensor& x, int k, Tensor& y) = 0;
  virtual void run_mean_pool(const Tensor& x, Tensor& y) = 0;
  virtual void run_mean_pool_backward(const Tensor& dy, Tensor& dx) = 0;

  virtual void run_relu(const Tensor& x, Tensor& y, Tensor& mask) = 0;
  virtual void run_mul(const Tensor& a, const Tensor& b, Tensor& y) = 0;
  virtual void run_axpy(float alpha, const Tensor& x, Tensor& y) = 0;
  virtual void run_scale(Tensor& y, float alpha) = 0;

  virtual void run_batchnorm_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, float momentum,
                                   float eps, Tensor& running_mean, Tensor& running_var, Tensor& y,
                                   Tensor& saved_mean, Tensor& saved_inv_std) = 0;
  virtual void run_batchnorm_infer(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                   const Tensor& running_mean, const Tensor& running_var, float eps,
                                   Tensor& y) = 0;
  virtual void run_batchnorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                      const Tensor& saved_mean, const Tensor& saved_inv_std, Tensor& dx,
                                      Tensor& dgamma, Tensor& dbeta) = 0;

  virtual void run_softmax(const Tensor& logits, Tensor& q) = 0;
  virtual void run_cross_entropy(const Tensor& q, const Tensor& labels, float weight, Tensor& loss,
                                 Tensor& dlogits) = 0;
  virtual void run_kl_loss(const Tensor& q, bool paper_sign, float weight, Tensor& loss, Tensor& dlogits) = 0;
  virtual void run_reconstruction_loss(const Tensor& a, const Tensor& b, float weight, Tensor& loss,
                                       Tensor& da) = 0;
  virtual void run_nonnegativity_loss(const Tensor& z, float weight, Tensor& loss, Tensor& dz) = 0;
  virtual void run_rendering_prior(const Tensor& masked, const Tensor& mask, const Tensor& bias, float sign,
                                   float weight, Tensor& loss, Tensor& dz) = 0;
  virtual void run_render_class_onehot(const Tensor& q, const Tensor& labels, bool use_labels, Tensor& onehot);

  virtual void run_batch_mean_ema(const Tensor& x, float decay, Tensor& ema) = 0;
  virtual void run_sgd_step(Tensor& param, const Tensor& grad, Tensor& velocity, float lr, float momentum) = 0;
  virtual void run_adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, float lr, float beta1,
                             float beta2, float eps, int step) = 0;
};

}  // namespace drmm
