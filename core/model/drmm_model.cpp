#include "core/model/drmm_model.h"

#include <cmath>

#include "core/util/error.h"
#include "core/util/random.h"

namespace drmm {
namespace {

// Decay of the latent-frequency averages π_a, π_t (DESIGN.md §3.4): about the last 100 batches.
constexpr float kLatentDecay = 0.99f;

Shape batched(Shape per_image, int n) {
  per_image.n = n;
  return per_image;
}

int conv_pad(const LayerSpec& layer) { return conv_padding(layer.mode, layer.kernel); }

}  // namespace

// ---- construction ------------------------------------------------------------------------

void DrmmModel::add_parameter(const std::string& name, Shape shape) {
  params_.push_back(Parameter{name, backend_.alloc(shape), backend_.alloc(shape), backend_.alloc(shape),
                              backend_.alloc(shape)});
}

void DrmmModel::add_buffer(const std::string& name, Shape shape, float value) {
  buffers_.push_back(Buffer{name, backend_.alloc(shape)});
  if (value != 0.0f) backend_.fill(buffers_.back().value, value);
}

DrmmModel::DrmmModel(ModelSpec spec, Backend& backend, uint64_t seed) : spec_(std::move(spec)), backend_(backend) {
  spec_.resolve_shapes();
  Random random(seed);
  for (const LayerSpec& layer : spec_.layers) {
    param_index_.push_back(-1);
    buffer_index_.push_back(-1);
    min_buffer_index_.push_back(-1);
    latent_index_.push_back(-1);
    bias_index_.push_back(-1);
    if (layer.kind == LayerKind::Conv) {
      param_index_.back() = int(params_.size());
      const Shape w{layer.filters, layer.input.c, layer.kernel, layer.kernel};
      add_parameter(layer.name + ".weight", w);
      // He initialisation (He et al. 2015): keeps the bottom-up activations' scale per layer.
      const double stddev = std::sqrt(2.0 / double(w.per_image()));
      std::vector<float> init(w.count());
      for (float& v : init) v = float(stddev * random.normal());
      backend_.upload(params_.back().value, init);
      if (layer.batchnorm) {
        const Shape channel{1, layer.filters, 1, 1};
        add_parameter(layer.name + ".gamma", channel);
        backend_.fill(params_.back().value, 1.0f);
        add_parameter(layer.name + ".beta", channel);
        buffer_index_.back() = int(buffers_.size());
        add_buffer(layer.name + ".running_mean", channel, 0.0f);
        add_buffer(layer.name + ".running_var", channel, 1.0f);
        if (spec_.max_min) {  // the min branch normalises its own activations (paper 004 Fig. 5)
          min_buffer_index_.back() = int(buffers_.size());
          add_buffer(layer.name + ".running_mean_min", channel, 0.0f);
          add_buffer(layer.name + ".running_var_min", channel, 1.0f);
        }
      }
      if (layer.bias) {  // zero: a flat prior over the rendering configurations (paper 004 eq. 1)
        bias_index_.back() = int(params_.size());
        add_parameter(layer.name + ".bias", Shape{1, layer.filters, 1, 1});
      }
      if (layer.relu) {
        latent_index_.back() = int(buffers_.size());
        add_buffer(layer.name + ".pi_a", layer.output, 0.5f);
      }
    } else if (layer.kind == LayerKind::MaxPool) {
      latent_index_.back() = int(buffers_.size());
      add_buffer(layer.name + ".pi_t", layer.input, 1.0f / float(layer.kernel * layer.kernel));
    }
  }
  for (Tensor* loss : {&loss_h_, &loss_kl_, &loss_rc_, &loss_nn_, &loss_rpn_, &loss_h_min_}) *loss = backend_.alloc(Shape{});
}

DrmmModel::BatchState& DrmmModel::ensure_batch(int n) {
  auto found = batches_.find(n);
  if (found != batches_.end()) return found->second;
  BatchState& state = batches_[n];
  allocate_batch(state, n);
  return state;
}

// Layer i's tensors for a batch of n. The min branch has no top-down pass.
DrmmModel::LayerState DrmmModel::allocate_layer(size_t i, int n, Branch branch) {
  const LayerSpec& layer = spec_.layers[i];
  const bool renders = branch == Branch::Max;
  LayerState s;
  const Shape in = batched(layer.input, n), out = batched(layer.output, n);
  if (renders) {
    s.rendered_in = backend_.alloc(in);
    s.rendered_grad = backend_.alloc(in);
  }
  s.grad_out = backend_.alloc(out);
  if (layer.kind == LayerKind::Conv) {
    s.pre = backend_.alloc(out);
    s.normed = layer.batchnorm ? backend_.alloc(out) : s.pre;
    s.out = layer.relu ? backend_.alloc(out) : s.normed;
    if (layer.relu) s.mask = backend_.alloc(out);
    s.grad_pre = layer.batchnorm ? backend_.alloc(out) : s.grad_out;
    if (renders && layer.relu) s.masked = backend_.alloc(out);
    if (renders && layer.batchnorm && spec_.bn_render_scale) s.scaled = backend_.alloc(out);
    if (layer.batchnorm) {
      s.saved_mean = backend_.alloc(Shape{1, layer.filters, 1, 1});
      s.saved_inv_std = backend_.alloc(Shape{1, layer.filters, 1, 1});
    }
    if (renders && layer.bias && layer.relu) s.prior_sums = backend_.alloc(Shape{1, layer.filters, 1, 1});
    if (!renders && layer.relu) s.negated = backend_.alloc(out);
  } else {
    s.out = backend_.alloc(out);
    if (layer.kind == LayerKind::MaxPool) {
      s.mask = backend_.alloc(in);
      s.pre = backend_.alloc(out);     // max of the pre-ReLU values below, before the ReLU
      s.normed = backend_.alloc(out);
      if (!renders && !pools_pre_activations(i)) s.negated = backend_.alloc(in);  // else the conv's
    }
  }
  return s;
}

void DrmmModel::allocate_batch(BatchState& state, int n) {
  for (size_t i = 0; i < spec_.layers.size(); ++i) {
    state.layers.push_back(allocate_layer(i, n, Branch::Max));
    if (spec_.max_min) state.min_layers.push_back(allocate_layer(i, n, Branch::Min));
  }
  const Shape scores{n, spec_.classes, 1, 1};
  state.onehot = backend_.alloc(scores);
  state.q = backend_.alloc(scores);
  state.dlogits = backend_.alloc(scores);
  state.logits = spec_.max_min ? backend_.alloc(scores) : state.layers.back().out;
  if (spec_.max_min)
    for (Tensor* t : {&state.q_max, &state.q_min, &state.dlogits_max, &state.dlogits_min}) *t = backend_.alloc(scores);
  state.dimage = backend_.alloc(Shape{n, spec_.channels, spec_.height, spec_.width});
}

std::vector<DrmmModel::LayerState>& DrmmModel::branch_layers(Branch branch) const {
  return branch == Branch::Max ? state_->layers : state_->min_layers;
}

const Tensor& DrmmModel::layer_input(size_t i, Branch branch) const {
  return i == 0 ? images_ : branch_layers(branch)[i - 1].out;
}

void DrmmModel::negate(const Tensor& x, Tensor& y) {
  backend_.copy(x, y);
  backend_.scale(y, -1.0f);
}


// ---- bottom-up E-step (DESIGN.md §3.2: the CNN forward pass) -------------------------------

void DrmmModel::conv_bottom_up(size_t i, Branch branch, bool training) {
  const LayerSpec& layer = spec_.layers[i];
  LayerState& s = branch_layers(branch)[i];
  const int w = param_index_[i];
  backend_.conv2d(layer_input(i, branch), params_[w].value, conv_pad(layer), s.pre);
  // The bias is the log-prior of the rendering configuration (paper 004 Thm. 3.2): it moves
  // which templates switch on, a = [h > 0], and is not rendered top-down.
  if (layer.bias) backend_.add_channel_bias(s.pre, params_[bias_index_[i]].value);
  if (layer.batchnorm) {
    const Tensor &gamma = params_[w + 1].value, &beta = params_[w + 2].value;
    const int stats = branch == Branch::Max ? buffer_index_[i] : min_buffer_index_[i];
    Tensor &mean = buffers_[stats].value, &var = buffers_[stats + 1].value;
    if (training)
      backend_.batchnorm_train(s.pre, gamma, beta, spec_.bn_momentum, spec_.bn_eps, mean, var, s.normed,
                               s.saved_mean, s.saved_inv_std);
    else
      backend_.batchnorm_infer(s.pre, gamma, beta, mean, var, spec_.bn_eps, s.normed);
  }
  if (!layer.relu) return;
  if (branch == Branch::Min) {  // the negative ReLU min(h, 0) = −relu(−h), switch [h < 0]
    negate(s.normed, s.negated);
    backend_.relu(s.negated, s.out, s.mask);
    backend_.scale(s.out, -1.0f);
    return;
  }
  backend_.relu(s.normed, s.out, s.mask);  // a = [h > 0]: which templates are rendered
  if (training) backend_.batch_mean_ema(s.mask, kLatentDecay, buffers_[latent_index_[i]].value);
}

// The max pool records its switch t on the pre-ReLU values h of the conv below (DESIGN.md §3.2):
// t = argmax_window h. On the post-ReLU values a window whose units are all off would tie at 0
// and record its first position, biasing π_t towards the upper left, which sampling draws from.
// The pooled value is the same either way, max relu(h) = relu(max h), and so is the rendering:
// a = 0 at every position of such a window.
// The min branch's min pool is −maxpool(−x) (paper 004 §5), after its negative ReLU
// min(min h, 0) = −relu(max(−h)): the max branch's steps on the negated values, negated back.
bool DrmmModel::pools_pre_activations(size_t i) const {
  return i > 0 && spec_.layers[i - 1].kind == LayerKind::Conv && spec_.layers[i - 1].relu;
}

void DrmmModel::pool_bottom_up(size_t i, Branch branch) {
  const LayerSpec& layer = spec_.layers[i];
  std::vector<LayerState>& layers = branch_layers(branch);
  LayerState& s = layers[i];
  const bool min = branch == Branch::Min;
  if (!pools_pre_activations(i)) {
    if (min) negate(layer_input(i, branch), s.negated);
    backend_.maxpool(min ? s.negated : layer_input(i, branch), layer.kernel, s.out, s.mask);
  } else {
    backend_.maxpool(min ? layers[i - 1].negated : layers[i - 1].normed, layer.kernel, s.pre, s.mask);
    backend_.relu(s.pre, s.out, s.normed);  // `normed` holds the pooled units' on/off here; unused
  }
  if (min) backend_.scale(s.out, -1.0f);
}

void DrmmModel::bottom_up(const Tensor& images, bool training) {
  const Shape expected{images.shape().n, spec_.channels, spec_.height, spec_.width};
  if (images.shape() != expected)
    throw Error("model '" + spec_.name + "' takes images of " + expected.str() + ", got " + images.shape().str());
  state_ = &ensure_batch(images.shape().n);
  images_ = images;
  run_bottom_up_layers(training);
}

void DrmmModel::run_bottom_up_layers(bool training) {
  bottom_up_branch(Branch::Max, training);
  if (spec_.max_min) {
    bottom_up_branch(Branch::Min, training);
    // The Max-Min network predicts from ½(z_max + z_min) (paper 004 §5).
    backend_.copy(state_->layers.back().out, state_->logits);
    backend_.axpy(1.0f, state_->min_layers.back().out, state_->logits);
    backend_.scale(state_->logits, 0.5f);
  }
  backend_.softmax(state_->logits, state_->q);  // q(c|I), paper 002 eq. 4
}

void DrmmModel::bottom_up_branch(Branch branch, bool training) {
  std::vector<LayerState>& layers = branch_layers(branch);
  for (size_t i = 0; i < spec_.layers.size(); ++i) {
    const LayerSpec& layer = spec_.layers[i];
    LayerState& s = layers[i];
    switch (layer.kind) {
      case LayerKind::Conv: conv_bottom_up(i, branch, training); break;
      case LayerKind::MaxPool:
        pool_bottom_up(i, branch);
        if (training && branch == Branch::Max)
          backend_.batch_mean_ema(s.mask, kLatentDecay, buffers_[latent_index_[i]].value);
        break;
      case LayerKind::MeanPool: backend_.mean_pool(layer_input(i, branch), s.out); break;  // class scores s
    }
  }
}

const Tensor& DrmmModel::class_probabilities() const {
  if (!state_) throw Error("class_probabilities: run bottom_up first");
  return state_->q;
}

const Tensor& DrmmModel::class_scores() const {
  if (!state_) throw Error("class_scores: run bottom_up first");
  return state_->logits;
}

const Tensor& DrmmModel::level_output(size_t level) const {
  if (!state_ || level >= state_->layers.size()) throw Error("level_output: no such level or no bottom-up yet");
  return state_->layers[level].out;
}

const Tensor& DrmmModel::rendered_input(size_t layer) const {
  if (!state_ || layer >= state_->layers.size()) throw Error("rendered_input: no such layer or no top-down yet");
  return state_->layers[layer].rendered_in;
}

// ---- top-down E-step (paper 002 App. B, eq. 11–14) -----------------------------------------

// Renders z from the output of layer `top_layer` down to the pixels:
// z^{ℓ−1} = Γ^ℓᵀ ∗ (a^ℓ ⊙ z^ℓ) for a conv, z^{ℓ−1} = t^ℓ ⊙ upsample(z^ℓ) for a max pool, and
// the mean pool inverted by upsampling with weight 1/area (DESIGN.md §3.2). No batch norm
// (paper 002 Table 6), unless the spec asks for its scale: Γᵀ ∗ (γ/σ ⊙ a ⊙ z).
// `choose`, when given, sets each latent layer's mask from the z arriving there first.
void DrmmModel::render_down(size_t top_layer, const Tensor& start, const LatentChooser* choose) {
  const Tensor* z = &start;
  for (size_t i = top_layer + 1; i-- > 0;) {
    const LayerSpec& layer = spec_.layers[i];
    LayerState& s = state_->layers[i];
    switch (layer.kind) {
      case LayerKind::MeanPool: backend_.mean_pool_backward(*z, s.rendered_in); break;
      case LayerKind::MaxPool:
        if (choose) {
          backend_.upsample(*z, layer.kernel, s.rendered_in);
          (*choose)(i, s.rendered_in);
        }
        backend_.unpool(*z, s.mask, layer.kernel, s.rendered_in);
        break;
      case LayerKind::Conv: {
        const Tensor* rendered = z;  // z may be the start, above which nothing was rendered
        if (layer.relu) {
          if (choose) (*choose)(i, *z);
          backend_.mul(*z, s.mask, s.masked);
          rendered = &s.masked;
        }
        if (renders_bn_scale(i)) {
          scale_by_bn(i, *rendered, params_[param_index_[i] + 1].value, s.scaled);
          rendered = &s.scaled;
        }
        backend_.conv2d_backward_input(*rendered, params_[param_index_[i]].value, conv_pad(layer), s.rendered_in,
                                       false);
        break;
      }
    }
    z = &s.rendered_in;
  }
}

const Tensor& DrmmModel::top_down(const Tensor& labels, bool use_labels) {
  if (!state_) throw Error("top_down: run bottom_up first");
  backend_.render_class_onehot(state_->q, labels, use_labels, state_->onehot);
  render_down(spec_.layers.size() - 1, state_->onehot);
  return state_->layers[0].rendered_in;
}

const Tensor& DrmmModel::reconstruct_from_level(size_t level) {
  render_down(level, level_output(level));
  return state_->layers[0].rendered_in;
}

// ---- rendering with chosen latents -------------------------------------------------------

bool DrmmModel::has_latents(size_t layer) const {
  if (layer >= spec_.layers.size()) return false;
  const LayerSpec& spec = spec_.layers[layer];
  return spec.kind == LayerKind::MaxPool || (spec.kind == LayerKind::Conv && spec.relu);
}

const Tensor& DrmmModel::latents(size_t layer) const {
  if (!state_ || !has_latents(layer)) throw Error("latents: layer " + std::to_string(layer) + " has no latents or no batch yet");
  return state_->layers[layer].mask;
}

const Tensor& DrmmModel::latent_frequencies(size_t layer) const {
  if (!has_latents(layer)) throw Error("latent_frequencies: layer " + std::to_string(layer) + " has no latents");
  return buffers_[latent_index_[layer]].value;
}

void DrmmModel::set_latent_frequencies(size_t layer, std::span<const float> values) {
  if (!has_latents(layer)) throw Error("set_latent_frequencies: layer " + std::to_string(layer) + " has no latents");
  Tensor& pi = buffers_[latent_index_[layer]].value;
  if (values.size() != pi.count())
    throw Error("set_latent_frequencies: " + spec_.layers[layer].name + " takes " + std::to_string(pi.count()) +
                " values, got " + std::to_string(values.size()));
  backend_.upload(pi, values);
}

void DrmmModel::set_latents(size_t layer, std::span<const float> values) {
  if (!state_ || !has_latents(layer)) throw Error("set_latents: layer " + std::to_string(layer) + " has no latents or no batch yet");
  Tensor& mask = state_->layers[layer].mask;
  if (values.size() != mask.count())
    throw Error("set_latents: " + spec_.layers[layer].name + " takes " + std::to_string(mask.count()) + " values, got " +
                std::to_string(values.size()));
  backend_.upload(mask, values);
}

void DrmmModel::use_batch(int n) {
  if (n <= 0) throw Error("use_batch: the batch needs at least one image");
  state_ = &ensure_batch(n);
}

const Tensor& DrmmModel::render_classes(const Tensor& onehot, const LatentChooser* choose) {
  if (!state_ || onehot.shape() != state_->onehot.shape()) throw Error("render_classes: one-hot does not match the batch");
  render_down(spec_.layers.size() - 1, onehot, choose);
  return state_->layers[0].rendered_in;
}

Tensor DrmmModel::upload_images(std::span<const float> images) const {
  const size_t d = spec_.image_size();
  if (images.empty() || images.size() % d != 0)
    throw Error("model '" + spec_.name + "' takes images of " + std::to_string(spec_.channels) + "×" +
                std::to_string(spec_.height) + "×" + std::to_string(spec_.width) + " (" + std::to_string(d) +
                " values each), got " + std::to_string(images.size()) + " values");
  Tensor t = backend_.alloc(Shape{int(images.size() / d), spec_.channels, spec_.height, spec_.width});
  backend_.upload(t, images);
  return t;
}

Tensor DrmmModel::class_onehots(std::span<const int> classes) const {
  const size_t c = size_t(spec_.classes);
  std::vector<float> values(classes.size() * c, 0.0f);
  for (size_t n = 0; n < classes.size(); ++n) {
    if (classes[n] < 0 || size_t(classes[n]) >= c)
      throw Error("no class " + std::to_string(classes[n]) + " (model '" + spec_.name + "' has " + std::to_string(c) + ")");
    values[n * c + size_t(classes[n])] = 1.0f;
  }
  Tensor t = backend_.alloc(Shape{int(classes.size()), int(c), 1, 1});
  backend_.upload(t, values);
  return t;
}

// One layer of the adjoint of the top-down pass: grad = ∂/∂(z at layer i's input) to
// grad_above = ∂/∂(z at its output). conv: a ⊙ Γ ⋆ grad (the transpose of Γᵀ ∗ (a ⊙ z));
// max pool: the window sums of t ⊙ grad (the transpose of t ⊙ upsample(z)).
// With batch norm's scale in the rendering, the conv's adjoint is a ⊙ γ/σ ⊙ (Γ ⋆ grad), and
// `gamma_grad`, when given, gets ∂/∂γ_c = Σ (a ⊙ z) ⊙ (Γ ⋆ grad) / σ_c (σ from the running
// statistics: a constant of the step, like the E-step's masks).
void DrmmModel::adjoint_up(size_t i, const Tensor& grad, Tensor& grad_above, Tensor* gamma_grad) {
  const LayerSpec& layer = spec_.layers[i];
  LayerState& s = state_->layers[i];
  if (layer.kind == LayerKind::Conv) {
    backend_.conv2d(grad, params_[param_index_[i]].value, conv_pad(layer), grad_above);
    if (renders_bn_scale(i)) {
      if (gamma_grad) {
        // grad_pre is free here: the bottom-up backward, its other user, has run.
        backend_.mul(grad_above, template_at(i), s.grad_pre);
        scale_by_bn(i, s.grad_pre, channel_constant(layer.filters, 1.0f), s.grad_pre);
        backend_.channel_sum(s.grad_pre, *gamma_grad, true);
      }
      scale_by_bn(i, grad_above, params_[param_index_[i] + 1].value, grad_above);
    }
    if (layer.relu) backend_.mul(grad_above, s.mask, grad_above);
  } else {
    backend_.unpool_backward(grad, s.mask, layer.kernel, grad_above);
  }
}

void DrmmModel::render_adjoint(const Tensor& image_like) {
  if (!state_ || image_like.shape() != state_->dimage.shape()) throw Error("render_adjoint: image does not match the batch");
  const size_t last = spec_.layers.size() - 1;
  for (size_t i = 0; i < last; ++i)
    adjoint_up(i, i == 0 ? image_like : state_->layers[i].rendered_grad, state_->layers[i + 1].rendered_grad);
}

const Tensor& DrmmModel::rendering_adjoint(size_t layer) const {
  if (!state_ || layer == 0 || layer >= spec_.layers.size()) throw Error("rendering_adjoint: no such layer");
  return state_->layers[layer].rendered_grad;
}

const Tensor& DrmmModel::channel_constant(int channels, float value) {
  auto found = channel_constants_.find({channels, value});
  if (found == channel_constants_.end()) {
    found = channel_constants_.emplace(std::pair{channels, value}, backend_.alloc(Shape{1, channels, 1, 1})).first;
    backend_.fill(found->second, value);
  }
  return found->second;
}

bool DrmmModel::renders_bn_scale(size_t layer) const {
  return spec_.bn_render_scale && spec_.layers[layer].kind == LayerKind::Conv && spec_.layers[layer].batchnorm;
}

const Tensor& DrmmModel::template_at(size_t layer) const {
  return spec_.layers[layer].relu ? state_->layers[layer].masked : state_->layers[layer + 1].rendered_in;
}

const Tensor& DrmmModel::rendered_template(size_t layer) const {
  return renders_bn_scale(layer) ? state_->layers[layer].scaled : template_at(layer);
}

// Batch norm's inference map is affine, γ (x − μ)/√(σ²+ε) + β; with zero shift it is the scale alone.
void DrmmModel::scale_by_bn(size_t layer, const Tensor& x, const Tensor& gamma, Tensor& y) {
  const Tensor& zeros = channel_constant(spec_.layers[layer].filters, 0.0f);
  backend_.batchnorm_infer(x, gamma, zeros, zeros, buffers_[buffer_index_[layer] + 1].value, spec_.bn_eps, y);
}

// Backpropagation of a unit's mean activity to the pixels through the inference-mode network:
// ReLU masks a, pool switches t, batch norm's per-channel scale γ/√(σ²+ε) (its inference map is
// affine; batchnorm_infer with zero shift computes exactly that scale times the gradient), and
// the transposed convolutions.
const Tensor& DrmmModel::input_gradient(size_t level, std::span<const int> channels, const LatentChooser* choose) {
  if (!state_ || level >= spec_.layers.size()) throw Error("input_gradient: run bottom_up first; no such level");
  const Shape out = state_->layers[level].out.shape();
  if (channels.size() != 1 && channels.size() != size_t(out.n))
    throw Error("input_gradient: one channel, or one per image of the batch");
  std::vector<float> seed(out.count(), 0.0f);
  const size_t area = size_t(out.h) * size_t(out.w);
  for (int n = 0; n < out.n; ++n) {
    const int channel = channels[channels.size() == 1 ? 0 : size_t(n)];
    if (channel < 0 || channel >= out.c)
      throw Error("input_gradient: " + spec_.layers[level].name + " has no channel " + std::to_string(channel));
    for (size_t p = 0; p < area; ++p) seed[(size_t(n) * out.c + size_t(channel)) * area + p] = 1.0f / float(area);
  }
  backend_.upload(state_->layers[level].grad_out, seed);
  for (size_t i = level + 1; i-- > 0;) {
    const LayerSpec& layer = spec_.layers[i];
    LayerState& s = state_->layers[i];
    Tensor& grad_in = i > 0 ? state_->layers[i - 1].grad_out : state_->dimage;
    switch (layer.kind) {
      case LayerKind::MeanPool: backend_.mean_pool_backward(s.grad_out, grad_in); break;
      case LayerKind::MaxPool:
        if (choose) {
          backend_.upsample(s.grad_out, layer.kernel, grad_in);
          (*choose)(i, grad_in);
        }
        backend_.unpool(s.grad_out, s.mask, layer.kernel, grad_in);
        break;
      case LayerKind::Conv: {
        const int w = param_index_[i];
        if (choose && layer.relu) (*choose)(i, s.grad_out);
        if (layer.relu) backend_.mul(s.grad_out, s.mask, s.grad_out);
        if (layer.batchnorm) scale_by_bn(i, s.grad_out, params_[w + 1].value, s.grad_pre);
        backend_.conv2d_backward_input(s.grad_pre, params_[w].value, conv_pad(layer), grad_in, false);
        break;
      }
    }
  }
  return state_->dimage;
}

// ---- gradients (both passes; masks and rendered class are E-step constants) -----------------

// The same for either branch: the min branch's negative ReLU passes the gradient where h < 0, its
// switch; its min pool routes it to the window's minimum, its switch.
void DrmmModel::conv_backward(size_t i, Branch branch, Tensor* grad_in) {
  const LayerSpec& layer = spec_.layers[i];
  LayerState& s = branch_layers(branch)[i];
  const int w = param_index_[i];
  if (layer.relu) backend_.mul(s.grad_out, s.mask, s.grad_out);
  if (layer.batchnorm)
    backend_.batchnorm_backward(s.grad_out, s.pre, params_[w + 1].value, s.saved_mean, s.saved_inv_std, s.grad_pre,
                                params_[w + 1].grad, params_[w + 2].grad);
  if (layer.bias) backend_.channel_sum(s.grad_pre, params_[bias_index_[i]].grad, true);
  backend_.conv2d_backward_weight(layer_input(i, branch), s.grad_pre, conv_pad(layer), params_[w].grad, true);
  if (grad_in) backend_.conv2d_backward_input(s.grad_pre, params_[w].value, conv_pad(layer), *grad_in, false);
}

void DrmmModel::bottom_up_backward(Branch branch, const Tensor& dlogits) {
  std::vector<LayerState>& layers = branch_layers(branch);
  for (size_t i = spec_.layers.size(); i-- > 0;) {
    const LayerSpec& layer = spec_.layers[i];
    LayerState& s = layers[i];
    Tensor* grad_in = i > 0 ? &layers[i - 1].grad_out : nullptr;
    switch (layer.kind) {
      case LayerKind::MeanPool: backend_.mean_pool_backward(dlogits, *grad_in); break;
      case LayerKind::MaxPool: backend_.unpool(s.grad_out, s.mask, layer.kernel, *grad_in); break;
      case LayerKind::Conv: conv_backward(i, branch, grad_in); break;
    }
  }
}

// The Max-Min cross-entropy (paper 004 §5, eq. 14): ½ CE(softmax z_max) + ½ CE(softmax z_min) on the
// labeled images. The gradient already in dlogits (L_KL's, on the prediction ½(z_max + z_min))
// reaches each branch's scores halved.
void DrmmModel::max_min_cross_entropy(const Tensor& labels, float weight) {
  BatchState& st = *state_;
  backend_.softmax(st.layers.back().out, st.q_max);
  backend_.softmax(st.min_layers.back().out, st.q_min);
  backend_.copy(st.dlogits, st.dlogits_max);
  backend_.scale(st.dlogits_max, 0.5f);
  backend_.copy(st.dlogits_max, st.dlogits_min);
  backend_.cross_entropy(st.q_max, labels, 0.5f * weight, loss_h_, st.dlogits_max);
  backend_.cross_entropy(st.q_min, labels, 0.5f * weight, loss_h_min_, st.dlogits_min);
}

// Whether L_NN covers the template rendered at the input of `layer` (paper 002 eq. 8: every
// level's z^ℓ once). The tensor entering a max pool from above is t ⊙ upsample(z) of the pool's
// output z: the same negative values again, so it is not counted a second time; the input of the
// mean pool is the class's one-hot spread over the map, not a rendered template.
bool DrmmModel::nonnegativity_covers(size_t layer) const {
  return layer > 0 && layer + 1 < spec_.layers.size() && spec_.layers[layer].kind != LayerKind::MaxPool;
}

// Whether the rendering prior η (paper 004 eq. 1) has a term at conv `layer`: a conv with a bias
// (the prior's parameter b) and a ReLU (the switch a it weighs). The class layer's bias would add
// b_ĉ for the image and the same Σ_c w_c b_c for the bias path: nothing to the difference.
bool DrmmModel::prior_covers(size_t layer) const {
  const LayerSpec& spec = spec_.layers[layer];
  return spec.kind == LayerKind::Conv && spec.bias && spec.relu;
}

// η's term at conv `layer`, ⟨b, a ⊙ z⟩ with z the template entering it from above, into loss_rpn_
// with `sign`; its gradient into grad_above (∂/∂z = b ⊙ a) and into the bias (∂/∂b = Σ a ⊙ z).
void DrmmModel::add_rendering_prior(size_t layer, float weight, float sign, Tensor& grad_above) {
  LayerState& s = state_->layers[layer];
  Parameter& bias = params_[bias_index_[layer]];
  backend_.rendering_prior(s.masked, s.mask, bias.value, sign, weight, loss_rpn_, grad_above);
  backend_.channel_sum(s.masked, s.prior_sums, false);
  backend_.axpy(sign * weight / float(s.masked.count()), s.prior_sums, bias.grad);
}

// Backpropagates ∂L/∂Î (L_RC), the L_NN terms of every intermediate rendering z^ℓ and the
// rendering prior's terms through the top-down pass, adding to each filter's gradient (the
// filters are shared by both passes).
void DrmmModel::top_down_backward(float nn, float rpn, float rpn_sign) {
  const size_t last = spec_.layers.size() - 1;  // the mean pool: nothing to learn above it
  for (size_t i = 0; i < last; ++i) {
    const LayerSpec& layer = spec_.layers[i];
    LayerState& s = state_->layers[i];
    const Tensor& grad = i == 0 ? state_->dimage : s.rendered_grad;
    Tensor& grad_above = state_->layers[i + 1].rendered_grad;
    Tensor* gamma_grad = nullptr;
    if (layer.kind == LayerKind::Conv) {
      backend_.conv2d_backward_weight(grad, rendered_template(i), conv_pad(layer), params_[param_index_[i]].grad, true);
      if (renders_bn_scale(i)) gamma_grad = &params_[param_index_[i] + 1].grad;
    }
    adjoint_up(i, grad, grad_above, gamma_grad);
    // L_NN on the intermediate rendered template z at this layer's output, the mean of its
    // squared negative part over the level's elements (DESIGN.md §3.2; README "L_NN").
    if (nn >= 0.0f && nonnegativity_covers(i + 1))
      backend_.nonnegativity_loss(state_->layers[i + 1].rendered_in, nn, loss_nn_, grad_above);
    if (rpn_sign != 0.0f && prior_covers(i)) add_rendering_prior(i, rpn, rpn_sign, grad_above);
  }
}

// The Rendering Path Normalization (paper 004 Thm. 3.3(b), eq. 10): −log p(ẑ | ĉ), the negative
// log-prior of the image's rendering path, with p(z | c) ∝ exp η(c, z) and η(c, z) = Σ_ℓ
// ⟨b^ℓ, a^ℓ ⊙ z^ℓ⟩ (eq. 1). The log-partition, a sum over every path, is replaced by its largest
// term, which the bias path approximates: the switches the bottom-up pass infers from an all-zero
// image, where only the biases act (App. B.2). So L_RPN = η(ĉ, z_0) − η(ĉ, ẑ), the image's term
// added by top_down_backward with sign −1 and this pass's with +1. η is linear in the rendered
// class given the switches, so one pass from the batch's class histogram is the mean of the N.
void DrmmModel::rendering_path_normalization(const StepOptions& options) {
  BatchState* const image_batch = state_;
  const Tensor images = images_;
  if (bias_path_.layers.empty()) {
    allocate_batch(bias_path_, 1);
    zero_image_ = backend_.alloc(Shape{1, spec_.channels, spec_.height, spec_.width});
  }
  backend_.batch_mean_ema(image_batch->onehot, 0.0f, bias_path_.onehot);
  struct Restore {
    DrmmModel& model;
    BatchState* state;
    Tensor images;
    ~Restore() {
      model.state_ = state;
      model.images_ = images;
    }
  } restore{*this, image_batch, images};
  state_ = &bias_path_;
  images_ = zero_image_;
  // The running statistics; no π update from a made-up image; only the max branch, whose
  // switches the rendering uses (a Max-Min network's min branch has no prior term).
  bottom_up_branch(Branch::Max, false);
  render_down(spec_.layers.size() - 1, bias_path_.onehot);
  backend_.fill(bias_path_.dimage, 0.0f);
  top_down_backward(-1.0f, options.alpha.rpn, 1.0f);
}

void DrmmModel::compute_gradients(const Tensor& images, const Tensor& labels, const StepOptions& options) {
  bottom_up(images, true);
  BatchState& st = *state_;
  for (Parameter& p : params_) backend_.fill(p.grad, 0.0f);  // both passes add into the gradients
  backend_.fill(st.dlogits, 0.0f);
  if (!spec_.max_min) backend_.cross_entropy(st.q, labels, options.alpha.h, loss_h_, st.dlogits);
  backend_.kl_loss(st.q, options.kl_paper_sign, options.alpha.kl, loss_kl_, st.dlogits);
  if (spec_.max_min) {
    max_min_cross_entropy(labels, options.alpha.h);
    bottom_up_backward(Branch::Max, st.dlogits_max);
    bottom_up_backward(Branch::Min, st.dlogits_min);
  } else {
    bottom_up_backward(Branch::Max, st.dlogits);
  }
  backend_.fill(loss_nn_, 0.0f);
  backend_.fill(loss_rpn_, 0.0f);
  const bool with_rpn = options.alpha.rpn != 0.0f;
  const bool needs_top_down = options.alpha.rc != 0.0f || options.alpha.nn != 0.0f || with_rpn;
  if (!needs_top_down) {
    backend_.fill(loss_rc_, 0.0f);
    return;
  }
  const Tensor& rendered = top_down(labels, options.render_label_when_known);
  backend_.fill(st.dimage, 0.0f);
  // L_RC per pixel and relative to the data's energy: the backend's op sums over pixels, so its
  // weight carries 1/(D·E) (see LossValues).
  rc_normaliser_ = pixel_count() * options.image_energy;
  backend_.reconstruction_loss(rendered, images, options.alpha.rc / rc_normaliser_, loss_rc_, st.dimage);
  top_down_backward(options.alpha.nn, options.alpha.rpn, with_rpn ? -1.0f : 0.0f);
  if (with_rpn) rendering_path_normalization(options);
}

LossValues DrmmModel::read_losses() {
  auto scalar = [this](const Tensor& t) { return backend_.read_scalar(t); };
  const double h = spec_.max_min ? 0.5 * (scalar(loss_h_) + scalar(loss_h_min_)) : scalar(loss_h_);
  return LossValues{h, scalar(loss_rc_) / rc_normaliser_, scalar(loss_kl_), scalar(loss_nn_), scalar(loss_rpn_)};
}

void DrmmModel::sgd_step(float lr, float momentum) {
  for (Parameter& p : params_) backend_.sgd_step(p.value, p.grad, p.state1, lr, momentum);
}

void DrmmModel::adam_step(float lr, int step) {
  for (Parameter& p : params_) backend_.adam_step(p.value, p.grad, p.state1, p.state2, lr, 0.9f, 0.999f, 1e-8f, step);
}

std::vector<Tensor*> DrmmModel::state_tensors() {
  std::vector<Tensor*> tensors;
  for (Parameter& p : params_)
    for (Tensor* t : {&p.value, &p.state1, &p.state2}) tensors.push_back(t);
  for (Buffer& b : buffers_) tensors.push_back(&b.value);
  return tensors;
}

void DrmmModel::keep_state() {
  const std::vector<Tensor*> tensors = state_tensors();
  if (kept_.empty())
    for (const Tensor* t : tensors) kept_.push_back(backend_.alloc(t->shape()));
  for (size_t i = 0; i < tensors.size(); ++i) backend_.copy(*tensors[i], kept_[i]);
}

void DrmmModel::restore_kept_state() {
  if (kept_.empty()) throw Error("restore_kept_state: nothing was kept");
  const std::vector<Tensor*> tensors = state_tensors();
  for (size_t i = 0; i < tensors.size(); ++i) backend_.copy(kept_[i], *tensors[i]);
}

bool DrmmModel::parameters_within(float limit) {
  for (const Parameter& p : params_)
    for (const float v : backend_.download(p.value))
      if (!(std::abs(v) <= limit)) return false;  // NaN fails every comparison
  return true;
}

// ---- unit renderings ------------------------------------------------------------------------

std::vector<float> DrmmModel::render_unit(size_t level, int channel) {
  if (level >= spec_.layers.size()) throw Error("render_unit: no such level");
  state_ = &ensure_batch(1);
  for (LayerState& s : state_->layers)
    if (!s.mask.empty()) backend_.fill(s.mask, 1.0f);  // every switch on
  const Shape out = batched(spec_.layers[level].output, 1);
  if (channel < 0 || channel >= out.c) throw Error("render_unit: no such channel");
  std::vector<float> start(out.count(), 0.0f);
  start[(size_t(channel) * out.h + out.h / 2) * out.w + out.w / 2] = 1.0f;
  Tensor start_tensor = backend_.alloc(out);
  backend_.upload(start_tensor, start);
  render_down(level, start_tensor);
  return backend_.download(state_->layers[0].rendered_in);
}

}  // namespace drmm
