// The DRMM model end to end on the cpu backend: gradients of the whole objective against
// central finite differences (double precision), the bottom-up pass against a plain CNN
// forward written out in loops, the top-down pass against its definition, and presets.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/backend/cpu/cpu_backend.h"
#include "core/model/drmm_model.h"
#include "core/util/error.h"
#include "core/util/random.h"
#include "layer_specs.h"
#include "naive_cnn.h"

namespace drmm {
namespace {

using naive::conv_naive;
using naive::random_values;
using naive::Volume;

// A small net with every layer kind: conv (full, BN, ReLU) → max pool → conv (valid, bias, BN,
// ReLU) → class conv 1×1 (bias, BN off, no ReLU) → mean pool.
ModelSpec small_spec() {
  using test::conv_layer;
  ModelSpec spec = test::small_model("test", {conv_layer("conv1", 3, 3, ConvMode::Full, true), test::pool_layer("pool1"),
                                              conv_layer("conv2", 4, 2, ConvMode::Valid, true, true),
                                              conv_layer("class", 3, 1, ConvMode::Valid, false, true)});
  spec.layers[3].batchnorm = false;
  return spec;
}

struct Fixture {
  CpuCheckBackend backend{1};
  DrmmModel model;
  Tensor images, labels;
  StepOptions options;

  explicit Fixture(const ModelSpec& spec, uint64_t seed = 7) : model(spec, backend, seed) {
    const int n = 4;
    images = backend.alloc(Shape{n, spec.channels, spec.height, spec.width});
    backend.upload(images, random_values(images.count(), seed + 1));
    labels = backend.alloc(Shape{n, 1, 1, 1});
    backend.upload(labels, std::vector<float>{0, 2, -1, -1});  // two labeled, two unlabeled
    options.alpha = LossWeights{1.0f, 0.7f, 0.5f, 0.9f};
    // BN γ, β and the biases away from their initial 1, 0 so their gradients are exercised in
    // general position.
    Random r(seed + 2);
    for (Parameter& p : model.parameters())
      if (p.name.ends_with(".gamma") || p.name.ends_with(".beta") || p.name.ends_with(".bias"))
        for (size_t i = 0; i < p.value.count(); ++i) backend.data(p.value)[i] += r.uniform(-0.3, 0.3);
  }
  double loss() {
    model.compute_gradients(images, labels, options);
    return model.read_losses().total(options.alpha);
  }
};

// Every parameter's gradient of L = α_H L_H + α_RC L_RC + α_KL L_KL + α_NN L_NN against central
// differences. The masks a, t and the rendered class ĉ are piecewise constant in θ, so away
// from the kinks (measure zero) the E-step-constant gradient is the exact derivative.
void expect_gradients_match(Fixture& f, double tolerance) {
  f.loss();
  std::vector<std::vector<double>> analytic;
  for (Parameter& p : f.model.parameters())
    analytic.emplace_back(f.backend.data(p.grad), f.backend.data(p.grad) + p.grad.count());
  const double eps = 1e-6;
  size_t checked = 0;
  for (size_t k = 0; k < f.model.parameters().size(); ++k) {
    Parameter& p = f.model.parameters()[k];
    for (size_t i = 0; i < p.value.count(); ++i) {
      double& w = f.backend.data(p.value)[i];
      const double saved = w;
      w = saved + eps;
      const double up = f.loss();
      w = saved - eps;
      const double down = f.loss();
      w = saved;
      const double numeric = (up - down) / (2 * eps);
      EXPECT_NEAR(analytic[k][i], numeric, tolerance * std::max(1.0, std::abs(numeric)))
          << p.name << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 100u);
}

TEST(DrmmModel, GradientsOfAllFourLossesMatchFiniteDifferences) {
  Fixture f(small_spec());
  expect_gradients_match(f, 1e-5);
}

// Rendering with batch norm's scale γ/√(σ²+ε): σ from the running statistics, a constant of
// the step (momentum 0 keeps them where the test set them), and γ gets a top-down gradient.
TEST(DrmmModel, GradientsWithBatchNormScaleInTheRenderingMatchFiniteDifferences) {
  ModelSpec spec = small_spec();
  spec.bn_render_scale = true;
  spec.bn_momentum = 0.0f;
  Fixture f(spec, 17);
  Random r(18);
  for (Buffer& b : f.model.buffers())
    if (b.name.ends_with(".running_var"))
      for (size_t i = 0; i < b.value.count(); ++i) f.backend.data(b.value)[i] = r.uniform(0.3, 3.0);
  expect_gradients_match(f, 1e-5);
}

// The Rendering Path Normalization (paper 004 eq. 10) on top of the four losses: the image's
// path and the bias path of an all-zero input, whose batch norm reads the running statistics
// (momentum 0 keeps them fixed across the differences).
TEST(DrmmModel, GradientsWithTheRenderingPathNormalizationMatchFiniteDifferences) {
  ModelSpec spec = small_spec();
  spec.bn_momentum = 0.0f;
  Fixture f(spec, 31);
  f.options.alpha.rpn = 0.8f;
  EXPECT_NE(f.loss(), f.model.read_losses().total(LossWeights{1.0f, 0.7f, 0.5f, 0.9f, 0.0f}));
  expect_gradients_match(f, 1e-5);
}

// The Max-Min network (paper 004 §5): both branches share the weights, the min branch keeps its
// own batch statistics; with every loss term, the RPN included.
TEST(DrmmModel, GradientsOfTheMaxMinNetworkMatchFiniteDifferences) {
  ModelSpec spec = small_spec();
  spec.max_min = true;
  spec.bn_momentum = 0.0f;
  Fixture f(spec, 41);
  f.options.alpha.rpn = 0.6f;
  expect_gradients_match(f, 1e-5);
}

// L_RPN's value by its definition through the model's public passes: η(c, z) = mean over conv2's
// output of b ⊙ a ⊙ z (the one conv with a bias and a ReLU), for the images' paths rendered from
// their classes, and for the path of one all-zero image in inference mode rendered from the
// classes' histogram (paper 004 eq. 1, 10; App. B.2).
TEST(DrmmModel, TheRenderingPathNormalizationIsTheBiasPathsPriorMinusTheImages) {
  ModelSpec spec = small_spec();
  spec.bn_momentum = 0.0f;  // the training pass leaves the running statistics the bias path reads
  Fixture f(spec, 37);
  f.options.alpha = LossWeights{1.0f, 0.0f, 0.0f, 0.0f, 1.0f};
  f.model.compute_gradients(f.images, f.labels, f.options);
  const double reported = f.model.read_losses().rpn;

  const size_t conv2 = 2;
  const double* bias = nullptr;
  for (Parameter& p : f.model.parameters())
    if (p.name == "conv2.bias") bias = f.backend.data(p.value);
  ASSERT_NE(bias, nullptr);
  auto eta = [&] {  // the mean of b_k a z over the batch's conv2 outputs, after a top-down pass
    const std::vector<float> a = f.backend.download(f.model.latents(conv2));
    const std::vector<float> z = f.backend.download(f.model.rendered_input(conv2 + 1));
    const Shape shape = f.model.latents(conv2).shape();
    double sum = 0;
    for (size_t i = 0; i < a.size(); ++i) sum += bias[(i / shape.plane()) % size_t(shape.c)] * a[i] * z[i];
    return sum / double(a.size());
  };
  // compute_gradients leaves the images' batch current, with its latents and top-down templates.
  const double image_eta = eta();
  const std::vector<float> q = f.backend.download(f.model.class_probabilities());
  std::vector<int> classes{0, 2};  // the labeled images' labels, then ĉ of the two unlabeled ones
  for (int n = 2; n < 4; ++n) {
    const float* row = q.data() + size_t(n) * size_t(spec.classes);
    classes.push_back(int(std::max_element(row, row + spec.classes) - row));
  }
  std::vector<float> histogram(size_t(spec.classes), 0.0f);
  for (int c : classes) histogram[size_t(c)] += 0.25f;
  f.model.bottom_up(f.model.upload_images(std::vector<float>(spec.image_size(), 0.0f)), false);
  Tensor start = f.backend.alloc(Shape{1, spec.classes, 1, 1});
  f.backend.upload(start, histogram);
  f.model.render_classes(start);
  const double bias_path_eta = eta();
  EXPECT_GT(std::abs(image_eta), 1e-5);
  EXPECT_NEAR(reported, bias_path_eta - image_eta, 1e-9 * std::max(1.0, std::abs(reported)));
}

TEST(DrmmModel, GradientsWithPaperKlSignAndPredictedClassMatchFiniteDifferences) {
  Fixture f(small_spec(), 11);
  f.options.kl_paper_sign = true;
  f.options.render_label_when_known = false;
  expect_gradients_match(f, 1e-5);
}

// L_RC relative to the data's energy E: the reported term is the squared error per pixel over E
// (the same images at E = 1 give E times it), and its gradient carries the same 1/E.
TEST(DrmmModel, ReconstructionLossIsRelativeToTheImageEnergy) {
  Fixture f(small_spec(), 13);
  f.options.alpha = LossWeights{0.0f, 1.0f, 0.0f, 0.0f};
  f.model.compute_gradients(f.images, f.labels, f.options);
  const double per_pixel = f.model.read_losses().rc;
  f.options.image_energy = 0.25f;
  f.model.compute_gradients(f.images, f.labels, f.options);
  EXPECT_NEAR(f.model.read_losses().rc, per_pixel / 0.25, 1e-9 * per_pixel / 0.25);
  expect_gradients_match(f, 1e-5);
}

TEST(DrmmModel, EachLossTermAloneHasMatchingGradients) {
  ModelSpec spec = small_spec();
  spec.bn_momentum = 0.0f;  // the bias path of L_RPN reads the running statistics
  for (int term = 0; term < 5; ++term) {
    Fixture f(spec, 20 + term);
    f.options.alpha = LossWeights{term == 0 ? 1.0f : 0.0f, term == 1 ? 1.0f : 0.0f, term == 2 ? 1.0f : 0.0f,
                                  term == 3 ? 1.0f : 0.0f, term == 4 ? 1.0f : 0.0f};
    SCOPED_TRACE("loss term " + std::to_string(term));
    expect_gradients_match(f, 1e-5);
  }
}

// ---- the bottom-up pass is a plain CNN forward -----------------------------------------

using Lookup = std::function<const double*(const std::string&)>;

// The class scores of one image by loops: conv (+ bias, inference batch norm, ReLU), max pool,
// mean pool. `min`: the Max-Min network's min branch (paper 004 §5) — min(h, 0) for the ReLU, min
// pool for the max pool, the running statistics named *_min.
Volume naive_class_scores(const ModelSpec& spec, const Lookup& param, const Lookup& buffer, Volume x, bool min) {
  int c = spec.channels, h = spec.height, w = spec.width;
  const std::string stats = min ? "_min" : "";
  for (const LayerSpec& layer : spec.layers) {
    if (layer.kind == LayerKind::Conv) {
      int oh, ow;
      Volume y = conv_naive(x, c, h, w, param(layer.name + ".weight"), layer.filters, layer.kernel,
                            conv_padding(layer.mode, layer.kernel), oh, ow);
      for (int o = 0; o < layer.filters; ++o)
        for (int p = 0; p < oh * ow; ++p) {
          double& val = y[size_t(o) * oh * ow + p];
          if (layer.bias) val += param(layer.name + ".bias")[o];
          if (layer.batchnorm) {
            const double *g = param(layer.name + ".gamma"), *b = param(layer.name + ".beta");
            const double *m = buffer(layer.name + ".running_mean" + stats), *v = buffer(layer.name + ".running_var" + stats);
            val = g[o] * (val - m[o]) / std::sqrt(v[o] + spec.bn_eps) + b[o];
          }
          if (layer.relu) val = min ? std::min(val, 0.0) : std::max(val, 0.0);
        }
      x = std::move(y);
      c = layer.filters;
      h = oh;
      w = ow;
    } else if (layer.kind == LayerKind::MaxPool) {
      const int k = layer.kernel, oh = h / k, ow = w / k;
      Volume y(size_t(c) * oh * ow, min ? 1e300 : -1e300);
      for (int ch = 0; ch < c; ++ch)
        for (int r = 0; r < h; ++r)
          for (int col = 0; col < w; ++col) {
            double& out = y[(size_t(ch) * oh + r / k) * ow + col / k];
            const double v = x[(size_t(ch) * h + r) * w + col];
            out = min ? std::min(out, v) : std::max(out, v);
          }
      x = std::move(y);
      h = oh;
      w = ow;
    } else {
      Volume scores(size_t(c), 0.0);
      for (int ch = 0; ch < c; ++ch)
        for (int p = 0; p < h * w; ++p) scores[ch] += x[size_t(ch) * h * w + p] / (h * w);
      return scores;
    }
  }
  throw Error("the spec has no mean pool");
}

// The model's inference-mode q(c|I) against softmax of the loop network's scores (the mean of
// both branches' for a Max-Min network), with non-trivial running statistics and biases.
void expect_bottom_up_equals_loops(const ModelSpec& spec) {
  CpuCheckBackend backend(1);
  DrmmModel model(spec, backend, 3);
  const int n = 3;
  Tensor images = backend.alloc(Shape{n, spec.channels, spec.height, spec.width});
  const std::vector<float> pixels = random_values(images.count(), 5);
  backend.upload(images, pixels);
  uint64_t seed = 8;
  for (Buffer& b : model.buffers())
    if (b.name.find("running_mean") != std::string::npos) backend.upload(b.value, random_values(b.value.count(), seed++, -0.2, 0.2));
    else if (b.name.find("running_var") != std::string::npos) backend.upload(b.value, random_values(b.value.count(), seed++, 0.5, 2.0));
  for (Parameter& p : model.parameters())
    if (p.name.ends_with(".bias")) backend.upload(p.value, random_values(p.value.count(), 10, -0.5, 0.5));
  model.bottom_up(images, false);
  const std::vector<float> q = backend.download(model.class_probabilities());

  const Lookup param = [&](const std::string& name) -> const double* {
    for (Parameter& p : model.parameters())
      if (p.name == name) return backend.data(p.value);
    throw Error("no parameter " + name);
  };
  const Lookup buffer = [&](const std::string& name) -> const double* {
    for (Buffer& b : model.buffers())
      if (b.name == name) return backend.data(b.value);
    throw Error("no buffer " + name);
  };
  const size_t d = spec.image_size(), c = size_t(spec.classes);
  for (int img = 0; img < n; ++img) {
    const Volume x(pixels.begin() + img * d, pixels.begin() + (img + 1) * d);
    Volume scores = naive_class_scores(spec, param, buffer, x, false);
    if (spec.max_min) {
      const Volume min_scores = naive_class_scores(spec, param, buffer, x, true);
      for (size_t k = 0; k < c; ++k) scores[k] = 0.5 * (scores[k] + min_scores[k]);
    }
    double top = *std::max_element(scores.begin(), scores.end()), sum = 0;
    for (double& s : scores) sum += (s = std::exp(s - top));
    for (size_t k = 0; k < c; ++k) EXPECT_NEAR(q[size_t(img) * c + k], scores[k] / sum, 1e-6) << "image " << img;
  }
}

TEST(DrmmModel, BottomUpEqualsPlainCnnForward) { expect_bottom_up_equals_loops(small_spec()); }

TEST(DrmmModel, MaxMinNetworkPredictsFromTheMeanOfAMaxAndAMinNetwork) {
  ModelSpec spec = small_spec();
  spec.max_min = true;
  expect_bottom_up_equals_loops(spec);
}

// ---- the top-down pass against its definition ------------------------------------------

TEST(DrmmModel, TopDownRendersWithTheTransposedFiltersAndTheRecordedSwitches) {
  const ModelSpec spec = small_spec();
  CpuCheckBackend backend(1);
  DrmmModel model(spec, backend, 4);
  Tensor images = backend.alloc(Shape{2, spec.channels, spec.height, spec.width});
  backend.upload(images, random_values(images.count(), 12));
  model.bottom_up(images, true);
  // Reconstruction from level 1 is Γ¹ᵀ ∗ (a¹ ⊙ y¹) with y¹ the bottom-up output of conv1, so by
  // the adjoint identity ⟨Γ¹ᵀ ∗ y¹, x⟩ = ⟨y¹, Γ¹ ∗ x⟩ (paper 002 App. B: a DRMM layer is a
  // transposed convolution of the masked template).
  const std::vector<float> y1 = backend.download(model.level_output(0));
  const std::vector<float> from1 = backend.download(model.reconstruct_from_level(0));
  const std::vector<float> x = backend.download(images);
  Tensor conv_x = backend.alloc(model.level_output(0).shape());
  backend.conv2d(images, model.parameters()[0].value, conv_padding(ConvMode::Full, 3), conv_x);
  const std::vector<float> gx = backend.download(conv_x);
  double lhs = 0, rhs = 0;
  for (size_t i = 0; i < x.size(); ++i) lhs += double(from1[i]) * x[i];
  for (size_t i = 0; i < gx.size(); ++i) rhs += double(y1[i]) * gx[i];
  EXPECT_NEAR(lhs, rhs, 1e-6 * std::max(1.0, std::abs(rhs)));
  EXPECT_GT(std::abs(rhs), 1e-3);
  // Rendering from the class: zero switches everywhere give a zero image; the recorded ones do not.
  Tensor labels = backend.alloc(Shape{2, 1, 1, 1});
  backend.upload(labels, std::vector<float>{1, 2});
  const std::vector<float> rendered = backend.download(model.top_down(labels, true));
  double energy = 0;
  for (float v : rendered) energy += double(v) * v;
  EXPECT_GT(energy, 1e-8);
}

TEST(DrmmModel, PresetsLoadAndHaveThePapersShapes) {
  const ModelSpec small = load_model_spec("convsmall");
  EXPECT_EQ(small.layers[0].output, (Shape{1, 32, 32, 32}));   // 28 + 5 − 1 (full)
  EXPECT_EQ(small.layers[5].output, (Shape{1, 128, 6, 6}));    // before the 1×1 class conv
  EXPECT_EQ(small.layers.back().input, (Shape{1, 10, 6, 6}));  // mean pool 6×6 (Table 6)
  const ModelSpec large = load_model_spec("convlarge");
  EXPECT_EQ(large.layers.back().input, (Shape{1, 10, 6, 6}));
  EXPECT_EQ(load_model_spec("tiny").classes, 10);
  EXPECT_THROW(load_model_spec("no-such-preset"), Error);
}

TEST(DrmmModel, BadArchitecturesAreRejectedWithTheLayerNamed) {
  nlohmann::json j = load_model_spec("tiny").to_json();
  j["layers"][1]["size"] = 5;  // 24 is not a multiple of 5
  try {
    ModelSpec::from_json(j, "bad.json");
    FAIL() << "expected an error";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("pool1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
  }
  j = load_model_spec("tiny").to_json();
  j["classes"] = 7;
  EXPECT_THROW(ModelSpec::from_json(j, "bad.json"), FileError);
}

// Parameters are keyed by layer name: two convs named alike once trained, then both reloaded the
// first one's weights from the checkpoint without a word.
TEST(DrmmModel, TwoLayersOfOneNameAreRejected) {
  nlohmann::json j = load_model_spec("tiny").to_json();
  j["layers"][2]["name"] = "conv1";
  try {
    ModelSpec::from_json(j, "twins.json");
    FAIL() << "expected an error";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("two layers are named 'conv1'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("twins.json"), std::string::npos) << e.what();
  }
}

// A preset is a layer stack: the image shape and the class count come from the dataset.
TEST(ModelSpecFit, APresetTakesTheDatasetsImagesAndClasses) {
  const ModelSpec tiny = load_model_spec("tiny");
  const ModelSpec rgb = tiny.fitted_to(3, 32, 32, 3);
  EXPECT_EQ(rgb.layers.front().input, (Shape{1, 3, 32, 32}));
  EXPECT_EQ(rgb.layers[rgb.layers.size() - 2].filters, 3);  // the class layer: one filter per class
  EXPECT_EQ(rgb.layers.back().output, (Shape{1, 3, 1, 1}));
  EXPECT_EQ(rgb.layers[2].filters, tiny.layers[2].filters);  // the rest of the stack is the preset's
  EXPECT_EQ(tiny.fitted_to(1, 28, 28, 100).layers.back().output, (Shape{1, 100, 1, 1}));
  // 8×8: conv1 full 12×12, pool1 6×6, conv2 valid 4×4, pool2 2×2: fits; 6×6 gives pool2 an
  // odd map (conv2 valid 3×3 of pool1's 5×5).
  EXPECT_NO_THROW(tiny.fitted_to(1, 8, 8, 2));
  try {
    tiny.fitted_to(1, 6, 6, 2);
    FAIL() << "6×6 images fitted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer pool2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1×6×6 images"), std::string::npos) << e.what();
  }
  // The model trained on the fitted stack takes those images.
  CpuCheckBackend backend(1);
  DrmmModel model(rgb, backend, 1);
  EXPECT_EQ(model.spec().classes, 3);
}

TEST(ModelSpecFit, APresetWithoutInputIsCheckedForStructureOnly) {
  nlohmann::json j = load_model_spec("convsmall").to_json();
  j.erase("input");
  j.erase("classes");
  const ModelSpec spec = ModelSpec::from_json(j, "stack.json");
  EXPECT_EQ(spec.classes, 10);  // the class layer's filters
  EXPECT_NO_THROW(spec.fitted_to(3, 32, 32, 10));
  j["layers"].erase(j["layers"].size() - 2);  // no class conv before the mean pool
  j["layers"].erase(j["layers"].size() - 2);
  j["layers"].push_back(j["layers"][1]);  // a max pool last but one
  std::swap(j["layers"][j["layers"].size() - 1], j["layers"][j["layers"].size() - 2]);
  j["layers"][j["layers"].size() - 2]["name"] = "pool9";
  EXPECT_THROW(ModelSpec::from_json(j, "stack.json"), FileError);
}

TEST(ModelSpecFit, EveryPresetIsReportedAsFittingOrNot) {
  const std::vector<PresetFit> fits = preset_fits(1, 28, 28, 10);
  ASSERT_EQ(fits.size(), preset_names().size());
  for (const PresetFit& fit : fits) EXPECT_TRUE(fit.problem.empty()) << fit.preset << ": " << fit.problem;
  for (const PresetFit& fit : preset_fits(1, 6, 6, 2)) EXPECT_FALSE(fit.problem.empty()) << fit.preset << " fits 6×6";
}

}  // namespace
}  // namespace drmm
