// The whole top-down E-step of a small three-level DRMM pinned by a reference written in plain
// loops over doubles from DESIGN.md §3.2 alone, the way BottomUpEqualsPlainCnnForward pins the
// bottom-up pass. The reference infers its own rendering path (a, t, ĉ) bottom-up, renders the
// class down through the transposed filters (paper 002 App. B, eq. 11–14), and the engine must
// agree with it at every layer's input, from every level, and in the gradient of L_RC.
//
// The unit tests of the single ops cannot catch a top-down pass wired from the wrong ops (an
// upsample where the unpool belongs, a missing a-mask): such a pass is still self-consistent,
// so the engine's own finite-difference tests pass; only a reference written from the model's
// definition fails it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/backend/cpu/cpu_backend.h"
#include "core/model/drmm_model.h"
#include "core/util/random.h"
#include "layer_specs.h"
#include "naive_cnn.h"

namespace drmm {
namespace {

using naive::Volume;
using Batch = std::vector<Volume>;               // one C×H×W volume per image
using Params = std::map<std::string, Volume>;    // the reference's own copy, by parameter name

// Three levels with every layer kind and all three conv modes: conv1 3×3 full (BN, ReLU) →
// pool 2 → conv2 3×3 half (bias, BN, ReLU) → pool 2 → class conv 1×1 valid (bias, BN, no ReLU)
// → mean pool. The biases move the masks bottom-up and are not rendered (paper 004 Thm. 3.2).
// 2×6×6 → 3×8×8 → 3×4×4 → 4×4×4 → 4×2×2 → 3×2×2 → 3×1×1.
// With bn_render_scale, each conv also renders with batch norm's scale γ/√(σ²+ε) of its
// running statistics; the batch norm momentum is 0 so that they stay what the test set.
ModelSpec three_level_spec(bool bn_render_scale) {
  using test::conv_layer, test::pool_layer;
  ModelSpec spec = test::small_model("topdown-reference",
                                     {conv_layer("conv1", 3, 3, ConvMode::Full, true), pool_layer("pool1"),
                                      conv_layer("conv2", 4, 3, ConvMode::Half, true, true), pool_layer("pool2"),
                                      conv_layer("class", 3, 1, ConvMode::Valid, false, true)});
  spec.bn_render_scale = bn_render_scale;
  if (bn_render_scale) spec.bn_momentum = 0.0f;
  return spec;
}

// ---- the reference: bottom-up (DESIGN.md §3.2, "Bottom-up E-step = the CNN forward pass") ----

// The rendering path the reference infers, per layer and per image.
struct Path {
  std::vector<Batch> h;    // conv: after batch norm, before ReLU (the value a and t are read from); else = out
  std::vector<Batch> out;  // the layer's output: the bottom-up activation at that level
  std::vector<Batch> a;    // conv with ReLU: a = [h > 0]; empty otherwise
  std::vector<std::vector<std::vector<size_t>>> t;  // max pool: per image, per window, the input index of its switch
  std::vector<int> predicted;                       // ĉ = argmax of the class scores
};

// Batch norm as compute_gradients runs it (training mode): per channel, the mean and the
// biased variance over N, H, W of this batch, y = γ (h − μ)/√(σ² + ε) + β.
void batchnorm_with_batch_statistics(Batch& y, int channels, int plane, const Volume& gamma, const Volume& beta,
                                     double eps) {
  const double count = double(y.size()) * plane;
  for (int c = 0; c < channels; ++c) {
    double mean = 0, var = 0;
    for (const Volume& v : y)
      for (int p = 0; p < plane; ++p) mean += v[size_t(c) * plane + p] / count;
    for (const Volume& v : y)
      for (int p = 0; p < plane; ++p) var += std::pow(v[size_t(c) * plane + p] - mean, 2) / count;
    for (Volume& v : y)
      for (int p = 0; p < plane; ++p) {
        double& x = v[size_t(c) * plane + p];
        x = gamma[c] * (x - mean) / std::sqrt(var + eps) + beta[c];
      }
  }
}

// The switch t of every k×k window: ONE position, the argmax of the pre-ReLU h, the first
// maximum in row-major order (paper 002 App. B: t ∈ {UL, UR, LL, LR} for k = 2). Windows in
// the order of the pooled output (channel, row, column).
std::vector<size_t> pool_switches(const Volume& h, const Shape& in, int k) {
  std::vector<size_t> switches;
  for (int c = 0; c < in.c; ++c)
    for (int r = 0; r < in.h; r += k)
      for (int col = 0; col < in.w; col += k) {
        size_t best = (size_t(c) * in.h + r) * in.w + col;
        for (int u = 0; u < k; ++u)
          for (int v = 0; v < k; ++v) {
            const size_t at = (size_t(c) * in.h + r + u) * in.w + col + v;
            if (h[at] > h[best]) best = at;  // strict: the first maximum wins ties
          }
        switches.push_back(best);
      }
  return switches;
}

Volume max_pool(const Volume& x, const Shape& in, int k) {
  Volume y;
  for (int c = 0; c < in.c; ++c)
    for (int r = 0; r < in.h; r += k)
      for (int col = 0; col < in.w; col += k) {
        double m = -1e300;
        for (int u = 0; u < k; ++u)
          for (int v = 0; v < k; ++v) m = std::max(m, x[(size_t(c) * in.h + r + u) * in.w + col + v]);
        y.push_back(m);
      }
  return y;
}

// A conv bias: bias[c] added to every value of channel c of one image's C×H×W volume.
void add_per_channel(Volume& x, const Volume& bias) {
  const size_t plane = x.size() / bias.size();
  for (size_t j = 0; j < x.size(); ++j) x[j] += bias[j / plane];
}

void conv_layer_bottom_up(const ModelSpec& spec, const LayerSpec& layer, const Params& p, const Batch& in,
                          Path& path) {
  Batch h;
  for (const Volume& x : in) {
    int oh = 0, ow = 0;
    h.push_back(naive::conv_naive(x, layer.input.c, layer.input.h, layer.input.w, p.at(layer.name + ".weight").data(),
                                  layer.filters, layer.kernel, conv_padding(layer.mode, layer.kernel), oh, ow));
    EXPECT_EQ(oh, layer.output.h);
    EXPECT_EQ(ow, layer.output.w);
    if (layer.bias) add_per_channel(h.back(), p.at(layer.name + ".bias"));
  }
  if (layer.batchnorm)
    batchnorm_with_batch_statistics(h, layer.filters, layer.output.h * layer.output.w, p.at(layer.name + ".gamma"),
                                    p.at(layer.name + ".beta"), double(spec.bn_eps));
  Batch out = h, a;
  if (layer.relu) {
    a = h;
    for (size_t n = 0; n < h.size(); ++n)
      for (size_t j = 0; j < h[n].size(); ++j) {
        a[n][j] = h[n][j] > 0 ? 1.0 : 0.0;  // template switched on
        out[n][j] = std::max(h[n][j], 0.0);
      }
  }
  path.h.push_back(std::move(h));
  path.out.push_back(std::move(out));
  path.a.push_back(std::move(a));
}

Path reference_bottom_up(const ModelSpec& spec, const Params& p, const Batch& images) {
  Path path;
  path.t.resize(spec.layers.size());
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const LayerSpec& layer = spec.layers[i];
    const Batch in = i == 0 ? images : path.out[i - 1];
    if (layer.kind == LayerKind::Conv) {
      conv_layer_bottom_up(spec, layer, p, in, path);
      continue;
    }
    Batch out;
    if (layer.kind == LayerKind::MaxPool) {
      const Batch& pre_relu = i == 0 ? images : path.h[i - 1];
      for (size_t n = 0; n < in.size(); ++n) {
        out.push_back(max_pool(in[n], layer.input, layer.kernel));
        path.t[i].push_back(pool_switches(pre_relu[n], layer.input, layer.kernel));
      }
    } else {  // mean pool: the class scores s, and ĉ = argmax s (first on ties)
      const int plane = layer.input.h * layer.input.w;
      for (const Volume& x : in) {
        Volume s(size_t(layer.input.c), 0.0);
        for (int c = 0; c < layer.input.c; ++c)
          for (int q = 0; q < plane; ++q) s[c] += x[size_t(c) * plane + q] / plane;
        path.predicted.push_back(int(std::max_element(s.begin(), s.end()) - s.begin()));
        out.push_back(std::move(s));
      }
    }
    path.h.push_back(out);
    path.out.push_back(std::move(out));
    path.a.emplace_back();
  }
  return path;
}

// ---- the reference: top-down (DESIGN.md §3.2, "Top-down E-step = reconstruction") ----------

// One layer rendered down: z at the layer's output → z at its input. No batch norm on the way
// down (paper 002 Table 6), unless the spec renders with its scale γ_c/√(σ_c²+ε).
Batch render_layer(const ModelSpec& spec, size_t i, const Params& p, const Path& path, const Batch& z) {
  const LayerSpec& layer = spec.layers[i];
  const Shape &in = layer.input, &out = layer.output;
  Batch below;
  for (size_t n = 0; n < z.size(); ++n) {
    Volume x(size_t(in.c) * in.h * in.w, 0.0);
    switch (layer.kind) {
      case LayerKind::MeanPool:  // inverse of the mean pool: every position gets value/area
        for (int c = 0; c < in.c; ++c)
          for (int q = 0; q < in.h * in.w; ++q) x[size_t(c) * in.h * in.w + q] = z[n][c] / (in.h * in.w);
        break;
      case LayerKind::MaxPool:  // T_t: z goes to the recorded switch of its window, zeros elsewhere (eq. 13)
        for (size_t window = 0; window < z[n].size(); ++window) x[path.t[i][n][window]] = z[n][window];
        break;
      case LayerKind::Conv: {  // z^{ℓ−1} = Γᵀ ∗ (a ⊙ z^ℓ) (eq. 12–13)
        Volume masked = z[n];
        if (layer.relu)
          for (size_t j = 0; j < masked.size(); ++j) masked[j] *= path.a[i][n][j];
        if (spec.bn_render_scale && layer.batchnorm) {
          const Volume &gamma = p.at(layer.name + ".gamma"), &var = p.at(layer.name + ".running_var");
          const size_t plane = size_t(out.h) * out.w;
          for (size_t j = 0; j < masked.size(); ++j)
            masked[j] *= gamma[j / plane] / std::sqrt(var[j / plane] + double(spec.bn_eps));
        }
        x = naive::conv_transpose_naive(masked, out.c, out.h, out.w, p.at(layer.name + ".weight").data(), in.c,
                                        layer.kernel, conv_padding(layer.mode, layer.kernel), in.h, in.w);
        break;
      }
    }
    below.push_back(std::move(x));
  }
  return below;
}

// Renders from the output of layer `top`, starting with z = `start` there. Element i of the
// result is the template at layer i's input; element 0 is Î.
std::vector<Batch> reference_render_down(const ModelSpec& spec, const Params& p, const Path& path, size_t top,
                                         Batch start) {
  std::vector<Batch> rendered(top + 1);
  Batch z = std::move(start);
  for (size_t i = top + 1; i-- > 0;) {
    z = render_layer(spec, i, p, path, z);
    rendered[i] = z;
  }
  return rendered;
}

// The class each image is rendered from: its label when known and use_labels, else ĉ.
Batch class_onehot(const std::vector<int>& labels, bool use_labels, const Path& path, int classes) {
  Batch onehot;
  for (size_t n = 0; n < labels.size(); ++n) {
    Volume v(size_t(classes), 0.0);
    v[size_t(use_labels && labels[n] >= 0 ? labels[n] : path.predicted[n])] = 1.0;
    onehot.push_back(std::move(v));
  }
  return onehot;
}

// L_RC as the engine defines it (drmm_model.h): (1/(N·D)) Σ_n ‖I_n − Î_n‖², D = C·H·W. The
// reference recomputes its whole E-step, its own masks and class included.
double reference_reconstruction_loss(const ModelSpec& spec, const Params& p, const Batch& images,
                                     const std::vector<int>& labels, bool use_labels) {
  const Path path = reference_bottom_up(spec, p, images);
  const Batch rendered =
      reference_render_down(spec, p, path, spec.layers.size() - 1, class_onehot(labels, use_labels, path, spec.classes))
          .front();
  double sum = 0;
  for (size_t n = 0; n < images.size(); ++n)
    for (size_t j = 0; j < images[n].size(); ++j) sum += std::pow(images[n][j] - rendered[n][j], 2);
  return sum / (double(images.size()) * double(images[0].size()));
}

// L_NN (paper 002 eq. 8; README "L_NN"): each level's rendered template once, as the mean of its
// squared negative part. Written from the levels of this net, not from the engine's rule: the
// templates at the outputs of pool1 and pool2 (the inputs of conv2 and the class layer). The
// unpooled copies at the pools' inputs and the one-hot map at the mean pool are not levels.
double reference_nonnegativity_loss(const std::vector<Batch>& rendered) {
  double loss = 0;
  for (size_t level : {size_t(2), size_t(4)}) {
    double sum = 0;
    size_t count = 0;
    for (const Volume& z : rendered[level])
      for (double v : z) sum += v < 0 ? v * v : 0, ++count;
    loss += sum / double(count);
  }
  return loss;
}

// ---- the engine against the reference ------------------------------------------------------

// The parameter: whether the rendering takes batch norm's scale (ModelSpec::bn_render_scale).
class TopDownReference : public ::testing::TestWithParam<bool> {
 protected:
  static constexpr int kImages = 4;
  ModelSpec spec = three_level_spec(GetParam());
  CpuCheckBackend backend{1};
  DrmmModel model{spec, backend, 31};
  Tensor images, labels;
  Batch image_batch;
  Params params;
  Path path;                // the reference's bottom-up on the unperturbed parameters
  std::vector<int> label;   // chosen ≠ ĉ, so rendering from the label and from ĉ differ

  void SetUp() override {
    images = backend.alloc(Shape{kImages, spec.channels, spec.height, spec.width});
    backend.upload(images, naive::random_values(images.count(), 32));
    // BN γ, β away from their initial 1, 0 (as the model test's Fixture): batch norm then moves
    // the ReLU thresholds, so a = [h > 0] is not the sign of the raw conv.
    Random r(33);
    for (Parameter& p : model.parameters())
      if (p.name.ends_with(".gamma") || p.name.ends_with(".beta") || p.name.ends_with(".bias"))
        for (size_t i = 0; i < p.value.count(); ++i) backend.data(p.value)[i] += r.uniform(-0.3, 0.3);
    for (Buffer& b : model.buffers())  // running variances away from 1, so σ is not ≈ 1
      if (b.name.ends_with(".running_var"))
        for (size_t i = 0; i < b.value.count(); ++i) backend.data(b.value)[i] = r.uniform(0.3, 3.0);
    for (Parameter& p : model.parameters())
      params[p.name] = Volume(backend.data(p.value), backend.data(p.value) + p.value.count());
    for (Buffer& b : model.buffers())
      if (b.name.ends_with(".running_var")) params[b.name] = Volume(backend.data(b.value), backend.data(b.value) + b.value.count());
    const size_t per_image = images.count() / kImages;
    for (int n = 0; n < kImages; ++n)
      image_batch.emplace_back(backend.data(images) + n * per_image, backend.data(images) + (n + 1) * per_image);
    path = reference_bottom_up(spec, params, image_batch);
    for (int n = 0; n < kImages; ++n) label.push_back((path.predicted[n] + 1 + n % 2) % spec.classes);
    labels = backend.alloc(Shape{kImages, 1, 1, 1});
    backend.upload(labels, std::vector<float>(label.begin(), label.end()));
    expect_path_is_nontrivial();
  }

  // The comparison only means something if the path exercises what the rendering depends on:
  // at every ReLU some templates off and some on, and at every max pool, among the windows that
  // render (max h > 0), switches at every position of the window.
  void expect_path_is_nontrivial() const {
    for (size_t i = 0; i < spec.layers.size(); ++i) {
      const LayerSpec& layer = spec.layers[i];
      if (layer.kind == LayerKind::Conv && layer.relu) {
        size_t on = 0, total = 0;
        for (const Volume& a : path.a[i]) {
          on += size_t(std::count(a.begin(), a.end(), 1.0));
          total += a.size();
        }
        EXPECT_GT(on, 0u) << layer.name;
        EXPECT_LT(on, total) << layer.name;
      } else if (layer.kind == LayerKind::MaxPool) {
        std::set<size_t> positions;  // (row, column) inside the window, as u·k + v
        for (size_t n = 0; n < path.t[i].size(); ++n)
          for (size_t at : path.t[i][n])
            if (path.h[i - 1][n][at] > 0) {
              const size_t col = at % layer.input.w, row = at / layer.input.w % layer.input.h;
              positions.insert(row % layer.kernel * layer.kernel + col % layer.kernel);
            }
        EXPECT_EQ(positions.size(), size_t(layer.kernel * layer.kernel)) << layer.name;
      }
    }
    EXPECT_NE(std::set<int>(path.predicted.begin(), path.predicted.end()).size(), 1u) << "one class for every image";
  }

  Batch engine_batch(const Tensor& t) const {
    const double* e = backend.data(t);
    const size_t per_image = t.count() / size_t(kImages);
    Batch b;
    for (size_t n = 0; n < size_t(kImages); ++n) b.emplace_back(e + n * per_image, e + (n + 1) * per_image);
    return b;
  }

  // The engine against the reference, to 1e-9 of the level's largest value (the check backend
  // computes in double; the two differ only in summation order).
  void expect_matches(const Batch& engine, const Batch& reference, const std::string& what) const {
    ASSERT_EQ(engine.size(), reference.size()) << what;
    double scale = 0, worst = 0;
    for (size_t n = 0; n < reference.size(); ++n) {
      ASSERT_EQ(engine[n].size(), reference[n].size()) << what;
      for (size_t j = 0; j < reference[n].size(); ++j) {
        scale = std::max(scale, std::abs(reference[n][j]));
        worst = std::max(worst, std::abs(engine[n][j] - reference[n][j]));
      }
    }
    EXPECT_GT(scale, 1e-6) << what << ": a zero template would match anything";
    EXPECT_LE(worst, 1e-9 * scale) << what << ": largest difference " << worst << " at scale " << scale;
  }

  // model.rendered_input(i) against the reference's template at every layer input i.
  void expect_renderings_match(const std::vector<Batch>& rendered, const std::string& what) const {
    for (size_t i = 0; i < rendered.size(); ++i) {
      // Raw positions, dead windows (every h ≤ 0) included: both take the switch t as the
      // pre-ReLU argmax, so a pool's input must agree element by element.
      expect_matches(engine_batch(model.rendered_input(i)), rendered[i], what + ", at the input of " + spec.layers[i].name);
    }
  }

  // Precondition of the top-down comparisons: the engine's bottom-up (training mode, as in
  // compute_gradients) agrees with the reference's, so a difference below is the top-down's.
  void run_bottom_up() {
    model.bottom_up(images, true);
    for (size_t i = 0; i < spec.layers.size(); ++i)
      expect_matches(engine_batch(model.level_output(i)), path.out[i], "bottom-up output of " + spec.layers[i].name);
  }

  void expect_top_down_matches(bool use_labels) {
    run_bottom_up();
    model.top_down(labels, use_labels);
    expect_renderings_match(reference_render_down(spec, params, path, spec.layers.size() - 1,
                                                  class_onehot(label, use_labels, path, spec.classes)),
                            use_labels ? "from the label" : "from the prediction");
  }
};

TEST_P(TopDownReference, RenderingFromTheLabelMatchesAtEveryLayerInput) { expect_top_down_matches(true); }

TEST_P(TopDownReference, RenderingFromThePredictedClassMatchesAtEveryLayerInput) { expect_top_down_matches(false); }

// "Reconstruct from level ℓ" (DESIGN.md §3.2): the same top-down pass started from the
// bottom-up activation at ℓ.
TEST_P(TopDownReference, ReconstructionFromEveryLevelMatchesAtEveryLayerInput) {
  run_bottom_up();
  for (size_t level = 0; level < spec.layers.size(); ++level) {
    model.reconstruct_from_level(level);
    expect_renderings_match(reference_render_down(spec, params, path, level, path.out[level]),
                            "from level " + spec.layers[level].name);
  }
}

// ∂L_RC/∂θ of compute_gradients (both passes, masks and class E-step constants) against central
// differences of the reference's L_RC, which recomputes its own bottom-up (batch statistics),
// masks and class at every perturbed θ. The masks are piecewise constant, so away from their
// kinks the differences are exact up to rounding. Half the images are unlabeled, so both ways
// of choosing the rendered class are in the gradient.
TEST_P(TopDownReference, ReconstructionGradientMatchesFiniteDifferencesOfTheReference) {
  std::vector<int> mixed = label;
  mixed[1] = mixed[3] = -1;
  backend.upload(labels, std::vector<float>(mixed.begin(), mixed.end()));
  StepOptions options;
  options.alpha = LossWeights{0.0f, 1.0f, 0.0f, 0.0f};
  options.render_label_when_known = true;
  model.compute_gradients(images, labels, options);
  const double loss = reference_reconstruction_loss(spec, params, image_batch, mixed, true);
  EXPECT_NEAR(model.read_losses().rc, loss, 1e-12 * loss);

  const double eps = 1e-6;
  for (Parameter& p : model.parameters()) {
    Volume& theta = params.at(p.name);
    double largest = 0;
    for (size_t i = 0; i < theta.size(); ++i) {
      const double saved = theta[i];
      theta[i] = saved + eps;
      const double up = reference_reconstruction_loss(spec, params, image_batch, mixed, true);
      theta[i] = saved - eps;
      const double down = reference_reconstruction_loss(spec, params, image_batch, mixed, true);
      theta[i] = saved;
      const double numeric = (up - down) / (2 * eps);
      largest = std::max(largest, std::abs(numeric));
      EXPECT_NEAR(backend.data(p.grad)[i], numeric, 1e-8 * std::max(1.0, std::abs(numeric)))
          << p.name << "[" << i << "]";
    }
    // Every filter renders, so L_RC reaches every level's weights; β and the biases only move
    // the masks, and γ too unless it scales the rendering.
    if (p.name.ends_with(".weight") || (GetParam() && p.name.ends_with(".gamma"))) {
      EXPECT_GT(largest, 1e-4) << p.name;
    }
  }
}

// The value of L_NN that compute_gradients reports against the reference's, on the templates
// rendered from the labels; its gradient is covered by the finite-difference tests of the model.
TEST_P(TopDownReference, NonnegativityPenaltyCountsEachLevelOnce) {
  StepOptions options;
  options.alpha = LossWeights{0.0f, 0.0f, 0.0f, 1.0f};
  options.render_label_when_known = true;
  model.compute_gradients(images, labels, options);
  const std::vector<Batch> rendered = reference_render_down(spec, params, path, spec.layers.size() - 1,
                                                            class_onehot(label, true, path, spec.classes));
  const double expected = reference_nonnegativity_loss(rendered);
  EXPECT_GT(expected, 1e-6);  // the random filters render negative values at both levels
  EXPECT_NEAR(model.read_losses().nn, expected, 1e-10 * expected);
}

INSTANTIATE_TEST_SUITE_P(BatchNormInTheRendering, TopDownReference, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("WithItsScale") : std::string("Without");
                         });

}  // namespace
}  // namespace drmm
