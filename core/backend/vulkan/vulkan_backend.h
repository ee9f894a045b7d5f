#pragma once
// The Vulkan compute backend (DESIGN.md §3.1, issue 5): every Backend op is one or two
// compute dispatches recorded into the current command buffer (see vulkan_sequence.h);
// buffers stay on the device; staging is used only for upload/download. Ops are checked
// against the cpu reference in tests/vulkan. Not thread-safe: one thread drives a backend
// (the trainer's worker), like every Backend.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/backend/backend.h"

namespace drmm {

namespace vk {
class Context;
}

// One Vulkan device as the loader reports it (for `--backend auto` and `drmm bench`).
struct VulkanDeviceSummary {
  std::string name;
  std::string type;  // "discrete GPU", "integrated GPU", "virtual GPU", "CPU", "other"
  bool gpu = false;  // discrete or integrated
};

class VulkanBackend final : public Backend {
 public:
  // The usable devices (Vulkan 1.1 with a compute queue), without creating one; empty with
  // `reason` set when there is no loader or no such device. Never throws.
  static std::vector<VulkanDeviceSummary> list_devices(std::string* reason);

  struct Options {
    // Enable VK_LAYER_KHRONOS_validation (with synchronization validation) and collect
    // its warnings and errors (validation_messages()). For tests; slow.
    bool validation = false;
    // −1: the preferred device (discrete > integrated > virtual > CPU); otherwise the
    // index in vkEnumeratePhysicalDevices order. DRMM_VULKAN_DEVICE overrides both.
    int device_index = -1;
    // Where device memory is also host visible (lavapipe, UMA GPUs) upload writes it in
    // place when nothing is queued and download reads it in place. false turns that off,
    // so every transfer goes through a staging buffer as on a discrete GPU; the tests use
    // it to run that path on lavapipe.
    bool map_device_memory = true;
  };

  // Throws drmm::Error with the reason when there is no loader, no device or no usable one.
  explicit VulkanBackend(Options options);
  VulkanBackend() : VulkanBackend(Options{}) {}
  ~VulkanBackend() override;  // waits for queued work

  std::string name() const override;  // "vulkan (<device name>)"
  bool on_gpu() const;                // the device is a discrete or integrated GPU
  std::vector<std::string> validation_messages() const;
  uint64_t submit_count() const;  // command buffers submitted so far (one per finish/download)

 private:
  // The ops (backend.h), called with arguments Backend has checked.
  Tensor run_alloc(Shape shape) override;
  void run_upload(Tensor& dst, std::span<const float> src) override;
  std::vector<float> run_download(const Tensor& src) override;
  void run_finish() override;
  void run_fill(Tensor& t, float value) override;
  void run_copy(const Tensor& src, Tensor& dst) override;

  void run_conv2d(const Tensor& x, const Tensor& w, int pad, Tensor& y) override;
  void run_conv2d_backward_input(const Tensor& dy, const Tensor& w, int pad, Tensor& dx,
                                 bool accumulate) override;
  void run_conv2d_backward_weight(const Tensor& x, const Tensor& dy, int pad, Tensor& dw,
                                  bool accumulate) override;
  void run_add_channel_bias(Tensor& y, const Tensor& bias) override;
  void run_channel_sum(const Tensor& dy, Tensor& dbias, bool accumulate) override;

  void run_maxpool(const Tensor& x, int k, Tensor& y, Tensor& switches) override;
  void run_unpool(const Tensor& y, const Tensor& switches, int k, Tensor& x) override;
  void run_unpool_backward(const Tensor& dx, const Tensor& switches, int k, Tensor& dy) override;
  void run_upsample(const Tensor& x, int k, Tensor& y) override;
  void run_sum_pool(const Tensor& x, int k, Tensor& y) override;
  void run_mean_pool(const Tensor& x, Tensor& y) override;
  void run_mean_pool_backward(const Tensor& dy, Tensor& dx) override;

  void run_relu(const Tensor& x, Tensor& y, Tensor& mask) override;
  void run_mul(const Tensor& a, const Tensor& b, Tensor& y) override;
  void run_axpy(float alpha, const Tensor& x, Tensor& y) override;
  void run_scale(Tensor& y, float alpha) override;

  void run_batchnorm_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, float momentum, float eps,
                           Tensor& running_mean, Tensor& running_var, Tensor& y, Tensor& saved_mean,
                           Tensor& saved_inv_std) override;
  void run_batchnorm_infer(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                           const Tensor& running_var, float eps, Tensor& y) override;
  void run_batchnorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& saved_mean,
                              const Tensor& saved_inv_std, Tensor& dx, Tensor& dgamma, Tensor& dbeta) override;

  void run_softmax(const Tensor& logits, Tensor& q) override;
  void run_cross_entropy(const Tensor& q, const Tensor& labels, float weight, Tensor& loss,
                         Tensor& dlogits) override;
  void run_kl_loss(const Tensor& q, bool paper_sign, float weight, Tensor& loss, Tensor& dlogits) override;
  void run_reconstruction_loss(const Tensor& a, const Tensor& b, float weight, Tensor& loss, Tensor& da) override;
  void run_nonnegativity_loss(const Tensor& z, float weight, Tensor& loss, Tensor& dz) override;
  void run_rendering_prior(const Tensor& masked, const Tensor& mask, const Tensor& bias, float sign, float weight,
                           Tensor& loss, Tensor& dz) override;
  void run_render_class_onehot(const Tensor& q, const Tensor& labels, bool use_labels, Tensor& onehot) override;

  void run_batch_mean_ema(const Tensor& x, float decay, Tensor& ema) override;
  void run_sgd_step(Tensor& param, const Tensor& grad, Tensor& velocity, float lr, float momentum) override;
  void run_adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, float lr, float beta1, float beta2,
                     float eps, int step) override;

  struct Impl;  // keeps <vulkan/vulkan.h> out of this header
  std::unique_ptr<Impl> impl_;
};

}  // namespace drmm
