#pragma once
// Times the convolution kernels of ConvSmall on any Backend, for `drmm bench` to print the
// vulkan and cpu numbers side by side (issue 5, item 5).
#include <string>
#include <vector>

#include "core/backend/backend.h"

namespace drmm {

struct ConvKernelTiming {
  std::string layer;   // e.g. "conv2 32→64 3×3 valid 16×16"
  std::string kernel;  // "conv2d", "backward_input" or "backward_weight"
  int batch = 0;
  double flops = 0;    // per call: 2·batch·Cout·Ho·Wo·Cin·k² (the same for all three kernels)
  double seconds = 0;  // mean wall time per call, queued work included
  double gflops = 0;   // flops / seconds / 1e9
};

// ConvSmall's five convolutions (28×28×1: conv32 5×5 full → pool2 → conv64 3×3 valid →
// conv64 3×3 full → pool2 → conv128 3×3 valid → conv10 1×1), each kernel run once to warm
// up (pipeline compilation, buffers) and then `repeats` times between two finish() calls,
// so a queued backend is timed the way a training step uses it: many dispatches, one submit.
std::vector<ConvKernelTiming> time_conv_kernels(Backend& backend, int batch, int repeats);

// batch / Σ seconds over the timings of one batch size: how many images per second the
// convolutions alone (forward and both gradients) allow — an upper bound on training speed.
double conv_images_per_second(const std::vector<ConvKernelTiming>& timings);

}  // namespace drmm
