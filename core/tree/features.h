#pragma once
// The input space of an E-DRMM tree (DESIGN.md §3.6): "pixels, or the DRMM's features at any
// layer". Trees see only a generic N × D float matrix plus a C×H×W shape used to draw
// templates as images, so features from any source (raw pixels, a DRMM layer, a file) plug in.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/data/dataset.h"

namespace drmm::tree {

// How a feature vector is drawn as an image: channels · height · width == feature count.
struct FeatureShape {
  int channels = 1, height = 1, width = 1;
  size_t size() const { return size_t(channels) * size_t(height) * size_t(width); }
};

// A non-owning view of N feature vectors of D floats each, row-major (one row per image).
struct Features {
  std::span<const float> values;
  size_t rows = 0, cols = 0;
  FeatureShape shape;

  const float* row(size_t i) const { return values.data() + i * cols; }
};

// The dataset's pixels as features (no copy: the view points into `data`).
Features pixel_features(const Dataset& data);

// A view of an owned matrix; throws drmm::Error when values.size() != rows · shape.size().
Features make_features(std::span<const float> values, size_t rows, FeatureShape shape);

// The training copy of the features, 8 bits per value (as LightGBM's histogram binning): the
// split search reads every sample row many times, and a 784-byte row keeps Fashion-MNIST's
// 60k rows (47 MB) mostly in cache where floats (188 MB) would stream from memory.
// Value j of a row is lo[j] + scale[j] · q. Data already in [0,1] (pixels stored as k/255)
// uses lo = 0, scale = 1/255 for every column, which is exact; other data uses each column's
// own min and max. Templates and biases stay in the float space, so a trained tree is applied
// to unquantized float inputs.
struct QuantizedFeatures {
  size_t rows = 0, cols = 0;
  std::vector<uint8_t> q;        // rows × cols
  std::vector<float> lo, scale;  // per column
  std::vector<uint32_t> varying_columns;  // columns whose value is not the same in every row

  const uint8_t* row(size_t i) const { return q.data() + i * cols; }
  float value(size_t i, size_t j) const { return lo[j] + scale[j] * float(q[i * cols + j]); }
};

QuantizedFeatures quantize(const Features& features);

}  // namespace drmm::tree
