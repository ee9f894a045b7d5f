// `--backend vulkan|cpu|auto` (make_backend) and the conv kernel timing used by
// `drmm bench`. The fallbacks are forced through the environment: DRMM_VULKAN_LOADER
// points the backend at a loader that does not exist, VK_ICD_FILENAMES at no driver.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/backend/select/backend_factory.h"
#include "core/backend/select/kernel_timing.h"
#include "tests/vulkan/vulkan_test_support.h"

namespace drmm::test {
namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

TEST(BackendSelect, CpuByName) {
  std::string notice = "stale";
  auto backend = make_backend("cpu", 1, &notice);
  EXPECT_TRUE(starts_with(backend->name(), "cpu")) << backend->name();
  EXPECT_EQ(notice, "");
}

TEST(BackendSelect, UnknownNameIsAnError) { EXPECT_THROW(make_backend("cuda", 1, nullptr), Error); }

// Asked for by name, a missing Vulkan is an error naming the option (a run the user meant for the
// GPU must not quietly take the cpu); auto falls back and says why.
void expect_named_vulkan_refused(const std::string& reason) {
  try {
    make_backend("vulkan", 1, nullptr);
    FAIL() << "--backend vulkan fell back without a word";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_TRUE(starts_with(what, "--backend vulkan: ")) << what;
    EXPECT_NE(what.find(reason), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "one line";
  }
}

TEST(BackendSelect, VulkanWithoutLoaderIsAnErrorByNameAndCpuForAuto) {
  ScopedEnv env("DRMM_VULKAN_LOADER", "/nonexistent/libvulkan.so.1");
  expect_named_vulkan_refused("no Vulkan loader (libvulkan.so.1 not found)");
  std::string notice;
  auto backend = make_backend("auto", 1, &notice);
  EXPECT_TRUE(starts_with(backend->name(), "cpu")) << backend->name();
  EXPECT_NE(notice.find("no Vulkan loader"), std::string::npos) << notice;
}

TEST(BackendSelect, VulkanWithoutDriverIsAnErrorByNameAndCpuForAuto) {
  ScopedEnv env("VK_ICD_FILENAMES", "/nonexistent/icd.json");
  expect_named_vulkan_refused("");
  std::string notice;
  auto backend = make_backend("auto", 1, &notice);
  EXPECT_TRUE(starts_with(backend->name(), "cpu")) << backend->name();
  EXPECT_TRUE(starts_with(notice, "auto: cpu")) << notice;
}

TEST(BackendSelect, VulkanByName) {
  if (!shared_vulkan()) GTEST_SKIP() << vulkan_unavailable_reason();
  std::string notice;
  auto backend = make_backend("vulkan", 1, &notice);
  EXPECT_TRUE(starts_with(backend->name(), "vulkan (")) << backend->name();
  EXPECT_EQ(notice, "");
}

// auto takes vulkan only on a real GPU; with lavapipe alone (this CI) it takes cpu.
TEST(BackendSelect, AutoPrefersAGpuElseCpu) {
  std::string reason;
  bool gpu = false;
  for (const auto& d : VulkanBackend::list_devices(&reason)) gpu = gpu || d.gpu;
  std::string notice;
  auto backend = make_backend("auto", 1, &notice);
  EXPECT_TRUE(starts_with(backend->name(), gpu ? "vulkan (" : "cpu")) << backend->name() << " / " << notice;
  EXPECT_TRUE(starts_with(notice, "auto: ")) << notice;
}

TEST(KernelTiming, CoversEveryConvSmallKernel) {
  CpuBackend cpu(1);
  const auto timings = time_conv_kernels(cpu, 1, 1);
  ASSERT_EQ(timings.size(), 15u);  // 5 layers × (forward, backward_input, backward_weight)
  for (const auto& t : timings) {
    EXPECT_GT(t.flops, 0);
    EXPECT_GT(t.gflops, 0) << t.layer << " " << t.kernel;
  }
  EXPECT_EQ(timings[0].flops, 2.0 * 32 * 32 * 32 * 1 * 25);  // conv1: 32 maps of 32×32, 5×5 taps
  EXPECT_GT(conv_images_per_second(timings), 0);
}

using VulkanKernelTiming = VulkanTest;

TEST_F(VulkanKernelTiming, RunsOnVulkan) {
  const auto timings = time_conv_kernels(vk(), 1, 1);
  ASSERT_EQ(timings.size(), 15u);
  for (const auto& t : timings) EXPECT_GT(t.gflops, 0) << t.layer << " " << t.kernel;
}

}  // namespace
}  // namespace drmm::test
