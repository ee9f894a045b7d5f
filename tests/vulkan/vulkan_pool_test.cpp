// Pooling, switches, upsampling and mean pool on vulkan against the cpu reference.
// Tolerance: maxpool/unpool/upsample move values (exact); the sums (sum_pool,
// unpool_backward, mean pool) allow 1e-6 relative to the largest value.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/vulkan/vulkan_test_support.h"

namespace drmm::test {
namespace {

DRMM_VULKAN_TESTS_COVER("maxpool", "unpool", "unpool_backward", "upsample", "sum_pool", "mean_pool", "mean_pool_backward");

constexpr double kExact = 0.0;
constexpr double kSumTolerance = 1e-6;

using VulkanPool = VulkanVsCpu;

// Values on a coarse grid so that windows contain ties: the switch must go to the FIRST
// maximum in row-major order on both backends.
std::vector<float> with_ties(size_t count, unsigned seed) {
  auto v = random_values(count, seed, -2.0f, 2.0f);
  for (float& x : v) x = std::round(x);
  return v;
}

TEST_F(VulkanPool, MaxPoolWithSwitches) {
  for (int k : {2, 3}) {
    const Shape in{2, 3, 6 * k / 2 * 2, 4 * k};
    Mirrored x = mirrored(in, with_ties(in.count(), unsigned(k)));
    Mirrored y = zeros({in.n, in.c, in.h / k, in.w / k}), t = zeros(in);
    both([&](Backend& b, Side s) { b.maxpool(x.*s, k, y.*s, t.*s); });
    expect_close(y, kExact, "maxpool y k=" + std::to_string(k));
    expect_close(t, kExact, "maxpool switches k=" + std::to_string(k));
  }
}

TEST_F(VulkanPool, Unpool) {
  const Shape fine{2, 3, 8, 6};
  Mirrored x = mirrored(fine, with_ties(fine.count(), 5)), y = zeros({2, 3, 4, 3}), t = zeros(fine);
  Mirrored up = random(fine, 6);  // overwritten
  both([&](Backend& b, Side s) {
    b.maxpool(x.*s, 2, y.*s, t.*s);
    b.unpool(y.*s, t.*s, 2, up.*s);
  });
  expect_close(up, kExact, "unpool");
}

TEST_F(VulkanPool, UnpoolBackward) {
  const Shape fine{2, 3, 8, 6};
  Mirrored x = mirrored(fine, with_ties(fine.count(), 7)), y = zeros({2, 3, 4, 3}), t = zeros(fine);
  Mirrored dx = random(fine, 8), dy = random({2, 3, 4, 3}, 9);
  both([&](Backend& b, Side s) {
    b.maxpool(x.*s, 2, y.*s, t.*s);
    b.unpool_backward(dx.*s, t.*s, 2, dy.*s);
  });
  expect_close(dy, kSumTolerance, "unpool_backward");
}

TEST_F(VulkanPool, Upsample) {
  Mirrored x = random({2, 3, 3, 5}, 10), y = random({2, 3, 9, 15}, 11);
  both([&](Backend& b, Side s) { b.upsample(x.*s, 3, y.*s); });
  expect_close(y, kExact, "upsample");
}

TEST_F(VulkanPool, SumPool) {
  Mirrored x = random({2, 3, 9, 15}, 12), y = random({2, 3, 3, 5}, 13);
  both([&](Backend& b, Side s) { b.sum_pool(x.*s, 3, y.*s); });
  expect_close(y, kSumTolerance, "sum_pool");
}

TEST_F(VulkanPool, MeanPool) {
  Mirrored x = random({3, 10, 6, 6}, 14), y = random({3, 10, 1, 1}, 15);
  both([&](Backend& b, Side s) { b.mean_pool(x.*s, y.*s); });
  expect_close(y, kSumTolerance, "mean_pool");
}

TEST_F(VulkanPool, MeanPoolBackward) {
  Mirrored dy = random({3, 10, 1, 1}, 16), dx = random({3, 10, 6, 6}, 17);
  both([&](Backend& b, Side s) { b.mean_pool_backward(dy.*s, dx.*s); });
  expect_close(dx, kSumTolerance, "mean_pool_backward");
}

}  // namespace
}  // namespace drmm::test
