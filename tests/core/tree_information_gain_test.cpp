// InfoMax's objective (paper 001 eq. 33) against hand-worked examples.
#include <gtest/gtest.h>

#include "core/tree/information_gain.h"
#include "core/util/error.h"

namespace drmm::tree {
namespace {

TEST(TreeInformationGain, EntropyOfUniformAndPureHistograms) {
  EXPECT_DOUBLE_EQ(entropy_bits(std::vector<double>{1, 1, 1, 1}), 2.0);
  EXPECT_DOUBLE_EQ(entropy_bits(std::vector<double>{5, 0, 0}), 0.0);
  EXPECT_DOUBLE_EQ(entropy_bits(std::vector<double>{}), 0.0);
  // H(1/4, 3/4) = −¼ log2 ¼ − ¾ log2 ¾ = 0.5 + 0.311278… = 0.811278…
  EXPECT_NEAR(entropy_bits(std::vector<double>{1, 3}), 0.8112781244591328, 1e-12);
}

TEST(TreeInformationGain, PerfectSplitOfTwoBalancedClassesGainsOneBit) {
  EXPECT_DOUBLE_EQ(information_gain({{2, 0}, {0, 2}}), 1.0);
}

TEST(TreeInformationGain, PartialSplit) {
  // Parent {4,4}: 1 bit. Children {3,1} and {1,3}: 0.811278 bits each, half the data each.
  EXPECT_NEAR(information_gain({{3, 1}, {1, 3}}), 1.0 - 0.8112781244591328, 1e-12);
}

TEST(TreeInformationGain, ThreeClassesThreeChildren) {
  // Parent {1,1,2}: H = 1.5 bits. Children {1,1,0} (H 1, weight ½), {0,0,2} (H 0), {0,0,0}.
  EXPECT_NEAR(information_gain({{1, 1, 0}, {0, 0, 2}, {0, 0, 0}}), 1.0, 1e-12);
}

TEST(TreeInformationGain, UninformativeSplitGainsNothing) {
  EXPECT_NEAR(information_gain({{1, 1}, {1, 1}}), 0.0, 1e-12);
  EXPECT_NEAR(information_gain({{2, 6, 4}, {1, 3, 2}}), 0.0, 1e-12);
}

TEST(TreeInformationGain, WeightedChildEntropyIsNTimesConditionalEntropy) {
  const NLogNTable nlogn(16);
  EXPECT_DOUBLE_EQ(nlogn(0), 0.0);
  EXPECT_DOUBLE_EQ(nlogn(1), 0.0);
  EXPECT_DOUBLE_EQ(nlogn(4), 8.0);
  // Children {3,1}, {1,3}: n · H[c̃|g] = 8 · 0.811278…
  EXPECT_NEAR(weighted_child_entropy(std::vector<int>{3, 1, 1, 3}, 2, 2, nlogn), 8 * 0.8112781244591328, 1e-12);
  // The parent {4,4} as a single child: 8 · 1 bit.
  EXPECT_NEAR(weighted_child_entropy(std::vector<int>{4, 4}, 1, 2, nlogn), 8.0, 1e-12);
}

TEST(TreeInformationGain, MismatchedChildrenAreAnError) {
  EXPECT_THROW(information_gain({{1, 2}, {1, 2, 3}}), Error);
}

}  // namespace
}  // namespace drmm::tree
