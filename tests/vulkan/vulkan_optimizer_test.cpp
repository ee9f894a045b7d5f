// SGD with momentum and Adam on vulkan against the cpu reference, over a few steps so that
// the optimiser state (velocity, m, v, bias correction) is exercised. Tolerance: 1e-6
// relative to the largest parameter.
#include <gtest/gtest.h>

#include "tests/vulkan/vulkan_test_support.h"

namespace drmm::test {
namespace {

DRMM_VULKAN_TESTS_COVER("sgd_step", "adam_step");

constexpr double kTolerance = 1e-6;
const Shape kShape{64, 32, 3, 3};

using VulkanOptimizer = VulkanVsCpu;

TEST_F(VulkanOptimizer, SgdMomentum) {
  Mirrored p = random(kShape, 1), velocity = zeros(kShape);
  for (unsigned step = 0; step < 3; ++step) {
    Mirrored g = random(kShape, 10 + step);
    both([&](Backend& b, Side s) { b.sgd_step(p.*s, g.*s, velocity.*s, 0.2f, 0.9f); });
  }
  expect_close(p, kTolerance, "param");
  expect_close(velocity, kTolerance, "velocity");
}

TEST_F(VulkanOptimizer, Adam) {
  Mirrored p = random(kShape, 2), m = zeros(kShape), v = zeros(kShape);
  for (int step = 1; step <= 3; ++step) {
    Mirrored g = random(kShape, 20 + unsigned(step));
    both([&](Backend& b, Side s) { b.adam_step(p.*s, g.*s, m.*s, v.*s, 1e-3f, 0.9f, 0.999f, 1e-8f, step); });
  }
  expect_close(p, kTolerance, "param");
  expect_close(m, kTolerance, "m");
  expect_close(v, kTolerance, "v");
}

}  // namespace
}  // namespace drmm::test
