#pragma once
// Layer and model specs written out for the model tests (small nets of every layer kind).
#include <string>
#include <utility>
#include <vector>

#include "core/model/model_spec.h"

namespace drmm::test {

inline LayerSpec conv_layer(std::string name, int filters, int kernel, ConvMode mode, bool relu, bool bias = false) {
  LayerSpec l;
  l.bias = bias;
  l.kind = LayerKind::Conv;
  l.name = std::move(name);
  l.filters = filters;
  l.kernel = kernel;
  l.mode = mode;
  l.relu = relu;
  return l;
}

inline LayerSpec pool_layer(std::string name) {
  LayerSpec l;
  l.kind = LayerKind::MaxPool;
  l.name = std::move(name);
  l.kernel = 2;
  return l;
}

// A 2×6×6 input, 3 classes, the given layers and a mean pool on top; shapes resolved.
inline ModelSpec small_model(std::string name, std::vector<LayerSpec> layers) {
  ModelSpec spec;
  spec.name = std::move(name);
  spec.channels = 2;
  spec.height = spec.width = 6;
  spec.classes = 3;
  LayerSpec mean;
  mean.kind = LayerKind::MeanPool;
  mean.name = "meanpool";
  layers.push_back(mean);
  spec.layers = std::move(layers);
  spec.resolve_shapes();
  return spec;
}

}  // namespace drmm::test
