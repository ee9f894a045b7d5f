// conv2d and its two gradients on vulkan (conv_gemm.comp, three modes) against the cpu
// reference, over the ConvSmall layer shapes plus odd sizes that leave partial tiles.
// Tolerance: 1e-4 relative to the largest reference value (float sums of up to ~3000
// products accumulated in a different order; observed errors are ~1e-6).
#include <gtest/gtest.h>

#include "tests/vulkan/vulkan_test_support.h"

namespace drmm::test {
namespace {

DRMM_VULKAN_TESTS_COVER("conv2d", "conv2d_backward_input", "conv2d_backward_weight", "add_channel_bias", "channel_sum");

constexpr double kConvTolerance = 1e-4;

struct ConvCase {
  int batch, cin, cout, h, w, k, pad;
};
// ConvSmall (DESIGN.md §3.2) at batch 2, then shapes that do not fill a tile.
const ConvCase kCases[] = {
    {2, 1, 32, 28, 28, 5, 4},   // conv 32 5×5 full
    {2, 32, 64, 16, 16, 3, 0},  // conv 64 3×3 valid
    {2, 64, 64, 14, 14, 3, 2},  // conv 64 3×3 full
    {2, 64, 128, 8, 8, 3, 0},   // conv 128 3×3 valid
    {2, 128, 10, 6, 6, 1, 0},   // conv 10 1×1
    {3, 3, 5, 7, 9, 3, 1},      // half, non-square image, odd everything
    {1, 2, 70, 5, 4, 2, 1},     // even kernel; more rows than one 64-row tile
};

std::string describe(const ConvCase& c) {
  return "batch " + std::to_string(c.batch) + " " + std::to_string(c.cin) + "→" + std::to_string(c.cout) + " " +
         std::to_string(c.h) + "×" + std::to_string(c.w) + " k" + std::to_string(c.k) + " pad" + std::to_string(c.pad);
}
Shape input_shape(const ConvCase& c) { return {c.batch, c.cin, c.h, c.w}; }
Shape weight_shape(const ConvCase& c) { return {c.cout, c.cin, c.k, c.k}; }
Shape output_shape(const ConvCase& c) {
  return {c.batch, c.cout, conv_output_size(c.h, c.k, c.pad), conv_output_size(c.w, c.k, c.pad)};
}

using VulkanConv = VulkanVsCpu;

TEST_F(VulkanConv, Forward) {
  unsigned seed = 10;
  for (const ConvCase& c : kCases) {
    Mirrored x = random(input_shape(c), ++seed), w = random(weight_shape(c), ++seed), y = zeros(output_shape(c));
    both([&](Backend& b, Side s) { b.conv2d(x.*s, w.*s, c.pad, y.*s); });
    expect_close(y, kConvTolerance, "conv2d " + describe(c));
  }
}

TEST_F(VulkanConv, BackwardInput) {
  unsigned seed = 20;
  for (const ConvCase& c : kCases)
    for (bool accumulate : {false, true}) {
      Mirrored dy = random(output_shape(c), ++seed), w = random(weight_shape(c), ++seed);
      Mirrored dx = random(input_shape(c), ++seed);  // overwritten unless accumulating
      both([&](Backend& b, Side s) { b.conv2d_backward_input(dy.*s, w.*s, c.pad, dx.*s, accumulate); });
      expect_close(dx, kConvTolerance, "conv2d_backward_input " + describe(c) + (accumulate ? " +=" : ""));
    }
}

TEST_F(VulkanConv, BackwardWeight) {
  unsigned seed = 30;
  for (const ConvCase& c : kCases)
    for (bool accumulate : {false, true}) {
      Mirrored x = random(input_shape(c), ++seed), dy = random(output_shape(c), ++seed);
      Mirrored dw = random(weight_shape(c), ++seed);
      both([&](Backend& b, Side s) { b.conv2d_backward_weight(x.*s, dy.*s, c.pad, dw.*s, accumulate); });
      expect_close(dw, kConvTolerance, "conv2d_backward_weight " + describe(c) + (accumulate ? " +=" : ""));
    }
}

// A bigger batch makes conv2d_backward_weight split K across workgroups (split-K) and sum
// the slices; the result must not change.
TEST_F(VulkanConv, BackwardWeightSplitK) {
  const ConvCase c{8, 4, 6, 12, 12, 3, 1};
  Mirrored x = random(input_shape(c), 41), dy = random(output_shape(c), 42), dw = random(weight_shape(c), 43);
  both([&](Backend& b, Side s) { b.conv2d_backward_weight(x.*s, dy.*s, c.pad, dw.*s, true); });
  expect_close(dw, kConvTolerance, "split-K " + describe(c));
}

// A conv layer's bias: the add is the same float operation on both sides; the channel sum adds
// N·H·W values in another order on the device.
TEST_F(VulkanConv, ChannelBiasAndItsGradient) {
  for (const Shape& shape : {Shape{3, 4, 5, 7}, Shape{64, 8, 12, 12}}) {
    const Shape channel{1, shape.c, 1, 1};
    Mirrored y = random(shape, 51), bias = random(channel, 52), dbias = random(channel, 53);
    both([&](Backend& b, Side s) { b.add_channel_bias(y.*s, bias.*s); });
    expect_close(y, 0.0, "add_channel_bias " + shape.str());
    for (bool accumulate : {false, true}) {
      both([&](Backend& b, Side s) { b.channel_sum(y.*s, dbias.*s, accumulate); });
      expect_close(dbias, 1e-5, "channel_sum " + shape.str() + (accumulate ? " +=" : ""));
    }
  }
}

}  // namespace
}  // namespace drmm::test
