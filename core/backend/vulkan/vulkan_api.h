#pragma once
// The Vulkan entry points this backend uses, loaded at run time from the loader library
// (libvulkan.so.1) instead of linked: a machine without a Vulkan loader must still run the
// cpu backend (issue 5: "no Vulkan loader or device: a one-line message and the cpu
// backend; never a crash"). Every Vulkan call in core/backend/vulkan goes through a
// VulkanApi table, like ncnn's simplevk and volk.
#ifndef VK_NO_PROTOTYPES
#define VK_NO_PROTOTYPES
#endif
#include <vulkan/vulkan.h>

#include <string>

namespace drmm::vk {

// Entry points resolved with vkGetInstanceProcAddr(nullptr, ...).
#define DRMM_VK_GLOBAL_FUNCTIONS(X)       \
  X(vkCreateInstance)                     \
  X(vkEnumerateInstanceVersion)           \
  X(vkEnumerateInstanceLayerProperties)   \
  X(vkEnumerateInstanceExtensionProperties)

// Entry points resolved with vkGetInstanceProcAddr(instance, ...).
#define DRMM_VK_INSTANCE_FUNCTIONS(X)         \
  X(vkDestroyInstance)                        \
  X(vkEnumeratePhysicalDevices)               \
  X(vkGetPhysicalDeviceProperties)            \
  X(vkGetPhysicalDeviceQueueFamilyProperties) \
  X(vkGetPhysicalDeviceMemoryProperties)      \
  X(vkCreateDevice)                           \
  X(vkGetDeviceProcAddr)                      \
  X(vkCreateDebugUtilsMessengerEXT)           \
  X(vkDestroyDebugUtilsMessengerEXT)

// Entry points resolved with vkGetDeviceProcAddr(device, ...): no loader trampoline.
#define DRMM_VK_DEVICE_FUNCTIONS(X) \
  X(vkDestroyDevice)                \
  X(vkGetDeviceQueue)               \
  X(vkDeviceWaitIdle)               \
  X(vkCreateBuffer)                 \
  X(vkDestroyBuffer)                \
  X(vkGetBufferMemoryRequirements)  \
  X(vkAllocateMemory)               \
  X(vkFreeMemory)                   \
  X(vkBindBufferMemory)             \
  X(vkMapMemory)                    \
  X(vkUnmapMemory)                  \
  X(vkCreateShaderModule)           \
  X(vkDestroyShaderModule)          \
  X(vkCreateDescriptorSetLayout)    \
  X(vkDestroyDescriptorSetLayout)   \
  X(vkCreatePipelineLayout)         \
  X(vkDestroyPipelineLayout)        \
  X(vkCreatePipelineCache)          \
  X(vkDestroyPipelineCache)         \
  X(vkCreateComputePipelines)       \
  X(vkDestroyPipeline)              \
  X(vkCreateDescriptorPool)         \
  X(vkDestroyDescriptorPool)        \
  X(vkResetDescriptorPool)          \
  X(vkAllocateDescriptorSets)       \
  X(vkUpdateDescriptorSets)         \
  X(vkCreateCommandPool)            \
  X(vkDestroyCommandPool)           \
  X(vkResetCommandPool)             \
  X(vkAllocateCommandBuffers)       \
  X(vkBeginCommandBuffer)           \
  X(vkEndCommandBuffer)             \
  X(vkCmdBindPipeline)              \
  X(vkCmdBindDescriptorSets)        \
  X(vkCmdPushConstants)             \
  X(vkCmdDispatch)                  \
  X(vkCmdPipelineBarrier)           \
  X(vkCmdCopyBuffer)                \
  X(vkCmdFillBuffer)                \
  X(vkCreateFence)                  \
  X(vkDestroyFence)                 \
  X(vkWaitForFences)                \
  X(vkResetFences)                  \
  X(vkQueueSubmit)

struct Api {
#define DRMM_VK_DECLARE(name) PFN_##name name = nullptr;
  PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
  DRMM_VK_GLOBAL_FUNCTIONS(DRMM_VK_DECLARE)
  DRMM_VK_INSTANCE_FUNCTIONS(DRMM_VK_DECLARE)
  DRMM_VK_DEVICE_FUNCTIONS(DRMM_VK_DECLARE)
#undef DRMM_VK_DECLARE

  Api() = default;
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;
  ~Api();  // closes the loader library

  // Opens the loader (the environment variable DRMM_VULKAN_LOADER overrides its path, which
  // the tests use to simulate a machine without one). False and a reason when it is missing.
  bool open_loader(std::string* reason);
  void load_instance(VkInstance instance);  // optional extension entries may stay null
  void load_device(VkDevice device);

 private:
  void* library_ = nullptr;
};

// A zero-initialised Vulkan struct with its sType set. (The usual `T x{sType}` idiom trips
// -Wmissing-field-initializers, which our warnings turn into errors.)
template <class T>
T make(VkStructureType type) {
  T value{};
  value.sType = type;
  return value;
}

// "VK_ERROR_OUT_OF_DEVICE_MEMORY" etc., for messages.
const char* result_name(VkResult result);
// Throws drmm::Error("vulkan: <what>: <result>") unless result is VK_SUCCESS.
void check(VkResult result, const char* what);

}  // namespace drmm::vk
