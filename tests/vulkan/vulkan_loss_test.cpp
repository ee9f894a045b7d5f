// Softmax and the DRMM losses on vulkan against the cpu reference: loss values and the
// gradients they add into. Tolerance: 1e-5 relative to the largest value (the cpu sums in
// double; the device in float, in tree order).
#include <gtest/gtest.h>

#include <cmath>

#include "tests/vulkan/vulkan_test_support.h"

namespace drmm::test {
namespace {

DRMM_VULKAN_TESTS_COVER("softmax", "cross_entropy", "kl_loss", "reconstruction_loss", "nonnegativity_loss", "rendering_prior",
                        "render_class_onehot");

constexpr double kTolerance = 1e-5;
const Shape kLogits{6, 10, 1, 1};

class VulkanLoss : public VulkanVsCpu {
 protected:
  Mirrored logits = random(kLogits, 1, -3.0f, 3.0f), q = zeros(kLogits);
  Mirrored loss = random({1, 1, 1, 1}, 2);           // overwritten (or added to) by the op
  Mirrored dlogits = random(kLogits, 3, -0.1f, 0.1f);  // gradients accumulate

  void softmax() {
    both([&](Backend& b, Side s) { b.softmax(logits.*s, q.*s); });
  }
};

TEST_F(VulkanLoss, Softmax) {
  softmax();
  expect_close(q, 1e-6, "q");
}

TEST_F(VulkanLoss, CrossEntropyOnLabeledImagesOnly) {
  softmax();
  Mirrored labels = mirrored({6, 1, 1, 1}, {3, -1, 0, 9, -1, 3});
  both([&](Backend& b, Side s) { b.cross_entropy(q.*s, labels.*s, 0.7f, loss.*s, dlogits.*s); });
  expect_close(loss, kTolerance, "loss");
  expect_close(dlogits, kTolerance, "dlogits");
}

// A label that is no class index: the cpu refuses it; the shader must not read past q's row and
// marks the loss NaN instead (which the trainer reports), leaving the other rows' gradients.
TEST_F(VulkanLoss, CrossEntropyWithALabelOutsideTheClassesIsNaNNotARead) {
  softmax();
  Mirrored labels = mirrored({6, 1, 1, 1}, {3, -1, 0, 1000000, -1, 3});
  EXPECT_THROW(cpu().cross_entropy(q.cpu, labels.cpu, 1.0f, loss.cpu, dlogits.cpu), Error);
  vk().cross_entropy(q.vk, labels.vk, 1.0f, loss.vk, dlogits.vk);
  EXPECT_TRUE(std::isnan(vk().download(loss.vk).at(0)));
  for (float g : vk().download(dlogits.vk)) EXPECT_TRUE(std::isfinite(g));
}

TEST_F(VulkanLoss, CrossEntropyWithoutLabels) {
  softmax();
  Mirrored labels = mirrored({6, 1, 1, 1}, {-1, -1, -1, -1, -1, -1});
  both([&](Backend& b, Side s) { b.cross_entropy(q.*s, labels.*s, 1.0f, loss.*s, dlogits.*s); });
  expect_close(loss, kTolerance, "loss");
  expect_close(dlogits, kTolerance, "dlogits");
}

TEST_F(VulkanLoss, KlCodeSign) {
  softmax();
  both([&](Backend& b, Side s) { b.kl_loss(q.*s, false, 0.5f, loss.*s, dlogits.*s); });
  expect_close(loss, kTolerance, "loss");
  expect_close(dlogits, kTolerance, "dlogits");
}

TEST_F(VulkanLoss, KlPaperSign) {
  softmax();
  both([&](Backend& b, Side s) { b.kl_loss(q.*s, true, 0.5f, loss.*s, dlogits.*s); });
  expect_close(loss, kTolerance, "loss");
  expect_close(dlogits, kTolerance, "dlogits");
}

TEST_F(VulkanLoss, Reconstruction) {
  const Shape image{5, 1, 28, 28};  // more than one partial-sum workgroup
  Mirrored a = random(image, 4), b = random(image, 5), da = random(image, 6, -0.1f, 0.1f);
  both([&](Backend& be, Side s) { be.reconstruction_loss(a.*s, b.*s, 0.2f, loss.*s, da.*s); });
  expect_close(loss, kTolerance, "loss");
  expect_close(da, kTolerance, "da");
}

TEST_F(VulkanLoss, NonnegativityAccumulatesOverLayers) {
  Mirrored z1 = random({4, 8, 10, 10}, 7), z2 = random({4, 3, 5, 5}, 8);
  Mirrored dz1 = random({4, 8, 10, 10}, 9, -0.1f, 0.1f), dz2 = zeros({4, 3, 5, 5});
  both([&](Backend& b, Side s) {
    b.fill(loss.*s, 0.0f);
    b.nonnegativity_loss(z1.*s, 1.0f, loss.*s, dz1.*s);
    b.nonnegativity_loss(z2.*s, 0.5f, loss.*s, dz2.*s);
  });
  expect_close(loss, kTolerance, "loss");
  expect_close(dz1, kTolerance, "dz1");
  expect_close(dz2, kTolerance, "dz2");
}

// Two levels of η with opposite signs, as the Rendering Path Normalization adds them (the
// image's path minus the all-zero input's): the loss accumulates, the gradient adds b_c·a.
TEST_F(VulkanLoss, RenderingPriorAccumulatesOverLevelsWithTheirSigns) {
  const Shape level1{4, 8, 10, 10}, level2{1, 3, 5, 5};
  Mirrored m1 = random(level1, 14), a1 = mirrored(level1, random_mask(level1.count(), 15));
  Mirrored m2 = random(level2, 16), a2 = mirrored(level2, random_mask(level2.count(), 17));
  Mirrored b1 = random({1, 8, 1, 1}, 18), b2 = random({1, 3, 1, 1}, 19);
  Mirrored dz1 = random(level1, 20, -0.1f, 0.1f), dz2 = zeros(level2);
  both([&](Backend& b, Side s) {
    b.fill(loss.*s, 0.0f);
    b.rendering_prior(m1.*s, a1.*s, b1.*s, -1.0f, 0.7f, loss.*s, dz1.*s);
    b.rendering_prior(m2.*s, a2.*s, b2.*s, 1.0f, 0.7f, loss.*s, dz2.*s);
  });
  expect_close(loss, kTolerance, "loss");
  expect_close(dz1, kTolerance, "dz1");
  expect_close(dz2, kTolerance, "dz2");
}

TEST_F(VulkanLoss, RenderClassOnehot) {
  // Rows 0 and 1 tie on their maximum: the first class wins on both backends.
  std::vector<float> probabilities = random_values(kLogits.count(), 10, 0.0f, 1.0f);
  probabilities[3] = probabilities[7] = 2.0f;
  probabilities[10 + 0] = probabilities[10 + 9] = 2.0f;
  Mirrored p = mirrored(kLogits, probabilities), onehot = random(kLogits, 11);
  Mirrored labels = mirrored({6, 1, 1, 1}, {5, -1, 0, -1, 9, 2});
  for (bool use_labels : {false, true}) {
    both([&](Backend& b, Side s) { b.render_class_onehot(p.*s, labels.*s, use_labels, onehot.*s); });
    expect_close(onehot, 0.0, use_labels ? "labels where known" : "predictions only");
  }
}

// The cpu refuses a label that is no class (backend.h); the kernel, which cannot, writes nothing
// past the image's row: that row stays all zero, the others are rendered as usual.
TEST_F(VulkanLoss, RenderClassOnehotWithALabelOutsideTheClassesWritesNoRow) {
  Mirrored p = random(kLogits, 12, 0.0f, 1.0f), onehot = random(kLogits, 13);
  Mirrored labels = mirrored({6, 1, 1, 1}, {5, 10, 0, -1, 9, 2});
  EXPECT_THROW(cpu().render_class_onehot(p.cpu, labels.cpu, true, onehot.cpu), Error);
  vk().render_class_onehot(p.vk, labels.vk, true, onehot.vk);
  const std::vector<float> rows = vk().download(onehot.vk);
  for (int c = 0; c < 10; ++c) EXPECT_EQ(rows[size_t(10 + c)], 0.0f) << "class " << c;
  EXPECT_EQ(rows[5], 1.0f);
  EXPECT_EQ(rows[size_t(20 + 0)], 1.0f);
}

}  // namespace
}  // namespace drmm::test
