// The built-in synthetic renderer: deterministic, recognisable classes, and nuisance values
// that really describe the images.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/data/dataset.h"
#include "core/data/synthetic.h"

namespace drmm {
namespace {

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

float nuisance(const Dataset& data, size_t image, const std::string& name) {
  const auto it = std::find(data.nuisance_names.begin(), data.nuisance_names.end(), name);
  EXPECT_NE(it, data.nuisance_names.end()) << name;
  return data.nuisances[image * data.nuisance_names.size() + size_t(it - data.nuisance_names.begin())];
}

double correlation(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = double(x.size());
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i)
    sx += x[i], sy += y[i], sxx += x[i] * x[i], syy += y[i] * y[i], sxy += x[i] * y[i];
  return (sxy - sx * sy / n) / std::sqrt((sxx - sx * sx / n) * (syy - sy * sy / n));
}

TEST(DatasetSynthetic, NamedSetsHaveTheDocumentedShapes) {
  const Dataset train = load_dataset("synthetic");
  EXPECT_EQ(train.size(), 10000u);
  EXPECT_EQ(train.channels, 1);
  EXPECT_EQ(train.height, 28);
  EXPECT_EQ(train.class_counts(), std::vector<size_t>(10, 1000));
  EXPECT_EQ(train.nuisance_names,
            std::vector<std::string>({"shift_x", "shift_y", "scale", "rotation", "intensity", "noise"}));
  EXPECT_EQ(train.nuisances.size(), 10000u * 6);
  const Dataset test = load_dataset("synthetic-rgb", Split::Test);
  EXPECT_EQ(test.size(), 2000u);
  EXPECT_EQ(test.channels, 3);
  EXPECT_EQ(test.width, 32);
  EXPECT_EQ(test.nuisance_names.back(), "hue");
}

TEST(DatasetSynthetic, SameSeedGivesBitwiseTheSameData) {
  for (const bool rgb : {false, true}) {
    const Dataset a = make_synthetic({.rgb = rgb, .count = 300, .seed = 7});
    const Dataset b = make_synthetic({.rgb = rgb, .count = 300, .seed = 7});
    EXPECT_TRUE(bitwise_equal(a.pixels, b.pixels));
    EXPECT_TRUE(bitwise_equal(a.nuisances, b.nuisances));
    EXPECT_EQ(a.labels, b.labels);
    EXPECT_FALSE(bitwise_equal(a.pixels, make_synthetic({.rgb = rgb, .count = 300, .seed = 8}).pixels));
  }
}

TEST(DatasetSynthetic, ImageDoesNotDependOnHowManyAreMade) {
  const Dataset few = make_synthetic({.count = 20, .seed = 3});
  const Dataset many = make_synthetic({.count = 200, .seed = 3});
  EXPECT_TRUE(bitwise_equal(few.pixels, std::vector<float>(many.pixels.begin(), many.pixels.begin() + few.pixels.size())));
}

TEST(DatasetSynthetic, TestSplitIsDrawnWithAnotherSeed) {
  const Dataset train = load_dataset("synthetic", Split::Train);
  const Dataset test = load_dataset("synthetic", Split::Test);
  EXPECT_TRUE(has_split("synthetic", Split::Test));
  EXPECT_FALSE(bitwise_equal(test.pixels, std::vector<float>(train.pixels.begin(), train.pixels.begin() + test.pixels.size())));
}

TEST(DatasetSynthetic, PixelsAreInRangeAndEveryImageShowsItsShape) {
  const Dataset data = make_synthetic({.rgb = true, .count = 500, .seed = 11});
  for (size_t i = 0; i < data.size(); ++i) {
    const auto image = data.image(i);
    const auto [low, high] = std::minmax_element(image.begin(), image.end());
    ASSERT_GE(*low, 0.0f);
    ASSERT_LE(*high, 1.0f);
    ASSERT_GT(*high, 0.4f) << "image " << i << " is nearly blank";
  }
}

TEST(DatasetSynthetic, NuisancesVaryWithinTheirDocumentedRanges) {
  const Dataset data = make_synthetic({.count = 2000, .seed = 5});
  const std::vector<std::pair<float, float>> ranges = {{-2.8f, 2.8f}, {-2.8f, 2.8f}, {0.7f, 1.05f},
                                                       {-15.f, 15.f}, {0.5f, 1.0f},   {0.0f, 0.1f}};
  for (size_t k = 0; k < ranges.size(); ++k) {
    float low = 1e9f, high = -1e9f;
    for (size_t i = 0; i < data.size(); ++i) {
      low = std::min(low, data.nuisances[i * 6 + k]);
      high = std::max(high, data.nuisances[i * 6 + k]);
    }
    const float span = ranges[k].second - ranges[k].first;
    EXPECT_GE(low, ranges[k].first - 1e-4f) << data.nuisance_names[k];
    EXPECT_LE(high, ranges[k].second + 1e-4f) << data.nuisance_names[k];
    EXPECT_GT(high - low, 0.9f * span) << data.nuisance_names[k] << " hardly varies";
  }
}

// The recorded nuisances describe the pictures: the brightness centroid follows shift_x and
// shift_y, and the brightest pixels follow intensity. Only the point-symmetric shapes count
// (circle, square, cross, ring, bar, plus, diamond): their centroid is their centre.
TEST(DatasetSynthetic, RecordedNuisancesMatchTheImages) {
  const Dataset data = make_synthetic({.count = 1000, .seed = 9});
  const std::vector<int> symmetric = {0, 1, 3, 4, 5, 6, 7};
  std::vector<double> shift_x, shift_y, centroid_x, centroid_y, intensity, median_bright;
  for (size_t i = 0; i < data.size(); ++i) {
    if (std::find(symmetric.begin(), symmetric.end(), data.labels[i]) == symmetric.end()) continue;
    const auto image = data.image(i);
    double mass = 0, mx = 0, my = 0;
    std::vector<float> sorted(image.begin(), image.end());
    for (int y = 0; y < data.height; ++y)
      for (int x = 0; x < data.width; ++x) {
        const double v = std::max(0.0f, image[size_t(y * data.width + x)] - 0.3f);  // ignore the noise floor
        mass += v, mx += v * x, my += v * y;
      }
    std::sort(sorted.begin(), sorted.end());
    shift_x.push_back(nuisance(data, i, "shift_x"));
    shift_y.push_back(nuisance(data, i, "shift_y"));
    centroid_x.push_back(mx / mass);
    centroid_y.push_back(my / mass);
    intensity.push_back(nuisance(data, i, "intensity"));
    median_bright.push_back(sorted[sorted.size() - 20]);  // 20th brightest: inside the shape
  }
  EXPECT_GT(correlation(shift_x, centroid_x), 0.9);
  EXPECT_GT(correlation(shift_y, centroid_y), 0.9);
  EXPECT_GT(correlation(intensity, median_bright), 0.8);
}

// The ten shapes are told apart even by the crudest classifier (nearest class mean),
// far above the 10% of chance.
TEST(DatasetSynthetic, ClassesAreDistinct) {
  const Dataset train = make_synthetic({.count = 2000, .seed = 1});
  const Dataset test = make_synthetic({.count = 500, .seed = 2});
  const size_t pixels = train.image_size();
  std::vector<double> means(10 * pixels, 0.0);
  for (size_t i = 0; i < train.size(); ++i)
    for (size_t p = 0; p < pixels; ++p) means[size_t(train.labels[i]) * pixels + p] += train.image(i)[p] / 200.0;
  size_t correct = 0;
  for (size_t i = 0; i < test.size(); ++i) {
    double best = 1e300;
    int best_class = -1;
    for (int c = 0; c < 10; ++c) {
      double distance = 0;
      for (size_t p = 0; p < pixels; ++p) distance += std::pow(test.image(i)[p] - means[size_t(c) * pixels + p], 2);
      if (distance < best) best = distance, best_class = c;
    }
    correct += best_class == test.labels[i];
  }
  EXPECT_GT(double(correct) / double(test.size()), 0.6);
}

}  // namespace
}  // namespace drmm
