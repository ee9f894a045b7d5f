#include "core/backend/vulkan/vulkan_context.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "core/util/error.h"

namespace drmm::vk {
namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";
// Released buffers kept for reuse: a training step frees and re-allocates the same
// temporaries every batch, and vkAllocateMemory is slow on real drivers.
constexpr VkDeviceSize kFreeListBytes = VkDeviceSize(256) << 20;
constexpr size_t kMaxKeptMessages = 64;

int preference(VkPhysicalDeviceType type) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    default: return 0;
  }
}

bool has_layer(const Api& api, const char* name) {
  uint32_t count = 0;
  api.vkEnumerateInstanceLayerProperties(&count, nullptr);
  std::vector<VkLayerProperties> layers(count);
  api.vkEnumerateInstanceLayerProperties(&count, layers.data());
  return std::any_of(layers.begin(), layers.end(),
                     [&](const VkLayerProperties& l) { return std::strcmp(l.layerName, name) == 0; });
}

bool has_extension(const Api& api, const char* layer, const char* name) {
  uint32_t count = 0;
  api.vkEnumerateInstanceExtensionProperties(layer, &count, nullptr);
  std::vector<VkExtensionProperties> extensions(count);
  api.vkEnumerateInstanceExtensionProperties(layer, &count, extensions.data());
  return std::any_of(extensions.begin(), extensions.end(), [&](const VkExtensionProperties& e) {
    return std::strcmp(e.extensionName, name) == 0;
  });
}

VkApplicationInfo application_info() {
  auto app = make<VkApplicationInfo>(VK_STRUCTURE_TYPE_APPLICATION_INFO);
  app.pApplicationName = "DRMM Studio";
  app.pEngineName = "drmm";
  app.apiVersion = VK_API_VERSION_1_1;  // the shaders target vulkan1.1
  return app;
}

// The loader answers VK_ERROR_INCOMPATIBLE_DRIVER when it found no driver (ICD) at all.
std::string instance_failure(VkResult r) {
  if (r == VK_ERROR_INCOMPATIBLE_DRIVER) return "no Vulkan driver installed (VK_ERROR_INCOMPATIBLE_DRIVER)";
  return std::string("cannot create a Vulkan instance (") + result_name(r) + ")";
}

// The first queue family that can run compute work, or −1.
int compute_family(const Api& api, VkPhysicalDevice device) {
  uint32_t count = 0;
  api.vkGetPhysicalDeviceQueueFamilyProperties(device, &count, nullptr);
  std::vector<VkQueueFamilyProperties> families(count);
  api.vkGetPhysicalDeviceQueueFamilyProperties(device, &count, families.data());
  for (uint32_t i = 0; i < count; ++i)
    if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) return int(i);
  return -1;
}

std::vector<std::pair<VkPhysicalDevice, DeviceInfo>> list_devices(const Api& api, VkInstance instance) {
  uint32_t count = 0;
  api.vkEnumeratePhysicalDevices(instance, &count, nullptr);
  std::vector<VkPhysicalDevice> handles(count);
  api.vkEnumeratePhysicalDevices(instance, &count, handles.data());
  std::vector<std::pair<VkPhysicalDevice, DeviceInfo>> devices;
  for (VkPhysicalDevice handle : handles) {
    VkPhysicalDeviceProperties props{};
    api.vkGetPhysicalDeviceProperties(handle, &props);
    // Vulkan 1.1 is what the shaders need; older drivers are listed as unusable.
    const bool usable = props.apiVersion >= VK_API_VERSION_1_1 && compute_family(api, handle) >= 0;
    devices.push_back({handle, DeviceInfo{props.deviceName, props.deviceType, usable}});
  }
  return devices;
}

}  // namespace

const char* device_type_name(VkPhysicalDeviceType type) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
    default: return "other";
  }
}

bool is_gpu(VkPhysicalDeviceType type) {
  return type == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU || type == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU;
}

Probe probe_devices() {
  Probe probe;
  Api api;
  if (!api.open_loader(&probe.reason)) return probe;
  const VkApplicationInfo app = application_info();
  auto info = make<VkInstanceCreateInfo>(VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
  info.pApplicationInfo = &app;
  VkInstance instance = VK_NULL_HANDLE;
  if (VkResult r = api.vkCreateInstance(&info, nullptr, &instance); r != VK_SUCCESS) {
    probe.reason = instance_failure(r);
    return probe;
  }
  api.load_instance(instance);
  for (auto& [handle, device] : list_devices(api, instance))
    if (device.has_compute_queue) probe.devices.push_back(device);
  api.vkDestroyInstance(instance, nullptr);
  if (probe.devices.empty()) probe.reason = "no Vulkan 1.1 device with a compute queue";
  return probe;
}

std::shared_ptr<Context> Context::create(const ContextOptions& options) {
  std::shared_ptr<Context> context(new Context());
  context->map_device_memory_ = options.map_device_memory;
  context->create_instance(options);
  context->choose_device(options);
  context->create_device();
  return context;
}

void Context::create_instance(const ContextOptions& options) {
  std::string reason;
  if (!api_.open_loader(&reason)) throw Error(reason);
  std::vector<const char*> layers, extensions;
  auto messenger_info = make<VkDebugUtilsMessengerCreateInfoEXT>(VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT);
  messenger_info.messageSeverity =
      VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  messenger_info.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                               VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                               VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  messenger_info.pfnUserCallback = &Context::on_message;
  messenger_info.pUserData = this;
  // Synchronization validation checks the barriers between dispatches, the part of this
  // backend that is easiest to get wrong and that lavapipe would forgive.
  const VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
  auto features = make<VkValidationFeaturesEXT>(VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT);
  features.enabledValidationFeatureCount = 1;
  features.pEnabledValidationFeatures = enables;
  features.pNext = &messenger_info;
  const void* next = nullptr;
  if (options.validation) {
    if (!has_layer(api_, kValidationLayer))
      throw Error("validation requested but VK_LAYER_KHRONOS_validation is not installed");
    if (!has_extension(api_, nullptr, VK_EXT_DEBUG_UTILS_EXTENSION_NAME))
      throw Error("validation requested but VK_EXT_debug_utils is missing");
    layers.push_back(kValidationLayer);
    extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    next = &messenger_info;  // also reports problems of vkCreateInstance itself
    if (has_extension(api_, kValidationLayer, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME)) {
      extensions.push_back(VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
      next = &features;
    }
  }
  const VkApplicationInfo app = application_info();
  auto info = make<VkInstanceCreateInfo>(VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
  info.pNext = next;
  info.pApplicationInfo = &app;
  info.enabledLayerCount = uint32_t(layers.size());
  info.ppEnabledLayerNames = layers.data();
  info.enabledExtensionCount = uint32_t(extensions.size());
  info.ppEnabledExtensionNames = extensions.data();
  if (VkResult r = api_.vkCreateInstance(&info, nullptr, &instance_); r != VK_SUCCESS) throw Error(instance_failure(r));
  api_.load_instance(instance_);
  if (options.validation)
    check(api_.vkCreateDebugUtilsMessengerEXT(instance_, &messenger_info, nullptr, &messenger_),
          "vkCreateDebugUtilsMessengerEXT");
}

void Context::choose_device(const ContextOptions& options) {
  const auto devices = list_devices(api_, instance_);
  int index = options.device_index;
  if (const char* env = std::getenv("DRMM_VULKAN_DEVICE"); env && *env) index = std::atoi(env);
  if (index >= int(devices.size())) throw Error("no Vulkan device number " + std::to_string(index));
  if (index < 0) {
    for (int i = 0; i < int(devices.size()); ++i) {
      if (!devices[i].second.has_compute_queue) continue;
      if (index < 0 || preference(devices[i].second.type) > preference(devices[index].second.type)) index = i;
    }
    if (index < 0) throw Error("no Vulkan 1.1 device with a compute queue");
  } else if (!devices[index].second.has_compute_queue) {
    throw Error("Vulkan device " + std::to_string(index) + " (" + devices[index].second.name +
                ") has no Vulkan 1.1 compute queue");
  }
  physical_ = devices[index].first;
  api_.vkGetPhysicalDeviceProperties(physical_, &properties_);
  api_.vkGetPhysicalDeviceMemoryProperties(physical_, &memory_);
  queue_family_ = uint32_t(compute_family(api_, physical_));
}

void Context::create_device() {
  const float priority = 1.0f;
  auto queue_info = make<VkDeviceQueueCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
  queue_info.queueFamilyIndex = queue_family_;
  queue_info.queueCount = 1;
  queue_info.pQueuePriorities = &priority;
  auto info = make<VkDeviceCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO);
  info.queueCreateInfoCount = 1;
  info.pQueueCreateInfos = &queue_info;
  check(api_.vkCreateDevice(physical_, &info, nullptr, &device_), "vkCreateDevice");
  api_.load_device(device_);
  api_.vkGetDeviceQueue(device_, queue_family_, 0, &queue_);
  auto cache_info = make<VkPipelineCacheCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO);
  check(api_.vkCreatePipelineCache(device_, &cache_info, nullptr, &pipeline_cache_), "vkCreatePipelineCache");
}

Context::~Context() {
  if (device_) {
    api_.vkDeviceWaitIdle(device_);
    for (auto& [key, buffer] : free_) destroy_buffer(buffer);
    if (pipeline_cache_) api_.vkDestroyPipelineCache(device_, pipeline_cache_, nullptr);
    api_.vkDestroyDevice(device_, nullptr);
  }
  if (messenger_) api_.vkDestroyDebugUtilsMessengerEXT(instance_, messenger_, nullptr);
  if (instance_) api_.vkDestroyInstance(instance_, nullptr);
}

uint32_t Context::memory_type(uint32_t allowed, VkMemoryPropertyFlags required,
                              VkMemoryPropertyFlags preferred) const {
  int best = -1;
  for (uint32_t i = 0; i < memory_.memoryTypeCount; ++i) {
    const VkMemoryPropertyFlags flags = memory_.memoryTypes[i].propertyFlags;
    if (!(allowed & (1u << i)) || (flags & required) != required) continue;
    if (best < 0 || ((flags & preferred) == preferred &&
                     (memory_.memoryTypes[best].propertyFlags & preferred) != preferred))
      best = int(i);
  }
  return best < 0 ? UINT32_MAX : uint32_t(best);
}

RawBuffer Context::create_buffer(VkDeviceSize bytes, bool staging) {
  RawBuffer b;
  b.size = bytes;
  b.staging = staging;
  auto info = make<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
  info.size = bytes;
  info.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT |
               (staging ? 0 : VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  check(api_.vkCreateBuffer(device_, &info, nullptr, &b.buffer), "vkCreateBuffer");
  VkMemoryRequirements req{};
  api_.vkGetBufferMemoryRequirements(device_, b.buffer, &req);
  const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  uint32_t type = staging ? memory_type(req.memoryTypeBits, host, VK_MEMORY_PROPERTY_HOST_CACHED_BIT)
                          : memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
  if (type == UINT32_MAX && !staging) type = memory_type(req.memoryTypeBits, 0, 0);
  if (type == UINT32_MAX) {
    api_.vkDestroyBuffer(device_, b.buffer, nullptr);
    throw Error("vulkan: no memory type for a " + std::string(staging ? "staging" : "device") + " buffer");
  }
  auto alloc = make<VkMemoryAllocateInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
  alloc.allocationSize = req.size;
  alloc.memoryTypeIndex = type;
  if (VkResult r = api_.vkAllocateMemory(device_, &alloc, nullptr, &b.memory); r != VK_SUCCESS) {
    api_.vkDestroyBuffer(device_, b.buffer, nullptr);
    throw Error("vulkan: cannot allocate " + std::to_string(bytes) + " bytes (" + result_name(r) + ")");
  }
  check(api_.vkBindBufferMemory(device_, b.buffer, b.memory, 0), "vkBindBufferMemory");
  if ((memory_.memoryTypes[type].propertyFlags & host) == host && (staging || map_device_memory_))
    check(api_.vkMapMemory(device_, b.memory, 0, VK_WHOLE_SIZE, 0, &b.mapped), "vkMapMemory");
  return b;
}

void Context::destroy_buffer(RawBuffer& b) {
  if (b.mapped) api_.vkUnmapMemory(device_, b.memory);
  api_.vkDestroyBuffer(device_, b.buffer, nullptr);
  api_.vkFreeMemory(device_, b.memory, nullptr);
  b = RawBuffer{};
}

RawBuffer Context::acquire(VkDeviceSize bytes, bool staging) {
  bytes = std::max<VkDeviceSize>(256, (bytes + 255) / 256 * 256);  // sizes that recur match
  {
    std::lock_guard lock(mutex_);
    if (auto it = free_.find({staging, bytes}); it != free_.end()) {
      RawBuffer b = it->second;
      free_.erase(it);
      free_bytes_ -= b.size;
      return b;
    }
  }
  return create_buffer(bytes, staging);
}

void Context::release(RawBuffer buffer) {
  if (!buffer.buffer) return;
  {
    std::lock_guard lock(mutex_);
    if (free_bytes_ + buffer.size <= kFreeListBytes) {
      free_bytes_ += buffer.size;
      free_.emplace(std::make_pair(buffer.staging, buffer.size), buffer);
      return;
    }
  }
  destroy_buffer(buffer);
}

std::vector<std::string> Context::validation_messages() const {
  std::lock_guard lock(mutex_);
  return messages_;
}

VKAPI_ATTR VkBool32 VKAPI_CALL Context::on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                   VkDebugUtilsMessageTypeFlagsEXT,
                                                   const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                   void* self) {
  auto* context = static_cast<Context*>(self);
  std::lock_guard lock(context->mutex_);
  if (context->messages_.size() < kMaxKeptMessages)
    context->messages_.push_back(
        std::string(severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error: " : "warning: ") +
        (data && data->pMessage ? data->pMessage : "(no message)"));
  return VK_FALSE;  // never abort the call that triggered it
}

}  // namespace drmm::vk
