// `drmm rmm train` as a person runs it: the history, the templates and the assignments are
// written, the accuracy printed, and bad options are refused naming the option.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/util/png_io.h"
#include "tests/cli/run_drmm.h"

namespace drmm {
namespace {

using test::contains;
using test::Outcome;
using test::TempDir;

TEST(RmmCli, TrainsWritesTheHistoryTemplatesAndAssignments) {
  TempDir dir;
  const std::string out = dir / "rmm";
  Outcome run = test::run_drmm(dir, "rmm train --data synthetic --train-limit 1000 --test-limit 200 --shift 2 "
                                    "--iterations 3 --threads 1 --out " + out);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_TRUE(contains(run.out, "test accuracy:"));
  std::ifstream csv(out + "/likelihood.csv");
  std::stringstream text;
  text << csv.rdbuf();
  EXPECT_TRUE(contains(text.str(), "iteration,log_likelihood,changed,train_accuracy,test_accuracy,seconds\n1,"));
  EXPECT_TRUE(contains(text.str(), "\n3,"));
  const Image8 templates = read_png(out + "/templates.png");
  EXPECT_EQ(templates.width, 4 * (4 * 28) + 3 * 2);  // ten 28×28 templates at scale 4, four a row
  EXPECT_GT(read_png(out + "/assignments.png").width, 0);
}

TEST(RmmCli, RefusesBadOptionsNamingThem) {
  TempDir dir;
  Outcome shift = test::run_drmm(dir, "rmm train --data synthetic --train-limit 100 --shift 40 --out " + (dir / "x"));
  EXPECT_EQ(shift.status, 1);
  EXPECT_TRUE(contains(shift.err, "--shift 40")) << shift.err;
  Outcome mode = test::run_drmm(dir, "rmm train --data synthetic --mode sometimes --out " + (dir / "x"));
  EXPECT_EQ(mode.status, 2);
  EXPECT_TRUE(contains(mode.err, "--mode")) << mode.err;
  Outcome clusters = test::run_drmm(dir, "rmm train --data synthetic --train-limit 5 --mode unsupervised --clusters 9 --out " +
                                             (dir / "x"));
  EXPECT_EQ(clusters.status, 1);
  EXPECT_TRUE(contains(clusters.err, "--clusters 9")) << clusters.err;
}

}  // namespace
}  // namespace drmm
