// `drmm data info|show`, run as a person would: exit status, stdout, stderr, written files.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "core/util/png_io.h"
#include "tests/cli/run_drmm.h"
#include "tests/core/dataset_test_files.h"

namespace drmm {
namespace {

using test::contains;
using test::TempDir;

using test::Outcome;

Outcome drmm(const TempDir& dir, const std::string& arguments) { return test::run_drmm(dir, arguments); }

bool fashion_mnist_installed() {
  return std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
}

TEST(DataCli, InfoOnFashionMnist) {
  if (!fashion_mnist_installed()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  TempDir dir;
  const Outcome run = drmm(dir, "data info fashion-mnist");
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_TRUE(contains(run.out, "60000"));
  EXPECT_TRUE(contains(run.out, "1x28x28"));
  EXPECT_TRUE(contains(run.out, "IDX (gzip)"));
  EXPECT_TRUE(contains(run.out, "Ankle boot"));
  EXPECT_TRUE(contains(drmm(dir, "data info fashion-mnist --split test").out, "10000"));
}

TEST(DataCli, InfoOnSyntheticListsNuisances) {
  TempDir dir;
  const Outcome run = drmm(dir, "data info synthetic --split test");
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_TRUE(contains(run.out, "images:    2000"));
  EXPECT_TRUE(contains(run.out, "triangle"));
  EXPECT_TRUE(contains(run.out, "rotation"));
  EXPECT_TRUE(contains(run.out, "intensity"));
}

TEST(DataCli, ShowWritesAnUpscaledPng) {
  TempDir dir;
  const Outcome run = drmm(dir, "data show synthetic --index 3 --out " + dir / "one.png");
  ASSERT_EQ(run.status, 0) << run.err;
  const Image8 image = read_png(dir / "one.png");
  EXPECT_EQ(image.width, 28 * 8);
  EXPECT_EQ(image.height, 28 * 8);
  EXPECT_TRUE(contains(run.out, "cross"));  // image 3 is the fourth class
}

TEST(DataCli, ShowWritesAGrid) {
  TempDir dir;
  const Outcome run = drmm(dir, "data show synthetic-rgb --index 0 --count 4 --scale 2 --out " + dir / "grid.png");
  ASSERT_EQ(run.status, 0) << run.err;
  const Image8 image = read_png(dir / "grid.png");
  EXPECT_EQ(image.channels, 3);
  EXPECT_EQ(image.width, 2 * 64 + 2);
}

TEST(DataCli, IndexOutOfRangeExits1) {
  TempDir dir;
  const Outcome run = drmm(dir, "data show synthetic --split test --index 2000 --out " + dir / "x.png");
  EXPECT_EQ(run.status, 1);
  EXPECT_TRUE(contains(run.err, "image 2000 is out of range (the dataset has 2000 images"));
  EXPECT_FALSE(std::filesystem::exists(dir / "x.png"));
}

TEST(DataCli, BadFileExits1NamingTheFile) {
  TempDir dir;
  test::write_file(dir / "junk.bin", {1, 2, 3, 4, 5});
  const Outcome run = drmm(dir, "data info " + dir / "junk.bin");
  EXPECT_EQ(run.status, 1);
  EXPECT_TRUE(contains(run.err, dir / "junk.bin: unrecognized format"));
}

TEST(DataCli, BadUsageExits2) {
  TempDir dir;
  EXPECT_EQ(drmm(dir, "data info").status, 2);                                  // no dataset
  EXPECT_EQ(drmm(dir, "data info synthetic --split validation").status, 2);    // unknown split
  EXPECT_EQ(drmm(dir, "data show synthetic --scale 0 --out x.png").status, 2);  // scale out of range
  EXPECT_EQ(drmm(dir, "data show synthetic").status, 2);                        // no --out
}

TEST(DataCli, HelpDescribesTheCommands) {
  TempDir dir;
  const Outcome run = drmm(dir, "data show --help");
  EXPECT_EQ(run.status, 0);
  EXPECT_TRUE(contains(run.out, "--count"));
  EXPECT_TRUE(contains(run.out, "CIFAR-10"));
}

}  // namespace
}  // namespace drmm
