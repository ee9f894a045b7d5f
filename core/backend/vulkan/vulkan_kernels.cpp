#include "core/backend/vulkan/vulkan_kernels.h"

#include <vector>

#include "core/util/error.h"
#include "drmm_shaders_spirv.h"

namespace drmm::vk {

KernelCache::~KernelCache() {
  const Api& api = context_->api();
  VkDevice device = context_->device();
  for (auto& [key, k] : kernels_) {
    api.vkDestroyPipeline(device, k.pipeline, nullptr);
    api.vkDestroyPipelineLayout(device, k.layout, nullptr);
    api.vkDestroyDescriptorSetLayout(device, k.set_layout, nullptr);
  }
  for (auto& [name, m] : modules_) api.vkDestroyShaderModule(device, m, nullptr);
}

VkShaderModule KernelCache::module(std::string_view shader) {
  if (auto it = modules_.find(shader); it != modules_.end()) return it->second;
  for (const shaders::SpirvBlob* blob = shaders::kAll; !blob->name.empty(); ++blob) {
    if (blob->name != shader) continue;
    auto info = make<VkShaderModuleCreateInfo>(VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
    info.codeSize = blob->words.size_bytes();
    info.pCode = blob->words.data();
    VkShaderModule m = VK_NULL_HANDLE;
    check(context_->api().vkCreateShaderModule(context_->device(), &info, nullptr, &m), "vkCreateShaderModule");
    modules_.emplace(std::string(shader), m);
    return m;
  }
  throw Error("vulkan: no embedded shader named '" + std::string(shader) + "'");
}

const Kernel& KernelCache::get(std::string_view shader, std::span<const int32_t> spec, uint32_t bindings) {
  std::string key(shader);  // appended piecewise: GCC 12 misreports `a + b` here (-Wrestrict)
  key += '/';
  key += std::to_string(bindings);
  for (int32_t v : spec) {
    key += ',';
    key += std::to_string(v);
  }
  if (auto it = kernels_.find(key); it != kernels_.end()) return it->second;

  const Api& api = context_->api();
  VkDevice device = context_->device();
  Kernel k;
  k.bindings = bindings;
  std::vector<VkDescriptorSetLayoutBinding> slots(bindings);
  for (uint32_t i = 0; i < bindings; ++i)
    slots[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
  auto set_info = make<VkDescriptorSetLayoutCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
  set_info.bindingCount = bindings;
  set_info.pBindings = slots.data();
  check(api.vkCreateDescriptorSetLayout(device, &set_info, nullptr, &k.set_layout), "vkCreateDescriptorSetLayout");

  const VkPushConstantRange push{VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushConstantBytes};
  auto layout_info = make<VkPipelineLayoutCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO);
  layout_info.setLayoutCount = 1;
  layout_info.pSetLayouts = &k.set_layout;
  layout_info.pushConstantRangeCount = 1;
  layout_info.pPushConstantRanges = &push;
  check(api.vkCreatePipelineLayout(device, &layout_info, nullptr, &k.layout), "vkCreatePipelineLayout");

  std::vector<VkSpecializationMapEntry> entries(spec.size());
  for (uint32_t i = 0; i < spec.size(); ++i) entries[i] = {i, uint32_t(i * sizeof(int32_t)), sizeof(int32_t)};
  VkSpecializationInfo spec_info{uint32_t(entries.size()), entries.data(), spec.size_bytes(), spec.data()};
  auto info = make<VkComputePipelineCreateInfo>(VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO);
  info.stage = make<VkPipelineShaderStageCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO);
  info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  info.stage.module = module(shader);
  info.stage.pName = "main";
  info.stage.pSpecializationInfo = spec.empty() ? nullptr : &spec_info;
  info.layout = k.layout;
  check(api.vkCreateComputePipelines(device, context_->pipeline_cache(), 1, &info, nullptr, &k.pipeline),
        "vkCreateComputePipelines");
  return kernels_.emplace(std::move(key), k).first->second;
}

}  // namespace drmm::vk
