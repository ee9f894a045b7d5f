#pragma once
// The Non-Negative Deep Rendering Mixture Model of paper 002 (Nguyen et al., CVPR 2017),
// as DESIGN.md §3.2 restates it, running on any Backend.
//
// Bottom-up E-step = the CNN forward pass; it records the rendering path: per conv layer the
// template switches a = [h > 0], per max pool the position switches t, and the class
// posterior q(c|I) (paper 000 §3; paper 002 eq. 3–4). Top-down E-step = reconstruction: the
// class's one-hot vector rendered down through the same filters with the recorded a and t
// (paper 002 App. B, eq. 11–14). Both passes are differentiable in the weights; the masks
// and the rendered class are constants of the E-step.
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/backend/backend.h"
#include "core/model/model_spec.h"

namespace drmm {

// A trainable tensor with its gradient and optimiser state (velocity, or Adam's m and v).
struct Parameter {
  std::string name;
  Tensor value, grad, state1, state2;
};

// Buffers that are not trained but are part of the model: batch-norm running statistics and
// the exponential moving averages of latent frequencies π_a, π_t (DESIGN.md §3.4).
struct Buffer {
  std::string name;
  Tensor value;
};

// The four loss terms of one batch (unweighted; the objective is Σ α·term, paper 002 eq. 5).
// L_RC is the squared error averaged over the batch and over the D = C·H·W pixels, as in the
// authors' code, and divided by the training images' mean squared pixel E (StepOptions):
// (1/(N·D·E)) Σ_n ‖I_n − Î_n‖², 1 for Î = 0 on every dataset. Summed over pixels instead, it
// outweighs L_H by two orders of magnitude at the paper's α_RC and the classifier stops learning
// (measured on Fashion-MNIST with the tiny preset: 30 % vs 59 % test accuracy after 120 steps).
// L_RPN (paper 004 eq. 10) is η of the all-zero input's path minus η of the image's, per level the
// mean over its elements (README "NRM").
struct LossValues {
  double h = 0, rc = 0, kl = 0, nn = 0, rpn = 0;
  double total(const LossWeights& a) const { return a.h * h + a.rc * rc + a.kl * kl + a.nn * nn + a.rpn * rpn; }
};

struct StepOptions {
  LossWeights alpha;
  bool kl_paper_sign = false;
  bool render_label_when_known = true;  // top-down from the true label for labeled images
  // E, the mean squared pixel of the training images (Dataset::mean_pixel_energy). Without it the
  // pull of α_RC scaled with the data's brightness: on the mostly black synthetic shapes
  // (E 0.06 against Fashion-MNIST's 0.2) the same α_RC rendered at r(I, Î) 0.82 against 0.94.
  float image_energy = 1.0f;
};

class DrmmModel {
 public:
  DrmmModel(ModelSpec spec, Backend& backend, uint64_t seed);

  const ModelSpec& spec() const { return spec_; }
  float pixel_count() const { return float(spec_.channels * spec_.height * spec_.width); }
  Backend& backend() const { return backend_; }
  std::vector<Parameter>& parameters() { return params_; }
  std::vector<Buffer>& buffers() { return buffers_; }

  // ---- E-step ----------------------------------------------------------------------------
  // Bottom-up on `images` (N×C×H×W). training: batch statistics (and running-stat and π
  // updates); otherwise the running statistics. Records a, t and q for the top-down pass.
  void bottom_up(const Tensor& images, bool training);
  const Tensor& class_probabilities() const;  // q(c|I), N×C×1×1, after bottom_up
  // The class scores q is the softmax of: the mean pool's output, or for a Max-Min network the
  // mean of both branches' (N×C×1×1, after bottom_up).
  const Tensor& class_scores() const;
  // Top-down from the class: from labels[n] when ≥ 0 and use_labels, else from ĉ. Returns Î.
  const Tensor& top_down(const Tensor& labels, bool use_labels);
  // "Reconstruct from level ℓ": the top-down pass started from the bottom-up output of layer
  // `level` (0-based layer index) instead of from the class. Returns the rendered image.
  const Tensor& reconstruct_from_level(size_t level);
  // Bottom-up output of layer `level` (after bottom_up).
  const Tensor& level_output(size_t level) const;
  // The template the last top-down pass rendered at the input of layer `layer` (z at that
  // level; layer 0's is Î). Valid after top_down or reconstruct_from_level.
  const Tensor& rendered_input(size_t layer) const;

  // ---- rendering with chosen latents (rendering paths, generation, activity maximization) --
  // The latents of layer `layer` for the current batch: a (N×C×H×W at the conv's output) for a
  // conv with ReLU, t (N×C×H×W at the pool's input) for a max pool; false for other layers.
  bool has_latents(size_t layer) const;
  const Tensor& latents(size_t layer) const;
  // The learned frequencies of those latents (DESIGN.md §3.4): π_a = P(a = 1) per unit of the
  // conv's output, π_t = P(t = 1) per position of the pool's input; 1×C×H×W.
  const Tensor& latent_frequencies(size_t layer) const;
  void set_latent_frequencies(size_t layer, std::span<const float> values);  // 1×C×H×W values
  // Replaces them (an edited path, sampled latents, the best latents of activity maximization).
  void set_latents(size_t layer, std::span<const float> values);
  // Selects the batch of `n` images without a bottom-up pass, for rendering latents set by hand.
  void use_batch(int n);
  // Sets the latents of layer `layer` from z, the template rendered at that layer's output (a
  // conv) or input (a max pool, z = upsample of its output), just before that layer renders:
  // greedy top-down choices (activity maximization).
  using LatentChooser = std::function<void(size_t layer, const Tensor& z)>;
  // Renders the classes `onehot` (N×C×1×1, any weights) top-down with the current latents, the
  // same pass as top_down (paper 002 eq. 11–14), or with the latents `choose` sets on the way
  // down. Returns the image.
  const Tensor& render_classes(const Tensor& onehot, const LatentChooser* choose = nullptr);
  // Host images (whole C×H×W images one after the other) as an N×C×H×W tensor, and the one-hot
  // rows N×C×1×1 of `classes`; both throw drmm::Error naming the model on a wrong size or class.
  Tensor upload_images(std::span<const float> images) const;
  Tensor class_onehots(std::span<const int> classes) const;
  // The adjoint of the last top-down pass applied to `image_like` (N×C×H×W): afterwards
  // rendering_adjoint(ℓ) = ∂⟨image_like, Î⟩/∂z at the input of layer ℓ ≥ 1, where z is
  // rendered_input(ℓ). The pass is linear in z given the latents, so Σ z ⊙ adjoint equals
  // ⟨image_like, Î⟩ at every level: per unit, its contribution to Î (rendering paths).
  void render_adjoint(const Tensor& image_like);
  const Tensor& rendering_adjoint(size_t layer) const;
  // ∂/∂I of the mean over the map of channel `channel` at the output of layer `level` (a class
  // score s_c at the mean pool), for the images of the last bottom_up, which must have run in
  // inference mode: the gradient the classic activity maximization ascends (DESIGN.md §3.5).
  // `channels` holds one channel for every image, or one for all of them. With `choose`, the
  // latents of each layer that has them are first set from the gradient arriving there (as in
  // render_classes_choosing): the greedy choice of activity maximization's closed form.
  const Tensor& input_gradient(size_t level, std::span<const int> channels, const LatentChooser* choose = nullptr);
  const Tensor& input_gradient(size_t level, int channel) { return input_gradient(level, std::span<const int>(&channel, 1)); }

  // ---- training (one EG step: E-step, then gradients of L for the M-step) -----------------
  // Runs both E-step passes and computes ∂L/∂θ into each Parameter's grad. `labels` holds the
  // class for labeled images and −1 for unlabeled ones. Loss values are left in device tensors;
  // read them with read_losses() (which waits for the backend).
  void compute_gradients(const Tensor& images, const Tensor& labels, const StepOptions& options);
  LossValues read_losses();
  // One optimiser step on every parameter (DESIGN.md §3.2 M-step).
  void sgd_step(float lr, float momentum);
  void adam_step(float lr, int step);

  // The rollback point of a training step: every parameter with its optimiser state and every
  // buffer (batch-norm statistics, latent frequencies), copied on the backend.
  void keep_state();
  void restore_kept_state();  // back to the last keep_state()
  // Whether every weight is finite and below `limit` in magnitude (downloads the values).
  bool parameters_within(float limit);

  // The rendering of a one-hot at the output of layer `level`, channel `channel`, centred:
  // what a single template of that layer draws in pixel space (used for filter views). The
  // masks are all ones (every switch on, centre position of each pool window).
  std::vector<float> render_unit(size_t level, int channel);

 private:
  // Per-layer activations, masks and gradients for one batch size. Tensors that are the same
  // value share storage (a layer without batch norm has normed == pre; without ReLU, out == normed).
  struct LayerState {
    Tensor pre, normed, out;            // bottom-up: conv output h, after batch norm, layer output
                                        // (max pool after a ReLU: max h, its ReLU mask, the output)
    Tensor mask;                        // a = [normed > 0] for a conv with ReLU; t for a max pool
    Tensor saved_mean, saved_inv_std;   // batch-norm statistics for the backward pass
    Tensor grad_out, grad_pre;          // bottom-up backward: ∂L/∂out, ∂L/∂pre
    Tensor rendered_in;                 // top-down: z rendered at this layer's input
    Tensor masked;                      // top-down: z at this layer's output times a (conv)
    Tensor scaled;                      // top-down with bn_render_scale: γ/σ ⊙ masked (conv with BN)
    Tensor rendered_grad;               // top-down backward: ∂L/∂rendered_in
    Tensor prior_sums;                  // RPN: Σ over images and positions of a ⊙ z per channel
    Tensor negated;                     // min branch: −h of a conv (before its negative ReLU), −x of a pool
  };
  // The bottom-up branches of the Max-Min network (ModelSpec::max_min); a plain DRMM has Max only.
  enum class Branch { Max, Min };
  struct BatchState {
    std::vector<LayerState> layers;       // the max branch (the CNN of the DRMM), with the top-down pass
    std::vector<LayerState> min_layers;   // the min branch, when max_min
    Tensor logits;                        // the class scores q is the softmax of (the max branch's, or the branches' mean)
    Tensor onehot, q, dlogits, dimage;
    Tensor q_max, q_min, dlogits_max, dlogits_min;  // max_min: each branch's softmax and score gradient
  };
  BatchState& ensure_batch(int n);
  void allocate_batch(BatchState& state, int n);
  LayerState allocate_layer(size_t i, int n, Branch branch);
  void run_bottom_up_layers(bool training);
  void bottom_up_branch(Branch branch, bool training);
  std::vector<LayerState>& branch_layers(Branch branch) const;
  void max_min_cross_entropy(const Tensor& labels, float weight);
  void negate(const Tensor& x, Tensor& y);
  void conv_bottom_up(size_t i, Branch branch, bool training);
  void conv_backward(size_t i, Branch branch, Tensor* grad_in);
  void pool_bottom_up(size_t i, Branch branch);
  // Whether max pool `i` pools the pre-ReLU values of the conv below it (the ReLU applied after).
  bool pools_pre_activations(size_t i) const;
  void render_down(size_t top_layer, const Tensor& start, const LatentChooser* choose = nullptr);
  void adjoint_up(size_t i, const Tensor& grad, Tensor& grad_above, Tensor* gamma_grad = nullptr);
  bool renders_bn_scale(size_t layer) const;
  // After top_down (rendered from the top): a ⊙ z entering conv `layer` from above, and what Γᵀ
  // was applied to (that, or γ/σ of it).
  const Tensor& template_at(size_t layer) const;
  const Tensor& rendered_template(size_t layer) const;
  void scale_by_bn(size_t layer, const Tensor& x, const Tensor& gamma, Tensor& y);  // y = γ/√(σ²+ε) ⊙ x
  const Tensor& channel_constant(int channels, float value);
  void bottom_up_backward(Branch branch, const Tensor& dlogits);
  // Through the top-down pass of the current batch: ∂L/∂Î from dimage, plus at each level L_NN's
  // term (weight nn; nn < 0: none, as on the bias path) and the rendering prior's (weight rpn,
  // sign rpn_sign; 0: none).
  void top_down_backward(float nn, float rpn, float rpn_sign);
  bool prior_covers(size_t layer) const;
  void add_rendering_prior(size_t layer, float weight, float sign, Tensor& grad_above);
  void rendering_path_normalization(const StepOptions& options);
  std::vector<Tensor*> state_tensors();  // what keep_state() copies, in its order
  bool nonnegativity_covers(size_t layer) const;
  const Tensor& layer_input(size_t i, Branch branch = Branch::Max) const;
  void add_parameter(const std::string& name, Shape shape);
  void add_buffer(const std::string& name, Shape shape, float value);

  ModelSpec spec_;
  Backend& backend_;
  std::vector<Parameter> params_;
  std::vector<Buffer> buffers_;
  std::vector<int> param_index_;   // per layer: index of its weight in params_ (−1: none)
  std::vector<int> buffer_index_;  // per layer: index of its running mean in buffers_ (−1: none)
  std::vector<int> min_buffer_index_;  // the same for the min branch's running statistics (max_min)
  std::vector<int> latent_index_;  // per layer: index of its π buffer in buffers_ (−1: none)
  std::vector<int> bias_index_;    // per layer: index of its conv bias in params_ (−1: none)
  std::map<int, BatchState> batches_;   // by batch size: training and probe batches alternate
  BatchState* state_ = nullptr;          // the batch size of the last bottom_up
  Tensor images_;                        // the last bottom_up's input (a handle, not a copy)
  Tensor loss_h_, loss_kl_, loss_rc_, loss_nn_, loss_rpn_;
  Tensor loss_h_min_;  // max_min: the min branch's cross-entropy
  // RPN: the batch of one all-zero image whose bottom-up path is the bias path (paper 004 App. B.2),
  // rendered from the rendered classes' histogram.
  BatchState bias_path_;
  Tensor zero_image_;
  std::vector<Tensor> kept_;   // keep_state(): value, state1, state2 per parameter, then buffers
  float rc_normaliser_ = 1.0f;  // D·E of the last compute_gradients: loss_rc_ holds L_RC times it
  std::map<std::pair<int, float>, Tensor> channel_constants_;  // 1×C×1×1 by (C, value): batch norm's scale alone
};

}  // namespace drmm
