#pragma once
// The recording model (Kompute's "Sequence"): every op appends to ONE command buffer;
// nothing reaches the device until submit_and_wait() — called by Backend::finish() and
// Backend::download() — so a whole training step is one vkQueueSubmit with no host round
// trip per op. A global compute/transfer memory barrier follows every command: ops in a
// step nearly always depend on the one before, and one barrier kind keeps the recording
// simple and obviously correct (synchronization validation checks it in the tests).
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/backend/vulkan/vulkan_context.h"
#include "core/backend/vulkan/vulkan_kernels.h"

namespace drmm::vk {

class Sequence {
 public:
  explicit Sequence(std::shared_ptr<Context> context);
  ~Sequence();  // waits for the device, then frees the pools
  Sequence(const Sequence&) = delete;
  Sequence& operator=(const Sequence&) = delete;

  // Binds `buffers` to bindings 0…N−1 of a fresh descriptor set, pushes `push` (at most
  // kPushConstantBytes; zero-padded) and dispatches groups[0]×groups[1]×groups[2].
  void dispatch(const Kernel& kernel, std::span<const VkBuffer> buffers, std::span<const uint32_t> push,
                std::array<uint32_t, 3> groups);
  void fill(VkBuffer buffer, VkDeviceSize bytes, uint32_t pattern);  // bytes: multiple of 4
  void copy(VkBuffer src, VkBuffer dst, VkDeviceSize bytes);
  // Keeps `resource` alive until the recorded work has run (buffers, scratch, staging).
  void hold(std::shared_ptr<const void> resource) { held_.push_back(std::move(resource)); }

  bool empty() const { return !recording_; }
  void submit_and_wait();  // no-op when nothing is recorded
  uint64_t submits() const { return submits_; }
  uint64_t commands_recorded() const { return commands_; }

 private:
  VkCommandBuffer begin();
  void barrier_after_command();
  VkDescriptorSet allocate_set(VkDescriptorSetLayout layout);

  std::shared_ptr<Context> context_;
  VkCommandPool command_pool_ = VK_NULL_HANDLE;
  VkCommandBuffer commands_buffer_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  // Descriptor sets are allocated per dispatch and freed all at once after the submit
  // (vkResetDescriptorPool); a step with more dispatches than one pool holds opens another.
  std::vector<VkDescriptorPool> pools_;
  size_t pool_in_use_ = 0;
  std::vector<std::shared_ptr<const void>> held_;
  bool recording_ = false;
  uint64_t submits_ = 0;
  uint64_t commands_ = 0;
};

}  // namespace drmm::vk
