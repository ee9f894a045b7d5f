#include "core/backend/backend.h"

#include <algorithm>

#include "core/util/error.h"

namespace drmm {

// Theano's border modes (paper 002 App. A: "Full, half, and valid convolutions follow the
// standards in Theano").
int conv_padding(ConvMode mode, int kernel) {
  switch (mode) {
    case ConvMode::Valid: return 0;
    case ConvMode::Half: return kernel / 2;
    case ConvMode::Full: return kernel - 1;
  }
  return 0;
}

int conv_output_size(int input, int kernel, int pad) { return input + 2 * pad - kernel + 1; }

ConvMode parse_conv_mode(const std::string& text) {
  if (text == "valid") return ConvMode::Valid;
  if (text == "half") return ConvMode::Half;
  if (text == "full") return ConvMode::Full;
  throw Error("unknown convolution mode '" + text + "' (expected valid, half or full)");
}

std::string conv_mode_name(ConvMode mode) {
  switch (mode) {
    case ConvMode::Valid: return "valid";
    case ConvMode::Half: return "half";
    case ConvMode::Full: return "full";
  }
  return "?";
}

void Backend::render_class_onehot(const Tensor& q, const Tensor& labels, bool use_labels, Tensor& onehot) {
  const int n = q.shape().n, classes = q.shape().c;
  if (labels.count() != size_t(n) || onehot.shape() != q.shape())
    throw Error("render_class_onehot: shapes disagree (q " + q.shape().str() + ", labels " +
                labels.shape().str() + ", onehot " + onehot.shape().str() + ")");
  const std::vector<float> probabilities = download(q), label_values = download(labels);
  std::vector<float> result(q.count(), 0.0f);
  for (int i = 0; i < n; ++i) {
    const float* row = probabilities.data() + size_t(i) * classes;
    int cls = int(std::max_element(row, row + classes) - row);
    if (use_labels && label_values[i] >= 0) cls = int(label_values[i]);
    result[size_t(i) * classes + cls] = 1.0f;
  }
  upload(onehot, result);
}

}  // namespace drmm
