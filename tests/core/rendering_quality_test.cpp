// The rendering-quality measures (core/train/rendering_quality.h) against their definitions:
// the two per-image statistics on vectors whose answer is known, and measure_rendering against
// the same quantities computed here from one unbatched top-down pass.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/backend/cpu/cpu_backend.h"
#include "core/data/dataset.h"
#include "core/train/model_state.h"
#include "core/train/rendering_quality.h"
#include "core/util/error.h"

namespace drmm {
namespace {

TEST(RenderingQuality, PearsonIsInvariantToGainAndOffset) {
  const std::vector<float> a{1, 2, 4, 8, 3};
  std::vector<float> b, c;
  for (float v : a) b.push_back(2.5f * v - 7.0f), c.push_back(-v);
  EXPECT_NEAR(pearson(a, b), 1.0, 1e-12);
  EXPECT_NEAR(pearson(a, c), -1.0, 1e-12);
  EXPECT_EQ(pearson(a, std::vector<float>(5, 3.0f)), 0.0);  // a constant rendering carries nothing
  // (1,0,0) against (0,1,0): means 1/3, covariance −1/9·3 = −1/3, variances 2/3 → r = −1/2.
  EXPECT_NEAR(pearson(std::vector<float>{1, 0, 0}, std::vector<float>{0, 1, 0}), -0.5, 1e-12);
  EXPECT_THROW(pearson(a, std::vector<float>{1}), Error);
}

TEST(RenderingQuality, RelativeErrorUsesTheBestGain) {
  const std::vector<float> a{3, 0, 4};
  EXPECT_NEAR(relative_error_after_gain(a, std::vector<float>{0.3f, 0, 0.4f}), 0.0, 1e-12);
  EXPECT_NEAR(relative_error_after_gain(a, std::vector<float>{0, 1, 0}), 1.0, 1e-12);
  // b = (1, 0, 0): g = 3, residual (0, 0, 4), 16 / 25.
  EXPECT_NEAR(relative_error_after_gain(a, std::vector<float>{1, 0, 0}), 16.0 / 25.0, 1e-12);
  EXPECT_EQ(relative_error_after_gain(a, std::vector<float>(3, 0.0f)), 1.0);
}

std::vector<float> slice(const std::vector<float>& all, size_t i, size_t size) {
  return {all.begin() + i * size, all.begin() + (i + 1) * size};
}

int argmax(const std::vector<float>& q, size_t i, int classes) {
  return int(std::max_element(q.begin() + i * classes, q.begin() + (i + 1) * classes) - (q.begin() + i * classes));
}

// 300 images: more than one of measure_rendering's batches, and not a whole number of them.
TEST(RenderingQuality, MeasureMatchesOneUnbatchedTopDownPass) {
  CpuBackend backend(1);
  DrmmModel model(load_model_spec("tiny"), backend, 5);
  Dataset data = load_dataset("synthetic", Split::Test);
  const size_t count = 300, size = data.image_size();
  const int classes = model.spec().classes;
  const RenderingQuality measured = measure_rendering(model, data, count);

  model.bottom_up(model.upload_images(data.images(0, count)), false);
  const std::vector<float> q = backend.download(model.class_probabilities());
  Tensor predicted = backend.alloc(Shape{int(count), 1, 1, 1});
  backend.fill(predicted, -1.0f);
  const std::vector<float> rendered = backend.download(model.top_down(predicted, false));
  std::vector<double> r;
  double error = 0;
  for (size_t i = 0; i < count; ++i) {
    const std::vector<float> image = slice(data.pixels, i, size), mine = slice(rendered, i, size);
    r.push_back(pearson(image, mine));
    error += relative_error_after_gain(image, mine) / double(count);
  }
  std::vector<double> level_r;
  for (size_t level = 0; level + 1 < model.spec().layers.size(); ++level) {
    const std::vector<float> from = backend.download(model.reconstruct_from_level(level));
    double sum = 0;
    for (size_t i = 0; i < count; ++i) sum += pearson(slice(data.pixels, i, size), slice(from, i, size));
    level_r.push_back(sum / double(count));
  }
  Tensor again = backend.alloc(Shape{int(count), data.channels, data.height, data.width});
  backend.upload(again, rendered);
  model.bottom_up(again, false);
  const std::vector<float> q_rendered = backend.download(model.class_probabilities());
  size_t consistent = 0;
  for (size_t i = 0; i < count; ++i) consistent += argmax(q, i, classes) == argmax(q_rendered, i, classes);

  EXPECT_EQ(measured.count, count);
  double mean = 0;
  for (double v : r) mean += v / double(count);
  std::sort(r.begin(), r.end());
  EXPECT_NEAR(measured.r_mean, mean, 1e-5);
  EXPECT_NEAR(measured.r_median, 0.5 * (r[count / 2 - 1] + r[count / 2]), 1e-5);
  EXPECT_NEAR(measured.relative_error, error, 1e-5);
  EXPECT_NEAR(measured.self_consistency, double(consistent) / double(count), 1e-12);
  ASSERT_EQ(measured.level_r.size(), level_r.size());
  for (size_t level = 0; level < level_r.size(); ++level) EXPECT_NEAR(measured.level_r[level], level_r[level], 1e-5);
  EXPECT_GT(std::abs(measured.r_mean), 1e-3);  // an untrained model still renders something
}

}  // namespace
}  // namespace drmm
