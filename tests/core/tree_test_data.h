#pragma once
// Small in-memory data sets for the E-DRMM tree tests.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/tree/features.h"
#include "core/util/random.h"

namespace drmm::tree::testing {

// Values on the 8-bit grid of [0, 1] (as image pixels are), so the trees' 8-bit training copy
// of the data is exact and training-time routes equal inference-time routes.
inline float pixel(double v) { return float(std::lround(std::clamp(v, 0.0, 1.0) * 255.0)) / 255.f; }

struct Samples {
  std::vector<float> values;
  std::vector<int> labels;
  FeatureShape shape;
  std::vector<std::string> class_names;
  Features features() const { return make_features(values, labels.size(), shape); }
};

// Data drawn from an evolutionary rendering model (paper 001 eq. 28): a root template plus two
// levels of K additive mutations each, every leaf species its own class (K² classes),
// I = μ(root) + α(g2) + α(g1) + N(0, noise²). Each mutation touches a few pixels strongly.
inline Samples evolutionary_samples(size_t count, int children, float noise, uint64_t seed) {
  const FeatureShape shape{1, 6, 6};
  const size_t D = shape.size();
  Random model(1234), draw(seed);
  std::vector<float> root(D);
  for (float& v : root) v = float(model.uniform(0.3, 0.7));
  auto mutation = [&] {
    std::vector<float> a(D, 0.f);
    for (int k = 0; k < 4; ++k) a[model.below(D)] += float(model.uniform(-0.5, 0.5) > 0 ? 0.15 : -0.15);
    return a;
  };
  std::vector<std::vector<float>> level1, level2;  // level2[g1 * K + g2]
  for (int g = 0; g < children; ++g) level1.push_back(mutation());
  for (int g = 0; g < children * children; ++g) level2.push_back(mutation());
  Samples s;
  s.shape = shape;
  for (int c = 0; c < children * children; ++c) s.class_names.push_back("species " + std::to_string(c));
  for (size_t i = 0; i < count; ++i) {
    const int g1 = int(draw.below(size_t(children))), g2 = int(draw.below(size_t(children)));
    for (size_t j = 0; j < D; ++j)
      s.values.push_back(pixel(root[j] + level1[g1][j] + level2[g1 * children + g2][j] + noise * draw.normal()));
    s.labels.push_back(g1 * children + g2);
  }
  return s;
}

// Overlapping classes: C Gaussian blobs in D dimensions whose class is decided by a noisy,
// non-linear rule, so a single fully grown tree overfits and averaging many trees helps.
inline Samples noisy_samples(size_t count, uint64_t seed) {
  const FeatureShape shape{1, 4, 4};
  const size_t D = shape.size();
  Random draw(seed);
  Samples s;
  s.shape = shape;
  s.class_names = {"a", "b", "c"};
  for (size_t i = 0; i < count; ++i) {
    std::vector<float> p(D), x(D);  // pixels 0.5 + 0.15 x, x standard normal
    for (size_t j = 0; j < D; ++j) p[j] = pixel(0.5 + 0.15 * draw.normal()), x[j] = (p[j] - 0.5f) / 0.15f;
    const float score0 = x[0] + x[1] * x[2] - 0.5f * x[3], score1 = x[4] - x[5] + 0.5f * x[6] * x[7];
    int label = score0 > 0.3f ? 0 : (score1 > 0 ? 1 : 2);
    if (draw.uniform() < 0.15) label = int(draw.below(3));  // label noise
    s.values.insert(s.values.end(), p.begin(), p.end());
    s.labels.push_back(label);
  }
  return s;
}

}  // namespace drmm::tree::testing
