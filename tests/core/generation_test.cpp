// Rendering paths, generation and activity maximization (DESIGN.md §3.4–3.5).
// Part one pins the identities that hold for any weights: given the latents the top-down pass is
// linear, so switching units off subtracts exactly their own renderings, the units' contributions
// add up to ‖Î‖² at every level, and the input gradient of a unit is the derivative of its
// activity (checked against central differences). Part two checks the claims on a trained model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <vector>

#include "core/analysis/activity_max.h"
#include "core/backend/cpu/cpu_backend.h"
#include "core/data/dataset.h"
#include "core/model/rendering_path.h"
#include "core/model/sampler.h"
#include "core/train/trainer.h"
#include "core/util/random.h"
#include "layer_specs.h"

namespace drmm {
namespace {

// conv1 3×3 full → pool → conv2 3×3 half → pool → class 1×1 → mean pool, on 2×6×6 images, with
// random weights and batch-norm statistics so that every layer's latents are mixed.
ModelSpec path_spec() {
  using test::conv_layer, test::pool_layer;
  return test::small_model("paths", {conv_layer("conv1", 3, 3, ConvMode::Full, true), pool_layer("pool1"),
                                     conv_layer("conv2", 4, 3, ConvMode::Half, true), pool_layer("pool2"),
                                     conv_layer("class", 3, 1, ConvMode::Valid, false)});
}

std::vector<float> random_values(size_t n, uint64_t seed, double lo, double hi) {
  Random random(seed);
  std::vector<float> v(n);
  for (float& x : v) x = float(random.uniform(lo, hi));
  return v;
}

class PathIdentities : public ::testing::Test {
 protected:
  PathIdentities() : model_(path_spec(), backend_, 5) {
    uint64_t seed = 11;
    for (Parameter& p : model_.parameters())
      if (p.name.find("gamma") != std::string::npos) backend_.upload(p.value, random_values(p.value.count(), ++seed, 0.5, 1.5));
      else if (p.name.find("beta") != std::string::npos) backend_.upload(p.value, random_values(p.value.count(), ++seed, -0.3, 0.3));
    for (Buffer& b : model_.buffers())
      if (b.name.find("running_var") != std::string::npos) backend_.upload(b.value, random_values(b.value.count(), ++seed, 0.5, 2.0));
      else if (b.name.find("running_mean") != std::string::npos) backend_.upload(b.value, random_values(b.value.count(), ++seed, -0.2, 0.2));
    image_ = random_values(2 * 6 * 6, 99, 0.0, 1.0);
    path_ = infer_path(model_, image_);
  }
  static double dot(const std::vector<float>& a, const std::vector<float>& b) {
    return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
  }
  static double max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
    return worst;
  }
  double tolerance() const { return 1e-5 * (1.0 + std::sqrt(path_.rendered_energy)); }

  CpuBackend backend_{1};
  DrmmModel model_;
  std::vector<float> image_;
  RenderingPath path_;
};

TEST_F(PathIdentities, EveryLevelHasMixedLatentsAndANonzeroRendering) {
  ASSERT_EQ(path_.levels.size(), 4u);  // conv1 a, pool1 t, conv2 a, pool2 t
  for (const PathLevel& level : path_.levels) {
    const auto on = std::count(level.on.begin(), level.on.end(), 1.0f);
    EXPECT_GT(on, 0) << level.name;
    if (!level.is_pool) {
      EXPECT_LT(size_t(on), level.unit_count()) << level.name;
    }
  }
  EXPECT_GT(path_.rendered_energy, 1e-6);
}

TEST_F(PathIdentities, NoEditReproducesTheTopDownRendering) {
  Tensor images = backend_.alloc(Shape{1, 2, 6, 6});
  backend_.upload(images, image_);
  model_.bottom_up(images, false);
  Tensor labels = backend_.alloc(Shape{1, 1, 1, 1});
  backend_.fill(labels, -1.0f);
  const std::vector<float> top_down = backend_.download(model_.top_down(labels, false));  // from ĉ
  EXPECT_EQ(path_.rendered, top_down);
  EXPECT_EQ(render_edited(model_, path_, PathEdit(path_)), top_down);
}

TEST_F(PathIdentities, SwitchingEveryUnitOfALevelOffRendersExactlyZero) {
  for (size_t k = 0; k < path_.levels.size(); ++k) {
    PathEdit edit(path_);
    edit.set_level(k, true);
    const std::vector<float> rendered = render_edited(model_, path_, edit);
    EXPECT_TRUE(std::all_of(rendered.begin(), rendered.end(), [](float v) { return v == 0.0f; })) << path_.levels[k].name;
  }
}

TEST_F(PathIdentities, ContributionsAddUpToTheRenderedEnergyAtEveryLevel) {
  for (const PathLevel& level : path_.levels) {
    const double sum = std::accumulate(level.contribution.begin(), level.contribution.end(), 0.0);
    EXPECT_NEAR(sum, path_.rendered_energy, 1e-4 * path_.rendered_energy) << level.name;
    const double channels = std::accumulate(level.channel_contribution.begin(), level.channel_contribution.end(), 0.0);
    EXPECT_NEAR(channels, sum, 1e-4 * path_.rendered_energy) << level.name;
  }
}

// The pass is linear given the latents: toggling one unit off leaves Î minus that unit's own
// rendering, and that rendering's inner product with Î is the unit's recorded contribution.
TEST_F(PathIdentities, TogglingOneUnitOffSubtractsExactlyItsOwnRendering) {
  const std::vector<PathUnit> units = strongest_units(path_, 6);
  ASSERT_EQ(units.size(), 6u);
  for (const PathUnit& u : units) {
    const std::vector<float> alone = render_unit_alone(model_, path_, u.level, u.unit);
    PathEdit edit(path_);
    edit.toggle_unit(u.level, u.unit);
    const std::vector<float> without = render_edited(model_, path_, edit);
    std::vector<float> expected = path_.rendered;
    for (size_t i = 0; i < expected.size(); ++i) expected[i] -= alone[i];
    EXPECT_LT(max_abs_difference(without, expected), tolerance()) << path_.levels[u.level].name << " unit " << u.unit;
    EXPECT_NEAR(dot(alone, path_.rendered), u.contribution, 1e-4 * path_.rendered_energy);
    EXPECT_GT(dot(alone, alone), 0.0);
  }
  EXPECT_GE(units.front().contribution, units.back().contribution);
}

// Piecewise linear in the image: central differences with a small step stay in one linear
// region, so they equal the derivative up to float rounding.
TEST_F(PathIdentities, InputGradientIsTheDerivativeOfTheUnitsActivity) {
  for (const UnitTarget target : {class_target(model_.spec(), 1), UnitTarget{2, 3}, UnitTarget{0, 1}}) {
    unit_activity(model_, image_, target);
    const std::vector<float> analytic = backend_.download(model_.input_gradient(target.level, target.channel));
    double scale = 0;
    for (float g : analytic) scale = std::max(scale, double(std::abs(g)));
    ASSERT_GT(scale, 0.0) << "level " << target.level;
    for (size_t i = 0; i < image_.size(); i += 5) {
      std::vector<float> plus = image_, minus = image_;
      plus[i] += 1e-3f, minus[i] -= 1e-3f;
      const double numeric = (unit_activity(model_, plus, target).score - unit_activity(model_, minus, target).score) / 2e-3;
      EXPECT_NEAR(analytic[i], numeric, 2e-3 * scale) << "level " << target.level << " pixel " << i;
    }
  }
}

TEST_F(PathIdentities, PathJsonListsEveryLevelAndTheStrongestUnits) {
  const std::string json = path_to_json(path_, {"a", "b", "c"}, 3);
  for (const char* key : {"\"levels\"", "\"strongest\"", "\"contribution\"", "conv2", "pool1"})
    EXPECT_NE(json.find(key), std::string::npos) << key;
}

// ---- on a trained model ------------------------------------------------------------------------

class TrainedTiny : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TrainConfig c;
    c.dataset = "synthetic";
    c.preset = "tiny";
    c.labeled = 100;
    c.epochs = 1;  // 200 steps: test accuracy 1.00 on the shapes
    c.threads = 2;
    c.seed = 1;
    c.test_limit = 200;
    c.render_limit = 0;
    trainer_ = new Trainer(c);
    while (!trainer_->finished()) trainer_->step();
  }
  static void TearDownTestSuite() {
    delete trainer_;
    trainer_ = nullptr;
  }
  static Trainer* trainer_;
};
Trainer* TrainedTiny::trainer_ = nullptr;

// Paper 000 App. E: the closed-form image maximizes the class score. Compared at the data's mean
// L2 norm with the best-scoring of the first 1,000 training images of the same class. The claim
// holds for some classes only (measured on these shapes: 5 of 10 with the score templates, 6 after
// one refinement, 0 with the rendering templates; the README says why), so this pins that the
// score templates beat the data on at least half the classes and beat the rendering templates.
TEST_F(TrainedTiny, ClosedFormImageOutscoresTheBestTrainingImageOfItsClassForHalfTheClasses) {
  DrmmModel& model = trainer_->model();
  const Dataset& data = trainer_->train_data();
  double norm = 0;
  for (size_t i = 0; i < 1000; ++i) norm += image_norm(data.image(i)) / 1000.0;
  const std::vector<double> best = best_class_scores(model, data, 1000);
  auto classes_won = [&](int refinements, ClosedFormTemplates templates) {
    int won = 0;
    for (const ClosedFormImage& image : closed_form_activity_max(model, norm, refinements, templates)) {
      EXPECT_NEAR(image_norm(image.image), norm, 1e-3 * norm);
      won += image.activity.score >= best.at(size_t(image.cls));
    }
    return won;
  };
  const int score = classes_won(0, ClosedFormTemplates::Score), refined = classes_won(1, ClosedFormTemplates::Score);
  const int rendering = classes_won(0, ClosedFormTemplates::Rendering);
  EXPECT_GE(score, 5);
  EXPECT_GE(refined, score);  // a refinement keeps the best image so far
  EXPECT_GT(score, rendering);
}

TEST_F(TrainedTiny, GradientAscentRaisesTheClassScore) {
  DrmmModel& model = trainer_->model();
  for (int cls : {0, 3}) {
    const UnitTarget target = class_target(model.spec(), cls);
    GradientAscent ascent(model.spec(), target, noise_image(model.spec(), 7));
    const double before = unit_activity(model, ascent.image(), target).score;
    for (int s = 0; s < 40; ++s) ascent.step(model);
    const UnitActivity after = unit_activity(model, ascent.image(), target);
    EXPECT_GT(after.score, before + 1.0) << "class " << cls;
    EXPECT_GT(after.class_probabilities[size_t(cls)], 0.5) << "class " << cls;
  }
}

// Latents drawn and rendered from class c, classified by the model. Measured on these shapes:
// 11.5 % from the model's class-agnostic π_a, π_t (chance is 10 %), 30 % from the class-conditional
// frequencies π_{g|c} of 2,000 training images; the target of 80 % is not reached.
TEST_F(TrainedTiny, SamplesFromClassConditionalLatentsAreClassifiedAsTheirClassAboveChance) {
  auto mean = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()); };
  const double agnostic = mean(sample_classification_rates(trainer_->model(), 20, 3));
  const PathStatistics stats = path_statistics(trainer_->model(), trainer_->train_data(), 2000);
  const double conditional = mean(sample_classification_rates(trainer_->model(), 20, 3, &stats));
  EXPECT_GE(conditional, 0.2);
  EXPECT_GT(conditional, agnostic);
}

TEST_F(TrainedTiny, RenderLikeUsesTheImagesOwnLatents) {
  DrmmModel& model = trainer_->model();
  const Dataset& data = trainer_->train_data();
  const RenderingPath path = infer_path(model, data.image(4), 2);
  EXPECT_EQ(render_like(model, data.image(4), {2}), path.rendered);
}

TEST_F(TrainedTiny, PathStatisticsSeparateTheClasses) {
  const PathStatistics stats = path_statistics(trainer_->model(), trainer_->train_data(), 500);
  ASSERT_EQ(stats.overlap.size(), 10u);
  for (size_t c = 0; c < 10; ++c) {
    EXPECT_DOUBLE_EQ(stats.overlap[c][c], 1.0);
    for (size_t d = 0; d < 10; ++d) {
      EXPECT_LE(stats.overlap[c][d], 1.0);
      if (d != c) {
        EXPECT_LT(stats.overlap[c][d], 1.0) << c << " vs " << d;
      }
    }
  }
}

// The tiny preset after one epoch of Fashion-MNIST (100 labels, 2 threads, seed 1): samples drawn
// from each class's own frequencies π_{g|c} are classified as their class far above chance, and
// those from the model's class-agnostic π at chance. Measured with `drmm sample --count 50` on
// this run: 76.0 % at T 1, 79.8 % at T 0.5, 78.6 % at T 0.3; the model's π: 10 %.
TEST(TrainedTinyOnFashionMnist, SamplesFromClassFrequenciesAreClassifiedAsTheirClass) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  TrainConfig c;
  c.dataset = "fashion-mnist";
  c.preset = "tiny";
  c.labeled = 100;
  c.epochs = 1;
  c.threads = 2;
  c.seed = 1;
  c.test_limit = 500;
  c.render_limit = 0;
  Trainer trainer(c);
  while (!trainer.finished()) trainer.step();
  const PathStatistics stats = path_statistics(trainer.model(), trainer.train_data(), 2000);
  auto mean = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()); };
  const double sharp = mean(sample_classification_rates(trainer.model(), 50, 1, &stats, 0.5));
  const double plain = mean(sample_classification_rates(trainer.model(), 50, 1, &stats, 1.0));
  const double agnostic = mean(sample_classification_rates(trainer.model(), 50, 1));
  std::cout << "samples classified as their class: " << sharp << " (T 0.5), " << plain << " (T 1), " << agnostic
            << " (the model's π)\n";
  EXPECT_GE(sharp, 0.75);
  EXPECT_GE(plain, 0.7);
  EXPECT_LT(agnostic, 0.3);
}

}  // namespace
}  // namespace drmm
