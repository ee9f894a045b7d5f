// `drmm tree train | eval | path`, on pixels and on a trained DRMM's features, as a person runs them.
#include <gtest/gtest.h>

#include "tests/cli/run_drmm.h"

namespace drmm {
namespace {

using test::contains;
using test::Outcome;
using test::TempDir;

TEST(TreeCli, ForestOnPixelsTrainsEvaluatesAndShowsAPath) {
  TempDir dir;
  const std::string forest = dir / "pixels.bin";
  Outcome train = test::run_drmm(dir, "tree train --data synthetic --limit 2000 --trees 4 --depth 6 --threads 1 --out " + forest);
  ASSERT_EQ(train.status, 0) << train.err;
  EXPECT_TRUE(contains(train.out, "4 trees"));
  Outcome eval = test::run_drmm(dir, "tree eval --data synthetic --limit 500 --forest " + forest);
  ASSERT_EQ(eval.status, 0) << eval.err;
  EXPECT_TRUE(contains(eval.out, "accuracy:"));
  EXPECT_TRUE(contains(eval.out, "per class:"));
  Outcome path = test::run_drmm(dir, "tree path --data synthetic --index 3 --forest " + forest);
  ASSERT_EQ(path.status, 0) << path.err;
  EXPECT_TRUE(contains(path.out, "scores:"));
  EXPECT_TRUE(contains(path.out, "leaf p(c|path)"));
}

TEST(TreeCli, ForestOnTheFeaturesOfATrainedDrmm) {
  TempDir dir;
  const std::string run = dir / "run";
  Outcome drmm_run = test::run_drmm(
      dir, "train --data synthetic --model tiny --epochs 0.02 --threads 1 --test-limit 100 --quiet --out " + run);
  ASSERT_EQ(drmm_run.status, 0) << drmm_run.err;
  const std::string features = " --features-from " + run + "/checkpoint.bin --layer conv2";
  const std::string forest = dir / "features.bin";
  Outcome train = test::run_drmm(
      dir, "tree train --data synthetic --limit 1000 --trees 3 --depth 5 --threads 1 --out " + forest + features);
  ASSERT_EQ(train.status, 0) << train.err;
  EXPECT_TRUE(contains(train.out, "12544 per image"));  // conv2 of tiny: 64 × 14 × 14
  Outcome eval = test::run_drmm(dir, "tree eval --data synthetic --limit 300 --forest " + forest + features);
  ASSERT_EQ(eval.status, 0) << eval.err;
  EXPECT_TRUE(contains(eval.out, "accuracy:"));

  Outcome mismatch = test::run_drmm(dir, "tree eval --data synthetic --limit 300 --forest " + forest);
  EXPECT_EQ(mismatch.status, 1);
  EXPECT_TRUE(contains(mismatch.err, "12544 features per image"));
  Outcome bad_layer = test::run_drmm(dir, "tree eval --data synthetic --forest " + forest + " --features-from " + run +
                                              "/checkpoint.bin --layer conv9");
  EXPECT_EQ(bad_layer.status, 1);
  EXPECT_TRUE(contains(bad_layer.err, "layers: conv1, pool1, conv2"));
}

}  // namespace
}  // namespace drmm
