// Batch normalisation (train, infer, backward) on vulkan against the cpu reference.
// Tolerance: 1e-5 relative to the largest value (per-channel reductions in tree order on
// the device, in sequence on the cpu).
#include <gtest/gtest.h>

#include "tests/vulkan/vulkan_test_support.h"

namespace drmm::test {
namespace {

DRMM_VULKAN_TESTS_COVER("batchnorm_train", "batchnorm_infer", "batchnorm_backward");

constexpr double kTolerance = 1e-5;
const Shape kShape{4, 5, 6, 7};
const Shape kChannels{1, 5, 1, 1};

class VulkanBatchnorm : public VulkanVsCpu {
 protected:
  // Inputs with a per-channel offset, so that the mean matters.
  Mirrored x = random(kShape, 1, 0.5f, 3.0f);
  Mirrored gamma = random(kChannels, 2, 0.5f, 1.5f), beta = random(kChannels, 3);
  Mirrored running_mean = random(kChannels, 4), running_var = random(kChannels, 5, 0.5f, 2.0f);
  Mirrored y = zeros(kShape), saved_mean = zeros(kChannels), saved_inv_std = zeros(kChannels);

  void train() {
    both([&](Backend& b, Side s) {
      b.batchnorm_train(x.*s, gamma.*s, beta.*s, 0.1f, 1e-5f, running_mean.*s, running_var.*s, y.*s,
                        saved_mean.*s, saved_inv_std.*s);
    });
  }
};

TEST_F(VulkanBatchnorm, Train) {
  train();
  expect_close(y, kTolerance, "y");
  expect_close(saved_mean, kTolerance, "saved_mean");
  expect_close(saved_inv_std, kTolerance, "saved_inv_std");
  expect_close(running_mean, kTolerance, "running_mean");
  expect_close(running_var, kTolerance, "running_var");
}

TEST_F(VulkanBatchnorm, Infer) {
  both([&](Backend& b, Side s) {
    b.batchnorm_infer(x.*s, gamma.*s, beta.*s, running_mean.*s, running_var.*s, 1e-5f, y.*s);
  });
  expect_close(y, kTolerance, "y");
}

TEST_F(VulkanBatchnorm, Backward) {
  train();
  Mirrored dy = random(kShape, 6), dx = random(kShape, 7);
  Mirrored dgamma = random(kChannels, 8), dbeta = random(kChannels, 9);  // accumulated into
  both([&](Backend& b, Side s) {
    b.batchnorm_backward(dy.*s, x.*s, gamma.*s, saved_mean.*s, saved_inv_std.*s, dx.*s, dgamma.*s, dbeta.*s);
  });
  expect_close(dx, kTolerance, "dx");
  expect_close(dgamma, kTolerance, "dgamma");
  expect_close(dbeta, kTolerance, "dbeta");
}

}  // namespace
}  // namespace drmm::test
