// The shallow RMM's hard EM (core/rmm/shallow_rmm.h) against naive references: the E-step as an
// explicit loop over every (c, g) with explicitly shifted templates and inner products (paper 001
// eq. 16), the M-step as the per-pixel formula written out for shifts (eq. 17), the likelihood
// that never decreases, and planted templates recovered with their shifts.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "core/data/synthetic.h"
#include "core/rmm/shallow_rmm.h"
#include "core/util/random.h"
#include "core/util/thread_pool.h"

namespace drmm::rmm {
namespace {

constexpr int kSide = 12;

Dataset blank(int side, size_t count) {
  Dataset d;
  d.name = "test";
  d.height = d.width = side;
  d.pixels.assign(count * size_t(side) * size_t(side), 0.0f);
  d.labels.assign(count, 0);
  return d;
}

// μ shifted by (dx, dy) on a zero-padded canvas, written out pixel by pixel.
std::vector<float> naive_shift(std::span<const float> mu, int side, int dx, int dy) {
  std::vector<float> out(mu.size(), 0.0f);
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x) {
      const int sx = x - dx, sy = y - dy;
      if (sx >= 0 && sy >= 0 && sx < side && sy < side) out[size_t(y * side + x)] = mu[size_t(sy * side + sx)];
    }
  return out;
}

ShallowRmm random_model(int components, int max_shift, Random& random) {
  ShallowRmm m = make_model(blank(kSide, 1), components, make_nuisances(max_shift, {}));
  for (float& v : m.templates) v = float(random.uniform());
  for (double& p : m.log_prior) p = std::log(random.uniform(0.01, 1.0));
  return m;
}

std::vector<float> random_images(size_t count, Random& random) {
  std::vector<float> images(count * kSide * kSide);
  for (float& v : images) v = float(random.uniform());
  return images;
}

TEST(ShallowRmm, EStepEqualsTheNaiveLoopOverEveryClassAndShift) {
  Random random(3);
  const ShallowRmm model = random_model(4, 2, random);
  const size_t n = 300;  // more than one GEMM block
  const std::vector<float> images = random_images(n, random);
  std::vector<int> known(n);
  for (int& k : known) k = int(random.below(4));
  ThreadPool pool(2);
  const EStep unsupervised = e_step(model, images, {}, pool);
  const EStep supervised = e_step(model, images, known, pool);
  const size_t d = kSide * kSide;
  for (size_t i = 0; i < n; ++i) {
    const std::span<const float> image(images.data() + i * d, d);
    double best = -1e300, best_known = -1e300;
    Assignment arg, arg_known;
    for (int c = 0; c < model.components; ++c)
      for (int g = 0; g < model.num_nuisances(); ++g) {
        const Nuisance& t = model.nuisances[size_t(g)];
        const std::vector<float> mu = naive_shift(model.canonical(c), kSide, t.dx, t.dy);
        double inner = 0, norm = 0;
        for (size_t x = 0; x < d; ++x) inner += double(mu[x]) * image[x], norm += double(mu[x]) * mu[x];
        // Paper 001 eq. 16: ⟨μ_cg|I⟩ − ½‖μ_cg‖² + log π_cg.
        const double score = inner - 0.5 * norm + model.log_prior[size_t(c * model.num_nuisances() + g)];
        if (score > best) best = score, arg = {c, g};
        if (c == known[i] && score > best_known) best_known = score, arg_known = {c, g};
      }
    EXPECT_EQ(unsupervised.predicted[i], arg) << "image " << i;
    EXPECT_EQ(unsupervised.chosen[i], arg) << "image " << i;
    EXPECT_EQ(supervised.chosen[i], arg_known) << "image " << i;
    EXPECT_EQ(supervised.predicted[i], arg) << "image " << i;
  }
}

TEST(ShallowRmm, MStepEqualsThePerPixelLeastSquaresOfShiftedImages) {
  Random random(5);
  ShallowRmm model = random_model(3, 2, random);
  const std::vector<float> before = model.templates;
  const size_t n = 200, d = kSide * kSide;
  const std::vector<float> images = random_images(n, random);
  std::vector<Assignment> z(n);
  for (Assignment& a : z) a = {int(random.below(2)), int(random.below(size_t(model.num_nuisances())))};  // component 2 unused
  ThreadPool pool(2);
  m_step(model, images, z, pool);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < kSide; ++y)
      for (int x = 0; x < kSide; ++x) {
        // μ_c(x, y): the mean over the images assigned to c whose shift lands this pixel inside
        // the canvas, of the pixel it lands on; uncovered pixels keep their value.
        double sum = 0, covered = 0;
        for (size_t i = 0; i < n; ++i) {
          if (z[i].component != c) continue;
          const Nuisance& g = model.nuisances[size_t(z[i].nuisance)];
          const int tx = x + g.dx, ty = y + g.dy;
          if (tx < 0 || ty < 0 || tx >= kSide || ty >= kSide) continue;
          sum += images[i * d + size_t(ty * kSide + tx)];
          covered += 1;
        }
        const size_t j = size_t(c) * d + size_t(y * kSide + x);
        EXPECT_NEAR(model.templates[j], covered > 0 ? sum / covered : before[j], 1e-5) << c << " " << x << " " << y;
      }
  for (int c = 0; c < 3; ++c)
    for (int g = 0; g < model.num_nuisances(); ++g) {
      const double count = double(std::count(z.begin(), z.end(), Assignment{c, g}));
      const double log_pi = model.log_prior[size_t(c * model.num_nuisances() + g)];
      if (count == 0) EXPECT_TRUE(std::isinf(log_pi) && log_pi < 0);
      else EXPECT_NEAR(log_pi, std::log(count / double(n)), 1e-12);
    }
}

TEST(ShallowRmm, TheLikelihoodNeverDecreases) {
  SyntheticOptions so;
  so.count = 1500;
  const Dataset data = make_synthetic(so);
  for (const Mode mode : {Mode::Unsupervised, Mode::Supervised})
    for (const uint64_t seed : {1, 2, 3}) {
      TrainOptions o;
      o.mode = mode;
      o.seed = seed;
      o.clusters = 12;
      o.max_shift = 2;
      o.rotations = {-15.0f, 15.0f};
      o.iterations = 8;
      o.threads = 2;
      const Trained t = train_shallow_rmm(data, nullptr, o);
      for (size_t i = 1; i < t.history.size(); ++i)
        EXPECT_GE(t.history[i].log_likelihood, t.history[i - 1].log_likelihood - 1e-9 * std::abs(t.history[i - 1].log_likelihood))
            << mode_name(mode) << " seed " << seed << " iteration " << t.history[i].iteration;
      EXPECT_GT(t.history.back().log_likelihood, t.history.front().log_likelihood) << "nothing was learned";
    }
}

double correlation(std::span<const float> a, std::span<const float> b) {
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / double(a.size());
  const double mb = std::accumulate(b.begin(), b.end(), 0.0) / double(b.size());
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) ab += (a[i] - ma) * (b[i] - mb), aa += (a[i] - ma) * (a[i] - ma), bb += (b[i] - mb) * (b[i] - mb);
  return ab / std::sqrt(aa * bb + 1e-30);
}

TEST(ShallowRmm, RecoversPlantedTemplatesAndTheirShifts) {
  // Three random templates inside the canvas's centre (so every shift keeps them whole), each
  // image one of them shifted by a known (dx, dy) within ±2, plus Gaussian noise.
  // The model searches shifts twice as wide as the planted ones: a cluster seeded from a
  // shifted image sits in that image's frame and needs the wider range to reach every image.
  const int planted = 3, s = 2, side = 16;
  const size_t n = 600, d = side * side;
  Random random(11);
  std::vector<std::vector<float>> truth(planted, std::vector<float>(d, 0.0f));
  for (auto& mu : truth)
    for (int y = 2 * s; y < side - 2 * s; ++y)
      for (int x = 2 * s; x < side - 2 * s; ++x) mu[size_t(y * side + x)] = float(random.uniform());
  Dataset data = blank(side, n);
  std::vector<int> true_dx(n), true_dy(n);
  for (size_t i = 0; i < n; ++i) {
    data.labels[i] = int(i % planted);
    true_dx[i] = int(random.below(2 * s + 1)) - s;
    true_dy[i] = int(random.below(2 * s + 1)) - s;
    const std::vector<float> shifted = naive_shift(truth[size_t(data.labels[i])], side, true_dx[i], true_dy[i]);
    for (size_t x = 0; x < d; ++x) data.pixels[i * d + x] = shifted[x] + 0.1f * float(random.normal());
  }
  data.class_names = {"a", "b", "c"};
  TrainOptions o;
  o.mode = Mode::Unsupervised;
  o.clusters = 2 * planted;  // room for k-means++ to seed two clusters on one template
  o.max_shift = 2 * s;
  o.iterations = 10;
  o.threads = 2;
  o.samples = n;
  const Trained t = train_shallow_rmm(data, nullptr, o);
  // Each planted template matches a learned one, up to the shift the learned one sits at (a
  // cluster seeded from a shifted image keeps that frame).
  for (int p = 0; p < planted; ++p) {
    double best = -1;
    for (int c = 0; c < t.model.components; ++c)
      for (int dy = -2 * s; dy <= 2 * s; ++dy)
        for (int dx = -2 * s; dx <= 2 * s; ++dx) best = std::max(best, correlation(truth[size_t(p)], naive_shift(t.model.canonical(c), side, dx, dy)));
    EXPECT_GT(best, 0.95) << "planted template " << p;
  }
  // Every image's assigned μ_cg = T_g μ_c is its planted template at its planted shift.
  size_t right = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::vector<float> planted_image = naive_shift(truth[size_t(data.labels[i])], side, true_dx[i], true_dy[i]);
    right += correlation(planted_image, t.model.render(t.samples[i].component, t.samples[i].nuisance)) > 0.95;
  }
  EXPECT_GE(double(right) / double(n), 0.98) << right << " of " << n << " images got their template and shift";
  EXPECT_NEAR(t.history.back().train_accuracy, 1.0, 1e-9);
}

}  // namespace
}  // namespace drmm::rmm
