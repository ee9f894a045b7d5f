#pragma once
// Compute pipelines (Kompute's "Algorithm"): one per (shader, specialization constants),
// created on first use from the SPIR-V embedded at build time and cached for the life of
// the backend. Every kernel's descriptor set is N storage buffers at bindings 0…N−1 and
// its push-constant range is the same kPushConstantBytes, so Sequence can bind any kernel
// the same way.
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/backend/vulkan/vulkan_context.h"

namespace drmm::vk {

inline constexpr uint32_t kPushConstantBytes = 128;  // the minimum every device supports

struct Kernel {
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  VkPipeline pipeline = VK_NULL_HANDLE;
  uint32_t bindings = 0;
};

class KernelCache {
 public:
  explicit KernelCache(std::shared_ptr<Context> context) : context_(std::move(context)) {}
  ~KernelCache();
  KernelCache(const KernelCache&) = delete;
  KernelCache& operator=(const KernelCache&) = delete;

  // `shader` is the .comp file's base name; spec[i] is specialization constant id i
  // (32-bit ints: the shaders declare every constant as int).
  const Kernel& get(std::string_view shader, std::span<const int32_t> spec, uint32_t bindings);

 private:
  VkShaderModule module(std::string_view shader);

  std::shared_ptr<Context> context_;
  std::map<std::string, VkShaderModule, std::less<>> modules_;
  std::map<std::string, Kernel> kernels_;
};

}  // namespace drmm::vk
