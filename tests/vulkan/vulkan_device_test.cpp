// Device set-up, memory ops, the recording model and teardown of the vulkan backend.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/vulkan/vulkan_test_support.h"

namespace drmm::test {
namespace {

DRMM_VULKAN_TESTS_COVER("alloc", "upload", "download", "finish", "read_scalar", "fill", "copy");

using VulkanDevice = VulkanTest;

TEST_F(VulkanDevice, NamesItsDevice) {
  EXPECT_EQ(vk().name().rfind("vulkan (", 0), 0u) << vk().name();
}

TEST_F(VulkanDevice, AllocIsZeroFilled) {
  // Recycled buffers hold old data: write a tensor, drop it, allocate the same size again.
  {
    Tensor dirty = upload(vk(), {2, 3, 4, 5}, random_values(120, 1));
    vk().finish();
  }
  Tensor t = vk().alloc({2, 3, 4, 5});
  for (float v : vk().download(t)) ASSERT_EQ(v, 0.0f);
}

TEST_F(VulkanDevice, UploadDownloadRoundTrip) {
  const auto values = random_values(1000, 2);
  Tensor t = upload(vk(), {10, 1, 10, 10}, values);
  EXPECT_EQ(vk().download(t), values);
}

// The loss values the trainer reads: the first value, after the queued work that wrote it.
TEST_F(VulkanDevice, ReadScalarWaitsForTheQueuedWork) {
  Tensor t = upload(vk(), {1, 1, 1, 3}, {0.25f, 7.0f, 9.0f});
  vk().scale(t, -3.0f);
  EXPECT_EQ(vk().read_scalar(t), -0.75);
  CpuBackend cpu(1);
  Tensor c = upload(cpu, {1, 1, 1, 3}, {0.25f, 7.0f, 9.0f});
  cpu.scale(c, -3.0f);
  EXPECT_EQ(cpu.read_scalar(c), vk().read_scalar(t));
}

TEST_F(VulkanDevice, FillAndCopy) {
  Tensor a = vk().alloc({1, 1, 7, 3});
  Tensor b = vk().alloc({3, 7, 1, 1});
  vk().fill(a, -2.5f);
  vk().copy(a, b);
  vk().fill(a, 1.0f);
  for (float v : vk().download(b)) ASSERT_EQ(v, -2.5f);
  for (float v : vk().download(a)) ASSERT_EQ(v, 1.0f);
}

// Ops are queued: an upload recorded after queued work that reads the same tensor must not
// overtake it (it is staged and copied in order), and nothing is submitted before finish.
TEST_F(VulkanDevice, QueuedOpsKeepProgramOrder) {
  Tensor x = upload(vk(), {1, 1, 1, 4}, {1, 2, 3, 4});
  Tensor y = vk().alloc({1, 1, 1, 4});
  vk().finish();
  const uint64_t submits = vk().submit_count();
  vk().copy(x, y);                                  // y = old x
  vk().upload(x, std::vector<float>{9, 9, 9, 9});  // then x changes
  vk().axpy(1.0f, x, y);                            // y = old x + new x
  EXPECT_EQ(vk().submit_count(), submits) << "work was submitted before finish()";
  EXPECT_EQ(vk().download(y), (std::vector<float>{10, 11, 12, 13}));
  EXPECT_EQ(vk().submit_count(), submits + 1);
}

// A tensor dropped while its work is still queued stays alive until that work ran.
TEST_F(VulkanDevice, DroppedTensorsOutliveTheirQueuedWork) {
  Tensor y = vk().alloc({1, 1, 1, 256});
  {
    Tensor temp = upload(vk(), {1, 1, 1, 256}, random_values(256, 3));
    vk().scale(temp, 2.0f);
    vk().copy(temp, y);
  }
  for (int i = 0; i < 8; ++i) Tensor churn = vk().alloc({1, 1, 1, 256});  // may reuse memory
  const auto out = vk().download(y);
  const auto expected = random_values(256, 3);
  for (size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], 2.0f * expected[i]);
}

TEST_F(VulkanDevice, RejectsMismatchedShapes) {
  Tensor x = vk().alloc({1, 1, 4, 4});
  Tensor y = vk().alloc({1, 1, 3, 3});
  Tensor w = vk().alloc({1, 1, 3, 3});
  EXPECT_THROW(vk().conv2d(x, w, 0, y), Error);  // valid 3×3 of 4×4 is 2×2
  EXPECT_THROW(vk().upload(x, std::vector<float>(3)), Error);
}

// Tensors may outlive the backend that made them: the device lives until the last one goes.
TEST(VulkanTeardown, TensorsOutliveTheirBackend) {
  if (!shared_vulkan()) GTEST_SKIP() << vulkan_unavailable_reason();
  Tensor kept;
  {
    VulkanBackend backend(VulkanBackend::Options{.validation = true});
    kept = backend.alloc({1, 1, 8, 8});
    backend.fill(kept, 3.0f);
    EXPECT_TRUE(backend.validation_messages().empty());
  }  // backend destroyed with queued work: the destructor runs it
  SUCCEED();
}

// The discrete-GPU path: device memory is never mapped, so upload and download always go
// through staging buffers and copy commands.
TEST(VulkanStaging, TransfersThroughStagingBuffers) {
  if (!shared_vulkan()) GTEST_SKIP() << vulkan_unavailable_reason();
  VulkanBackend backend(VulkanBackend::Options{.validation = true, .map_device_memory = false});
  const auto values = random_values(300, 4);
  Tensor x = backend.alloc({3, 1, 10, 10});
  backend.upload(x, values);  // nothing queued: still staged
  Tensor y = backend.alloc({3, 1, 10, 10});
  backend.copy(x, y);
  backend.scale(y, 2.0f);
  const auto out = backend.download(y);
  for (size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], 2.0f * values[i]);
  EXPECT_EQ(backend.download(x), values);
  EXPECT_TRUE(backend.validation_messages().empty()) << backend.validation_messages().front();
}

TEST(VulkanTeardown, MissingLoaderIsAnErrorNotACrash) {
  ::setenv("DRMM_VULKAN_LOADER", "/nonexistent/libvulkan.so.1", 1);
  EXPECT_THROW(VulkanBackend backend, Error);
  ::unsetenv("DRMM_VULKAN_LOADER");
}

}  // namespace
}  // namespace drmm::test
