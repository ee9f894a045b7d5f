#include "core/backend/select/kernel_timing.h"

#include <chrono>
#include <functional>

#include "core/util/error.h"

namespace drmm {
namespace {

struct ConvLayer {
  const char* name;
  int cin, cout, size, k;
  ConvMode mode;
};

// ConvSmall (DESIGN.md §3.2); `size` is the input height = width of each conv.
constexpr ConvLayer kConvSmall[] = {
    {"conv1", 1, 32, 28, 5, ConvMode::Full},   {"conv2", 32, 64, 16, 3, ConvMode::Valid},
    {"conv3", 64, 64, 14, 3, ConvMode::Full},  {"conv4", 64, 128, 8, 3, ConvMode::Valid},
    {"conv5", 128, 10, 6, 1, ConvMode::Valid},
};

double seconds_per_call(Backend& backend, int repeats, const std::function<void()>& call) {
  call();  // warm-up: pipeline creation, first-touch of memory
  backend.finish();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) call();
  backend.finish();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / repeats;
}

std::string describe(const ConvLayer& l) {
  return std::string(l.name) + " " + std::to_string(l.cin) + "→" + std::to_string(l.cout) + " " +
         std::to_string(l.k) + "×" + std::to_string(l.k) + " " + conv_mode_name(l.mode) + " " +
         std::to_string(l.size) + "×" + std::to_string(l.size);
}

}  // namespace

std::vector<ConvKernelTiming> time_conv_kernels(Backend& backend, int batch, int repeats) {
  if (batch < 1 || repeats < 1) throw Error("time_conv_kernels: batch and repeats must be at least 1");
  std::vector<ConvKernelTiming> timings;
  for (const ConvLayer& l : kConvSmall) {
    const int pad = conv_padding(l.mode, l.k), out = conv_output_size(l.size, l.k, pad);
    Tensor x = backend.alloc({batch, l.cin, l.size, l.size});
    Tensor w = backend.alloc({l.cout, l.cin, l.k, l.k});
    Tensor y = backend.alloc({batch, l.cout, out, out});
    // Non-zero data: some devices run faster on zeros.
    backend.fill(x, 0.5f);
    backend.fill(w, 0.01f);
    backend.fill(y, 0.25f);
    const double flops = 2.0 * batch * l.cout * out * out * double(l.cin) * l.k * l.k;
    const std::pair<const char*, std::function<void()>> kernels[] = {
        {"conv2d", [&] { backend.conv2d(x, w, pad, y); }},
        {"backward_input", [&] { backend.conv2d_backward_input(y, w, pad, x, false); }},
        {"backward_weight", [&] { backend.conv2d_backward_weight(x, y, pad, w, false); }},
    };
    for (const auto& [kernel, call] : kernels) {
      const double s = seconds_per_call(backend, repeats, call);
      timings.push_back({describe(l), kernel, batch, flops, s, flops / s / 1e9});
    }
  }
  return timings;
}

double conv_images_per_second(const std::vector<ConvKernelTiming>& timings) {
  double seconds = 0;
  int batch = 0;
  for (const ConvKernelTiming& t : timings) seconds += t.seconds, batch = t.batch;
  return seconds > 0 ? batch / seconds : 0;
}

}  // namespace drmm
