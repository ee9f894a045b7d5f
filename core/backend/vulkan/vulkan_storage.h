#pragma once
// A Tensor's memory on the Vulkan backend (also used for staging buffers): owns one
// RawBuffer and hands it back to the Context when the last Tensor copy lets go. Sequence
// keeps a shared_ptr to every storage its recorded commands touch (shared_from_this), so
// a Tensor dropped while its work is still queued is only released after that work ran.
#include <memory>

#include "core/backend/tensor.h"
#include "core/backend/vulkan/vulkan_context.h"

namespace drmm::vk {

class VulkanStorage final : public Storage, public std::enable_shared_from_this<VulkanStorage> {
 public:
  VulkanStorage(std::shared_ptr<Context> context, RawBuffer buffer)
      : context_(std::move(context)), buffer_(buffer) {}
  ~VulkanStorage() override { context_->release(buffer_); }
  VulkanStorage(const VulkanStorage&) = delete;
  VulkanStorage& operator=(const VulkanStorage&) = delete;

  const RawBuffer& buffer() const { return buffer_; }
  VkBuffer handle() const { return buffer_.buffer; }
  const Context* context() const { return context_.get(); }

 private:
  std::shared_ptr<Context> context_;
  RawBuffer buffer_;
};

}  // namespace drmm::vk
