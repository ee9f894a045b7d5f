// Linear nuisance probes (core/analysis/nuisance_probe.h): ridge against the normal equations
// solved naively, held-out scores above chance on what the synthetic set varies and at chance
// on a shuffled target, and the pooling that keeps position.
#include <gtest/gtest.h>

#include <cmath>

#include "core/analysis/nuisance_probe.h"
#include "core/data/synthetic.h"
#include "core/util/random.h"

namespace drmm::analysis {
namespace {

// (ZᵀZ + λI) w = Zᵀ(y − ȳ) by Gauss–Jordan elimination on the augmented matrix, Z the
// features standardised with the fitted rows' mean and (population) standard deviation.
std::vector<double> naive_ridge_prediction(const std::vector<float>& x, size_t d, const std::vector<double>& y, size_t fit_rows,
                                           double lambda, const float* query) {
  std::vector<double> mean(d, 0), sd(d, 0);
  for (size_t j = 0; j < d; ++j) {
    for (size_t i = 0; i < fit_rows; ++i) mean[j] += x[i * d + j] / double(fit_rows);
    for (size_t i = 0; i < fit_rows; ++i) sd[j] += std::pow(x[i * d + j] - mean[j], 2) / double(fit_rows);
    sd[j] = std::sqrt(sd[j]);
  }
  double ybar = 0;
  for (size_t i = 0; i < fit_rows; ++i) ybar += y[i] / double(fit_rows);
  std::vector<std::vector<double>> a(d, std::vector<double>(d + 1, 0));
  for (size_t p = 0; p < d; ++p) {
    for (size_t q = 0; q < d; ++q)
      for (size_t i = 0; i < fit_rows; ++i)
        a[p][q] += (x[i * d + p] - mean[p]) / sd[p] * (x[i * d + q] - mean[q]) / sd[q];
    a[p][p] += lambda;
    for (size_t i = 0; i < fit_rows; ++i) a[p][d] += (x[i * d + p] - mean[p]) / sd[p] * (y[i] - ybar);
  }
  for (size_t c = 0; c < d; ++c)
    for (size_t r = 0; r < d; ++r)
      if (r != c) {
        const double f = a[r][c] / a[c][c];
        for (size_t k = c; k <= d; ++k) a[r][k] -= f * a[c][k];
      }
  double prediction = ybar;
  for (size_t j = 0; j < d; ++j) prediction += a[j][d] / a[j][j] * (query[j] - mean[j]) / sd[j];
  return {prediction};
}

TEST(NuisanceProbe, RidgeEqualsTheNormalEquationsSolvedNaively) {
  const size_t n = 40, d = 5;
  Random random(3);
  std::vector<float> x(n * d);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(random.uniform(-1, 1) * double(1 + i % d) + double(i % d));
  std::vector<double> y(n);
  for (size_t i = 0; i < n; ++i) y[i] = 2 * x[i * d] - x[i * d + 3] + 0.3 * random.normal() + 5;
  const size_t fit_rows = 30;
  std::vector<size_t> rows(fit_rows);
  for (size_t i = 0; i < fit_rows; ++i) rows[i] = i;
  for (double lambda : {0.5, 7.0}) {
    const RidgeModel model = fit_ridge(x, d, y, 1, rows, lambda);
    for (size_t q = fit_rows; q < n; ++q)  // rows not fitted: standardised with the fitted rows' statistics
      EXPECT_NEAR(model.predict(&x[q * d])[0], naive_ridge_prediction(x, d, y, fit_rows, lambda, &x[q * d])[0], 1e-6);
  }
}

// A unit that is almost always off on the fitted rows (one of them at 1e-6) and on at 1 on the
// held-out ones: standardised by its own deviation it would be ~10⁷ there and swamp the prediction;
// left out, the held-out rows are predicted from the informative features alone.
TEST(NuisanceProbe, ANearlyDeadFeatureDoesNotSwampHeldOutPredictions) {
  const size_t n = 60, d = 3, fit_rows = 40;
  Random random(5);
  std::vector<float> x(n * d);
  std::vector<double> y(n);
  for (size_t i = 0; i < n; ++i) {
    x[i * d] = float(random.uniform(-1, 1));
    x[i * d + 1] = float(random.uniform(-1, 1));
    x[i * d + 2] = i < fit_rows ? (i == 5 ? 1e-6f : 0.0f) : 1.0f;
    y[i] = 3 * x[i * d] - 2 * x[i * d + 1];
  }
  std::vector<size_t> rows(fit_rows);
  for (size_t i = 0; i < fit_rows; ++i) rows[i] = i;
  const RidgeModel model = fit_ridge(x, d, y, 1, rows, 0.1);
  std::vector<double> truth, predicted;
  for (size_t q = fit_rows; q < n; ++q) {
    truth.push_back(y[q]);
    predicted.push_back(model.predict(&x[q * d])[0]);
  }
  EXPECT_GT(r_squared(truth, predicted), 0.99);
}

// The pixels of synthetic images and their targets, as `drmm probe` builds them.
struct PixelProbe {
  std::vector<ProbeLevel> levels;
  std::vector<ProbeTarget> targets;
};

PixelProbe synthetic_pixel_probe(size_t count) {
  const Dataset data = make_synthetic({false, count, 7});
  PixelProbe p;
  p.levels.push_back({"pixels", data.size(), data.channels, data.height, data.width, data.pixels});
  p.targets.push_back({"class", true, std::vector<float>(data.labels.begin(), data.labels.end())});
  const size_t k = data.nuisance_names.size();
  for (size_t j = 0; j < k; ++j) {
    ProbeTarget t{data.nuisance_names[j], false, {}};
    for (size_t i = 0; i < data.size(); ++i) t.values.push_back(data.nuisances[i * k + j]);
    p.targets.push_back(std::move(t));
  }
  return p;
}

const ProbeScore& score_of(const std::vector<ProbeScore>& scores, const std::string& target) {
  for (const ProbeScore& s : scores)
    if (s.target == target) return s;
  throw std::runtime_error("no score for " + target);
}

TEST(NuisanceProbe, PixelsDecodeWhatTheSyntheticSetVaries) {
  PixelProbe p = synthetic_pixel_probe(1500);
  ProbeOptions options;
  options.max_features = 196;  // 14×14 of the 28×28 pixels
  options.threads = 2;
  const std::vector<ProbeScore> scores = probe_levels(p.levels, p.targets, options);
  EXPECT_EQ(score_of(scores, "class").features, 196u);
  EXPECT_GT(score_of(scores, "shift_x").score, 0.5);
  EXPECT_GT(score_of(scores, "shift_y").score, 0.5);
  EXPECT_GT(score_of(scores, "intensity").score, 0.1);  // linear in pixels only up to the shape's area
  EXPECT_GT(score_of(scores, "class").score, score_of(scores, "class").chance + 0.2);
}

TEST(NuisanceProbe, AShuffledTargetScoresChance) {
  PixelProbe p = synthetic_pixel_probe(1500);
  Random random(11);
  for (ProbeTarget& t : p.targets) random.shuffle(t.values);  // no image keeps its own value
  ProbeOptions options;
  options.max_features = 196;
  options.threads = 2;
  const std::vector<ProbeScore> scores = probe_levels(p.levels, p.targets, options);
  EXPECT_LT(score_of(scores, "shift_x").score, 0.05);
  EXPECT_LT(score_of(scores, "intensity").score, 0.05);
  const ProbeScore& c = score_of(scores, "class");
  EXPECT_NEAR(c.score, c.chance, 0.06);
}

TEST(NuisanceProbe, PoolingKeepsChannelsPositionAndMeans) {
  ProbeLevel level{"conv", 1, 2, 6, 6, std::vector<float>(72, 0.f)};
  level.values[0 * 36 + 1 * 6 + 4] = 9.f;  // channel 0, row 1, column 4: the top-right cell of a 3×3 grid
  for (size_t i = 36; i < 72; ++i) level.values[i] = float(i % 6);  // channel 1: the column index
  const ProbeLevel pooled = pool_to_budget(level, 18);
  ASSERT_EQ(pooled.channels, 2);
  ASSERT_EQ(pooled.height, 3);
  ASSERT_EQ(pooled.width, 3);
  for (int cell = 0; cell < 9; ++cell) EXPECT_FLOAT_EQ(pooled.values[size_t(cell)], cell == 2 ? 9.f / 4 : 0.f);
  for (int cell = 0; cell < 9; ++cell) EXPECT_FLOAT_EQ(pooled.values[size_t(9 + cell)], float(cell % 3) * 2 + 0.5f);
  EXPECT_EQ(pool_to_budget(level, 72).values, level.values);  // within budget: untouched
}

}  // namespace
}  // namespace drmm::analysis
