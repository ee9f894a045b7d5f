#include "core/backend/vulkan/vulkan_sequence.h"

#include <cstring>

#include "core/util/error.h"

namespace drmm::vk {
namespace {

constexpr uint32_t kSetsPerPool = 1024;
constexpr uint32_t kBuffersPerSet = 8;  // the most any kernel binds (batchnorm_backward)

}  // namespace

Sequence::Sequence(std::shared_ptr<Context> context) : context_(std::move(context)) {
  const Api& api = context_->api();
  auto pool_info = make<VkCommandPoolCreateInfo>(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
  pool_info.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT;
  pool_info.queueFamilyIndex = context_->queue_family();
  check(api.vkCreateCommandPool(context_->device(), &pool_info, nullptr, &command_pool_), "vkCreateCommandPool");
  auto alloc = make<VkCommandBufferAllocateInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
  alloc.commandPool = command_pool_;
  alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  alloc.commandBufferCount = 1;
  check(api.vkAllocateCommandBuffers(context_->device(), &alloc, &commands_buffer_), "vkAllocateCommandBuffers");
  auto fence_info = make<VkFenceCreateInfo>(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
  check(api.vkCreateFence(context_->device(), &fence_info, nullptr, &fence_), "vkCreateFence");
}

Sequence::~Sequence() {
  const Api& api = context_->api();
  VkDevice device = context_->device();
  api.vkDeviceWaitIdle(device);
  held_.clear();
  for (VkDescriptorPool pool : pools_) api.vkDestroyDescriptorPool(device, pool, nullptr);
  api.vkDestroyFence(device, fence_, nullptr);
  api.vkDestroyCommandPool(device, command_pool_, nullptr);  // frees the command buffer
}

VkCommandBuffer Sequence::begin() {
  if (!recording_) {
    auto info = make<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
    info.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    check(context_->api().vkBeginCommandBuffer(commands_buffer_, &info), "vkBeginCommandBuffer");
    recording_ = true;
  }
  return commands_buffer_;
}

void Sequence::barrier_after_command() {
  auto barrier = make<VkMemoryBarrier>(VK_STRUCTURE_TYPE_MEMORY_BARRIER);
  barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                          VK_ACCESS_TRANSFER_WRITE_BIT;
  const VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
  context_->api().vkCmdPipelineBarrier(commands_buffer_, stages, stages, 0, 1, &barrier, 0, nullptr, 0, nullptr);
  ++commands_;
}

VkDescriptorSet Sequence::allocate_set(VkDescriptorSetLayout layout) {
  const Api& api = context_->api();
  for (;; ++pool_in_use_) {
    if (pool_in_use_ == pools_.size()) {
      const VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kSetsPerPool * kBuffersPerSet};
      auto info = make<VkDescriptorPoolCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO);
      info.maxSets = kSetsPerPool;
      info.poolSizeCount = 1;
      info.pPoolSizes = &size;
      VkDescriptorPool pool = VK_NULL_HANDLE;
      check(api.vkCreateDescriptorPool(context_->device(), &info, nullptr, &pool), "vkCreateDescriptorPool");
      pools_.push_back(pool);
    }
    auto info = make<VkDescriptorSetAllocateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
    info.descriptorPool = pools_[pool_in_use_];
    info.descriptorSetCount = 1;
    info.pSetLayouts = &layout;
    VkDescriptorSet set = VK_NULL_HANDLE;
    const VkResult r = api.vkAllocateDescriptorSets(context_->device(), &info, &set);
    if (r == VK_SUCCESS) return set;
    if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL) check(r, "vkAllocateDescriptorSets");
  }
}

void Sequence::dispatch(const Kernel& kernel, std::span<const VkBuffer> buffers, std::span<const uint32_t> push,
                        std::array<uint32_t, 3> groups) {
  if (buffers.size() != kernel.bindings) throw Error("vulkan: kernel bound with the wrong number of buffers");
  if (push.size_bytes() > kPushConstantBytes) throw Error("vulkan: push constants too large");
  const Api& api = context_->api();
  VkCommandBuffer cmd = begin();
  VkDescriptorSet set = allocate_set(kernel.set_layout);
  VkDescriptorBufferInfo infos[kBuffersPerSet];
  VkWriteDescriptorSet writes[kBuffersPerSet];
  for (uint32_t i = 0; i < kernel.bindings; ++i) {
    infos[i] = {buffers[i], 0, VK_WHOLE_SIZE};
    writes[i] = make<VkWriteDescriptorSet>(VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
    writes[i].dstSet = set;
    writes[i].dstBinding = i;
    writes[i].descriptorCount = 1;
    writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[i].pBufferInfo = &infos[i];
  }
  api.vkUpdateDescriptorSets(context_->device(), kernel.bindings, writes, 0, nullptr);
  // The whole range is always pushed so that no byte a shader reads is left undefined.
  uint32_t words[kPushConstantBytes / 4] = {};
  std::memcpy(words, push.data(), push.size_bytes());
  api.vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, kernel.pipeline);
  api.vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, kernel.layout, 0, 1, &set, 0, nullptr);
  api.vkCmdPushConstants(cmd, kernel.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushConstantBytes, words);
  api.vkCmdDispatch(cmd, groups[0], groups[1], groups[2]);
  barrier_after_command();
}

void Sequence::fill(VkBuffer buffer, VkDeviceSize bytes, uint32_t pattern) {
  context_->api().vkCmdFillBuffer(begin(), buffer, 0, bytes, pattern);
  barrier_after_command();
}

void Sequence::copy(VkBuffer src, VkBuffer dst, VkDeviceSize bytes) {
  const VkBufferCopy region{0, 0, bytes};
  context_->api().vkCmdCopyBuffer(begin(), src, dst, 1, &region);
  barrier_after_command();
}

void Sequence::submit_and_wait() {
  if (!recording_) return;
  const Api& api = context_->api();
  VkDevice device = context_->device();
  // Make every write of the step visible to the host that maps the buffers after the wait.
  auto to_host = make<VkMemoryBarrier>(VK_STRUCTURE_TYPE_MEMORY_BARRIER);
  to_host.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  to_host.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  api.vkCmdPipelineBarrier(commands_buffer_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                           VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &to_host, 0, nullptr, 0, nullptr);
  recording_ = false;
  check(api.vkEndCommandBuffer(commands_buffer_), "vkEndCommandBuffer");
  auto submit = make<VkSubmitInfo>(VK_STRUCTURE_TYPE_SUBMIT_INFO);
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &commands_buffer_;
  check(api.vkQueueSubmit(context_->queue(), 1, &submit, fence_), "vkQueueSubmit");
  ++submits_;
  const VkResult waited = api.vkWaitForFences(device, 1, &fence_, VK_TRUE, UINT64_MAX);
  check(api.vkResetFences(device, 1, &fence_), "vkResetFences");
  check(api.vkResetCommandPool(device, command_pool_, 0), "vkResetCommandPool");
  for (VkDescriptorPool pool : pools_) api.vkResetDescriptorPool(device, pool, 0);
  pool_in_use_ = 0;
  held_.clear();
  check(waited, "vkWaitForFences");
}

}  // namespace drmm::vk
