#include "core/tree/features.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/util/error.h"

namespace drmm::tree {

Features pixel_features(const Dataset& data) {
  return make_features(data.pixels, data.size(),
                       FeatureShape{data.channels, data.height, data.width});
}

Features make_features(std::span<const float> values, size_t rows, FeatureShape shape) {
  if (shape.size() == 0 || values.size() != rows * shape.size())
    throw Error("features: " + std::to_string(values.size()) + " values do not make " +
                std::to_string(rows) + " rows of " + std::to_string(shape.size()));
  return Features{values, rows, shape.size(), shape};
}

namespace {

bool all_in_unit_interval(std::span<const float> values) {
  return std::all_of(values.begin(), values.end(), [](float v) { return v >= 0.f && v <= 1.f; });
}

void set_column_ranges(const Features& f, QuantizedFeatures& out) {
  std::vector<float> hi(f.cols, -INFINITY);
  out.lo.assign(f.cols, INFINITY);
  for (size_t i = 0; i < f.rows; ++i) {
    const float* r = f.row(i);
    for (size_t j = 0; j < f.cols; ++j) {
      out.lo[j] = std::min(out.lo[j], r[j]);
      hi[j] = std::max(hi[j], r[j]);
    }
  }
  out.scale.resize(f.cols);
  for (size_t j = 0; j < f.cols; ++j) out.scale[j] = hi[j] > out.lo[j] ? (hi[j] - out.lo[j]) / 255.f : 1.f;
}

}  // namespace

QuantizedFeatures quantize(const Features& f) {
  for (float v : f.values)
    if (!std::isfinite(v)) throw Error("features: a value is not finite (NaN or infinity)");
  QuantizedFeatures out;
  out.rows = f.rows;
  out.cols = f.cols;
  if (all_in_unit_interval(f.values)) {
    out.lo.assign(f.cols, 0.f);
    out.scale.assign(f.cols, 1.f / 255.f);
  } else {
    set_column_ranges(f, out);
  }
  out.q.resize(f.rows * f.cols);
  std::vector<uint8_t> first(f.cols), varies(f.cols, 0);
  for (size_t i = 0; i < f.rows; ++i) {
    const float* r = f.row(i);
    uint8_t* q = out.q.data() + i * f.cols;
    for (size_t j = 0; j < f.cols; ++j) {
      q[j] = uint8_t(std::clamp((r[j] - out.lo[j]) / out.scale[j] + 0.5f, 0.f, 255.f));
      if (i == 0) first[j] = q[j];
      varies[j] |= q[j] != first[j];
    }
  }
  for (size_t j = 0; j < f.cols; ++j)
    if (varies[j]) out.varying_columns.push_back(uint32_t(j));
  return out;
}

}  // namespace drmm::tree
