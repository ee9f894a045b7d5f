#include "core/backend/vulkan/vulkan_api.h"

#include <dlfcn.h>

#include <cstdlib>

#include "core/util/error.h"

namespace drmm::vk {

Api::~Api() {
  if (library_) dlclose(library_);
}

bool Api::open_loader(std::string* reason) {
  const char* override_path = std::getenv("DRMM_VULKAN_LOADER");
  const char* candidates[] = {override_path ? override_path : "libvulkan.so.1",
                              override_path ? nullptr : "libvulkan.so"};
  for (const char* path : candidates) {
    if (!path) continue;
    library_ = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library_) break;
  }
  if (!library_) {
    if (reason) *reason = "no Vulkan loader (libvulkan.so.1 not found)";
    return false;
  }
  vkGetInstanceProcAddr =
      reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(library_, "vkGetInstanceProcAddr"));
  if (!vkGetInstanceProcAddr) {
    if (reason) *reason = "the Vulkan loader has no vkGetInstanceProcAddr";
    return false;
  }
#define DRMM_VK_LOAD(name) name = reinterpret_cast<PFN_##name>(vkGetInstanceProcAddr(nullptr, #name));
  DRMM_VK_GLOBAL_FUNCTIONS(DRMM_VK_LOAD)
#undef DRMM_VK_LOAD
  if (!vkCreateInstance || !vkEnumerateInstanceVersion) {
    if (reason) *reason = "the Vulkan loader is older than Vulkan 1.1";
    return false;
  }
  return true;
}

void Api::load_instance(VkInstance instance) {
#define DRMM_VK_LOAD(name) name = reinterpret_cast<PFN_##name>(vkGetInstanceProcAddr(instance, #name));
  DRMM_VK_INSTANCE_FUNCTIONS(DRMM_VK_LOAD)
#undef DRMM_VK_LOAD
}

void Api::load_device(VkDevice device) {
#define DRMM_VK_LOAD(name) name = reinterpret_cast<PFN_##name>(vkGetDeviceProcAddr(device, #name));
  DRMM_VK_DEVICE_FUNCTIONS(DRMM_VK_LOAD)
#undef DRMM_VK_LOAD
}

const char* result_name(VkResult result) {
  switch (result) {
#define DRMM_VK_CASE(r) \
  case r: return #r;
    DRMM_VK_CASE(VK_SUCCESS)
    DRMM_VK_CASE(VK_NOT_READY)
    DRMM_VK_CASE(VK_TIMEOUT)
    DRMM_VK_CASE(VK_INCOMPLETE)
    DRMM_VK_CASE(VK_ERROR_OUT_OF_HOST_MEMORY)
    DRMM_VK_CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    DRMM_VK_CASE(VK_ERROR_INITIALIZATION_FAILED)
    DRMM_VK_CASE(VK_ERROR_DEVICE_LOST)
    DRMM_VK_CASE(VK_ERROR_MEMORY_MAP_FAILED)
    DRMM_VK_CASE(VK_ERROR_LAYER_NOT_PRESENT)
    DRMM_VK_CASE(VK_ERROR_EXTENSION_NOT_PRESENT)
    DRMM_VK_CASE(VK_ERROR_FEATURE_NOT_PRESENT)
    DRMM_VK_CASE(VK_ERROR_INCOMPATIBLE_DRIVER)
    DRMM_VK_CASE(VK_ERROR_TOO_MANY_OBJECTS)
    DRMM_VK_CASE(VK_ERROR_FORMAT_NOT_SUPPORTED)
    DRMM_VK_CASE(VK_ERROR_FRAGMENTED_POOL)
    DRMM_VK_CASE(VK_ERROR_OUT_OF_POOL_MEMORY)
#undef DRMM_VK_CASE
    default: return "VkResult error";
  }
}

void check(VkResult result, const char* what) {
  if (result != VK_SUCCESS) throw Error(std::string("vulkan: ") + what + ": " + result_name(result));
}

}  // namespace drmm::vk
