// `drmm paths | sample | render | am`, run as a person would, on a short synthetic run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/util/png_io.h"
#include "tests/cli/run_drmm.h"

namespace drmm {
namespace {

using test::contains;
using test::Outcome;
using test::TempDir;

class GenerateCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    const Outcome run = test::run_drmm(*dir_, "train --data synthetic --model tiny --epochs 0.02 --threads 1 --test-limit 100 "
                                              "--render-limit 0 --quiet --out " + (*dir_ / "run"));
    ASSERT_EQ(run.status, 0) << run.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string checkpoint() { return *dir_ / "run/checkpoint.bin"; }
  static TempDir* dir_;
};
TempDir* GenerateCli::dir_ = nullptr;

TEST_F(GenerateCli, PathsWritesJsonPicturesAndStatistics) {
  const std::string out = *dir_ / "path";
  const Outcome r = test::run_drmm(*dir_, "paths --checkpoint " + checkpoint() + " --data synthetic --index 2 --stats 200 --out " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream json(out + "/path.json");
  std::stringstream text;
  text << json.rdbuf();
  EXPECT_TRUE(contains(text.str(), "\"levels\"")) << text.str().substr(0, 200);
  EXPECT_TRUE(contains(text.str(), "\"strongest\""));
  EXPECT_GT(read_png(out + "/path.png").width, 2 * 28 * 4);  // I, Î and the strongest units, 4× upscaled
  EXPECT_TRUE(std::filesystem::exists(out + "/level1.png"));
  EXPECT_TRUE(std::filesystem::exists(out + "/statistics.json"));
  EXPECT_TRUE(contains(r.out, "path overlap between classes")) << r.out;
}

TEST_F(GenerateCli, SampleAndRenderWriteGrids) {
  const Outcome s = test::run_drmm(*dir_, "sample --checkpoint " + checkpoint() + " --data synthetic --count 3 --conditional 200 --out " +
                                              (*dir_ / "samples"));
  ASSERT_EQ(s.status, 0) << s.err;
  EXPECT_TRUE(contains(s.out, "classified as the class they were drawn from")) << s.out;
  const Image8 grid = read_png(*dir_ / "samples/grid.png");
  EXPECT_EQ(grid.width, 3 * 28 * 4 + 2 * 2);
  EXPECT_EQ(grid.height, 10 * 28 * 4 + 9 * 2);  // a row per class
  const Outcome r = test::run_drmm(*dir_, "render --checkpoint " + checkpoint() + " --data synthetic --like-index 1 --out " +
                                              (*dir_ / "render.png"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_png(*dir_ / "render.png").width, 11 * 28 * 4 + 10 * 2);  // the image, then every class
}

TEST_F(GenerateCli, ActivityMaximizationBothWays) {
  const Outcome closed = test::run_drmm(*dir_, "am --checkpoint " + checkpoint() + " --data synthetic --class -1 --out " +
                                                   (*dir_ / "cf.png"));
  ASSERT_EQ(closed.status, 0) << closed.err;
  EXPECT_TRUE(contains(closed.out, "ms per class")) << closed.out;
  EXPECT_TRUE(contains(closed.out, "best score of class 9 among the first 1000 training images")) << closed.out;
  const Outcome gradient = test::run_drmm(*dir_, "am --checkpoint " + checkpoint() + " --method gradient --class 2 --steps 20 --out " +
                                                     (*dir_ / "g.png"));
  ASSERT_EQ(gradient.status, 0) << gradient.err;
  EXPECT_TRUE(contains(gradient.out, "after 20 steps")) << gradient.out;
  EXPECT_EQ(read_png(*dir_ / "g.png").width, 28 * 4);
}

TEST_F(GenerateCli, BadTargetsAreClearErrors) {
  const Outcome unit = test::run_drmm(*dir_, "am --checkpoint " + checkpoint() + " --method gradient --layer 2 --unit 999 --out x.png");
  EXPECT_EQ(unit.status, 1);
  EXPECT_TRUE(contains(unit.err, "has no unit 999")) << unit.err;
  const Outcome cls = test::run_drmm(*dir_, "sample --checkpoint " + checkpoint() + " --class 12 --conditional 0 --out " + (*dir_ / "s"));
  EXPECT_EQ(cls.status, 1);
  EXPECT_TRUE(contains(cls.err, "--class 12")) << cls.err;
  const Outcome index = test::run_drmm(*dir_, "paths --checkpoint " + checkpoint() + " --data synthetic --index 99999 --out " + (*dir_ / "p"));
  EXPECT_EQ(index.status, 1);
  EXPECT_TRUE(contains(index.err, "--index 99999 is out of range")) << index.err;
}

}  // namespace
}  // namespace drmm
