#pragma once
// Shared by the drmm_vulkan_tests files: one VulkanBackend for the whole run, created with
// the Khronos validation layer (and synchronization validation), and a fixture that fails
// any test during which the layer reported a warning or an error.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/backend/vulkan/vulkan_backend.h"
#include "core/util/error.h"

namespace drmm::test {

// The backend is created on first use and destroyed by a gtest Environment before static
// destructors run (the loader and the layer have their own static state).
inline std::unique_ptr<VulkanBackend>& shared_vulkan_slot() {
  static std::unique_ptr<VulkanBackend> backend;
  return backend;
}

inline std::string& vulkan_unavailable_reason() {
  static std::string reason;
  return reason;
}

inline VulkanBackend* shared_vulkan() {
  auto& slot = shared_vulkan_slot();
  if (!slot && vulkan_unavailable_reason().empty()) {
    try {
      slot = std::make_unique<VulkanBackend>(VulkanBackend::Options{.validation = true});
    } catch (const Error& e) {
      vulkan_unavailable_reason() = e.what();
    }
  }
  return slot.get();
}

class VulkanEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { shared_vulkan_slot().reset(); }
};
inline const auto* const kVulkanEnvironment = ::testing::AddGlobalTestEnvironment(new VulkanEnvironment);

// Any validation message that appears while a test runs fails that test.
class VulkanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vk_ = shared_vulkan();
    if (!vk_) GTEST_SKIP() << "no Vulkan device: " << vulkan_unavailable_reason();
    messages_before_ = vk_->validation_messages().size();
  }
  void TearDown() override {
    if (!vk_) return;
    vk_->finish();
    const auto messages = vk_->validation_messages();
    for (size_t i = messages_before_; i < messages.size(); ++i) ADD_FAILURE() << "validation: " << messages[i];
  }

  VulkanBackend& vk() { return *vk_; }

  Tensor upload(Backend& backend, Shape shape, const std::vector<float>& values) {
    Tensor t = backend.alloc(shape);
    backend.upload(t, values);
    return t;
  }

  // Uniform random values in [lo, hi); a fixed seed per call site keeps failures reproducible.
  static std::vector<float> random_values(size_t count, unsigned seed, float lo = -1.0f, float hi = 1.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(count);
    for (float& x : v) x = dist(rng);
    return v;
  }

 private:
  VulkanBackend* vk_ = nullptr;
  size_t messages_before_ = 0;
};

}  // namespace drmm::test
