#include "core/backend/select/backend_factory.h"

#include "core/backend/cpu/cpu_backend.h"
#include "core/backend/vulkan/vulkan_backend.h"
#include "core/util/error.h"

namespace drmm {
namespace {

// drmm::Error messages from the vulkan backend may start with "vulkan: "; the notice
// adds its own prefix.
std::string reason_of(const Error& e) {
  std::string what = e.what();
  const std::string prefix = "vulkan: ";
  return what.rfind(prefix, 0) == 0 ? what.substr(prefix.size()) : what;
}

void say(std::string* notice, const std::string& text) {
  if (notice) *notice = text;
}

std::unique_ptr<Backend> vulkan_or_cpu(int threads, std::string* notice) {
  try {
    return std::make_unique<VulkanBackend>();
  } catch (const Error& e) {
    say(notice, "vulkan: " + reason_of(e) + "; using cpu");
  } catch (const std::exception& e) {  // e.g. std::bad_alloc from a broken driver
    say(notice, std::string("vulkan: ") + e.what() + "; using cpu");
  }
  return std::make_unique<CpuBackend>(threads);
}

}  // namespace

std::unique_ptr<Backend> make_backend(const std::string& name, int threads, std::string* notice) {
  say(notice, "");
  if (name == "cpu") return std::make_unique<CpuBackend>(threads);
  // Asked for by name, vulkan is what the user wants measured or used: no silent fallback.
  if (name == "vulkan") {
    try {
      return std::make_unique<VulkanBackend>();
    } catch (const Error& e) {
      throw Error("--backend vulkan: " + reason_of(e) + " (use --backend cpu, or auto to fall back)");
    }
  }
  if (name != "auto") throw Error("unknown backend '" + name + "' (expected auto, vulkan or cpu)");

  // Measured with time_conv_kernels (kernel_timing.h, batch 16) on a 2-core x86-64 (AVX2)
  // machine: cpu 6–46 GFLOP/s per ConvSmall conv kernel, the same kernels on lavapipe
  // (Mesa 22.3, LLVM 15) 0.04–0.4 GFLOP/s — about 400 vs 2 images/s through the convs.
  // A CPU-type Vulkan device never wins against cpu on its own cores.
  std::string reason;
  const auto devices = VulkanBackend::list_devices(&reason);
  for (const VulkanDeviceSummary& d : devices)
    if (d.gpu) {
      auto backend = vulkan_or_cpu(threads, notice);
      if (notice && notice->empty()) say(notice, "auto: " + backend->name() + " (" + d.type + ")");
      return backend;
    }
  if (devices.empty())
    say(notice, "auto: cpu (vulkan: " + reason + ")");
  else
    say(notice, "auto: cpu (no GPU; " + devices.front().name + " is a " + devices.front().type +
                    " Vulkan device, slower than the cpu backend here)");
  return std::make_unique<CpuBackend>(threads);
}

}  // namespace drmm
