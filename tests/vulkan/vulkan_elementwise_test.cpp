// Elementwise ops and the batch statistics of the latents on vulkan against the cpu
// reference. Tolerance: the same float operation on both sides, so exact, except
// batch_mean_ema (a mean over the batch: 1e-6 relative).
#include <gtest/gtest.h>

#include "tests/vulkan/vulkan_test_support.h"

namespace drmm::test {
namespace {

DRMM_VULKAN_TESTS_COVER("relu", "mul", "axpy", "scale", "batch_mean_ema");

constexpr double kExact = 0.0;
const Shape kShape{3, 4, 5, 7};

using VulkanElementwise = VulkanVsCpu;

TEST_F(VulkanElementwise, Relu) {
  auto values = random_values(kShape.count(), 1);
  values[0] = 0.0f;  // [0 > 0] is 0: the mask must say "off" at exactly zero
  Mirrored x = mirrored(kShape, values), y = random(kShape, 2), mask = random(kShape, 3);
  both([&](Backend& b, Side s) { b.relu(x.*s, y.*s, mask.*s); });
  expect_close(y, kExact, "relu y");
  expect_close(mask, kExact, "relu mask");
}

TEST_F(VulkanElementwise, Mul) {
  Mirrored a = random(kShape, 4), b = random(kShape, 5), y = zeros(kShape);
  both([&](Backend& be, Side s) { be.mul(a.*s, b.*s, y.*s); });
  expect_close(y, kExact, "mul");
}

TEST_F(VulkanElementwise, MulInPlace) {  // backend.h: y may alias a or b
  Mirrored a = random(kShape, 6), b = random(kShape, 7);
  both([&](Backend& be, Side s) { be.mul(a.*s, b.*s, a.*s); });
  expect_close(a, kExact, "mul in place");
}

TEST_F(VulkanElementwise, Axpy) {
  Mirrored x = random(kShape, 8), y = random(kShape, 9);
  both([&](Backend& b, Side s) { b.axpy(-0.75f, x.*s, y.*s); });
  expect_close(y, 1e-7, "axpy");  // fused multiply-add on one side may round once less
}

TEST_F(VulkanElementwise, Scale) {
  Mirrored y = random(kShape, 10);
  both([&](Backend& b, Side s) { b.scale(y.*s, 3.5f); });
  expect_close(y, kExact, "scale");
}

TEST_F(VulkanElementwise, BatchMeanEma) {
  Mirrored x = random(kShape, 11, 0.0f, 1.0f), ema = random({1, 4, 5, 7}, 12, 0.0f, 1.0f);
  both([&](Backend& b, Side s) {
    b.batch_mean_ema(x.*s, 0.9f, ema.*s);
    b.batch_mean_ema(x.*s, 0.5f, ema.*s);
  });
  expect_close(ema, 1e-6, "batch_mean_ema");
}

}  // namespace
}  // namespace drmm::test
