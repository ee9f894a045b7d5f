// make_labeled_split: balanced per class, seeded, and a clear error when a class is short.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/data/dataset.h"
#include "core/data/synthetic.h"
#include "core/util/error.h"

namespace drmm {
namespace {

std::vector<size_t> per_class(const Dataset& data, const std::vector<size_t>& indices) {
  std::vector<size_t> counts(size_t(data.num_classes()), 0);
  for (const size_t i : indices) ++counts[size_t(data.labels[i])];
  return counts;
}

const Dataset& shapes() {
  static const Dataset data = make_synthetic({.count = 1000, .seed = 1});
  return data;
}

TEST(DatasetSplit, EqualPerClassAndCoversEveryImageOnce) {
  const LabeledSplit split = make_labeled_split(shapes(), 100, 42);
  EXPECT_EQ(per_class(shapes(), split.labeled), std::vector<size_t>(10, 10));
  std::vector<size_t> all = split.labeled;
  all.insert(all.end(), split.unlabeled.begin(), split.unlabeled.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), shapes().size());
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], i);
}

TEST(DatasetSplit, RemainderGoesToTheFirstClasses) {
  const LabeledSplit split = make_labeled_split(shapes(), 13, 1);
  EXPECT_EQ(per_class(shapes(), split.labeled), std::vector<size_t>({2, 2, 2, 1, 1, 1, 1, 1, 1, 1}));
}

TEST(DatasetSplit, SameSeedSameSplitOtherSeedOtherSplit) {
  EXPECT_EQ(make_labeled_split(shapes(), 50, 7).labeled, make_labeled_split(shapes(), 50, 7).labeled);
  EXPECT_NE(make_labeled_split(shapes(), 50, 7).labeled, make_labeled_split(shapes(), 50, 8).labeled);
}

TEST(DatasetSplit, ClassWithTooFewImagesIsAnError) {
  Dataset data = make_synthetic({.count = 40, .seed = 1});  // 4 images per class
  try {
    make_labeled_split(data, 50, 1);
    FAIL() << "expected drmm::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("class 'circle' has 4 images"), std::string::npos) << e.what();
  }
}

TEST(DatasetSplit, ClassCountsCountLabels) {
  Dataset data;
  data.class_names = {"a", "b", "c"};
  data.labels = {2, 0, 2, 2};
  EXPECT_EQ(data.class_counts(), std::vector<size_t>({1, 0, 3}));
}

}  // namespace
}  // namespace drmm
