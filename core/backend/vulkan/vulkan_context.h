#pragma once
// The Vulkan "manager" (Kompute's split: Context ≈ Manager, Sequence, KernelCache ≈
// Algorithm, VulkanStorage ≈ Tensor): instance, the chosen physical device, one compute
// queue, the pipeline cache, memory-type choice and a recycling allocator of buffers.
// Shared (shared_ptr) by the backend and by every buffer it handed out, so a Tensor that
// outlives its backend still frees its memory on a live device; the device is destroyed
// with the last of them.
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/backend/vulkan/vulkan_api.h"

namespace drmm::vk {

struct DeviceInfo {
  std::string name;
  VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
  bool has_compute_queue = false;
};
const char* device_type_name(VkPhysicalDeviceType type);  // "discrete GPU", "CPU", ...
bool is_gpu(VkPhysicalDeviceType type);                    // discrete or integrated

// What a machine offers, without creating a device (for `--backend auto`). `reason` says
// why `devices` is empty when it is.
struct Probe {
  std::vector<DeviceInfo> devices;
  std::string reason;
};
Probe probe_devices();

struct ContextOptions {
  bool validation = false;  // VK_LAYER_KHRONOS_validation + synchronization validation
  int device_index = -1;    // −1: the best device (discrete > integrated > virtual > CPU);
                            // the environment variable DRMM_VULKAN_DEVICE overrides it
  bool map_device_memory = true;  // false: never map device buffers, even when the host
                                  // could (see VulkanBackend::Options)
};

// One VkBuffer with its own memory; `mapped` is non-null when that memory is host visible
// and coherent (staging buffers always; device buffers on UMA/CPU devices such as lavapipe).
struct RawBuffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkDeviceSize size = 0;
  void* mapped = nullptr;
  bool staging = false;
};

class Context {
 public:
  static std::shared_ptr<Context> create(const ContextOptions& options);  // throws Error
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const Api& api() const { return api_; }
  VkDevice device() const { return device_; }
  VkQueue queue() const { return queue_; }
  uint32_t queue_family() const { return queue_family_; }
  VkPipelineCache pipeline_cache() const { return pipeline_cache_; }
  const VkPhysicalDeviceProperties& properties() const { return properties_; }
  std::string device_name() const { return properties_.deviceName; }

  // A buffer of at least `bytes` (recycled when one of that size was released). Device
  // buffers are storage + transfer src/dst; staging buffers are host visible.
  RawBuffer acquire(VkDeviceSize bytes, bool staging);
  void release(RawBuffer buffer);  // back to the free list (bounded), or destroyed

  // Messages of severity warning or error from the validation layer (empty unless
  // ContextOptions::validation). Tests assert there are none.
  std::vector<std::string> validation_messages() const;

 private:
  Context() = default;
  void create_instance(const ContextOptions& options);
  void choose_device(const ContextOptions& options);
  void create_device();
  RawBuffer create_buffer(VkDeviceSize bytes, bool staging);
  void destroy_buffer(RawBuffer& buffer);
  uint32_t memory_type(uint32_t allowed, VkMemoryPropertyFlags required,
                       VkMemoryPropertyFlags preferred) const;
  static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                   VkDebugUtilsMessageTypeFlagsEXT types,
                                                   const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                   void* self);

  Api api_;
  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties properties_{};
  VkPhysicalDeviceMemoryProperties memory_{};
  uint32_t queue_family_ = 0;
  bool map_device_memory_ = true;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  VkPipelineCache pipeline_cache_ = VK_NULL_HANDLE;

  mutable std::mutex mutex_;  // buffers may be released from any thread
  std::multimap<std::pair<bool, VkDeviceSize>, RawBuffer> free_;
  VkDeviceSize free_bytes_ = 0;
  std::vector<std::string> messages_;
};

}  // namespace drmm::vk
