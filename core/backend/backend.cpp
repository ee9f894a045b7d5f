#include "core/backend/backend.h"

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

}  // namespace drmm
