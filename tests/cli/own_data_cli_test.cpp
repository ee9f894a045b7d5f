// A person's own data: a folder of PNG images in 3 classes, RGB, of a size no preset was made
// for. Every preset's stack is fitted to it (the class layer gets one filter per class), `drmm
// data info` says which presets fit, and one that cannot take the images is refused naming
// its layer.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/util/png_io.h"
#include "tests/cli/run_drmm.h"

namespace drmm {
namespace {

using test::contains;
using test::Outcome;
using test::TempDir;

// `per_class` RGB images per class of size×size: class c is a bright square in corner c on a
// dark ground, each image shifted a little so the classes are learnable but not identical.
void write_class_folders(const std::string& root, int classes, int per_class, int size) {
  for (int c = 0; c < classes; ++c) {
    const std::string folder = root + "/class" + std::to_string(c);
    std::filesystem::create_directories(folder);
    for (int i = 0; i < per_class; ++i) {
      Image8 image{size, size, 3, std::vector<uint8_t>(size_t(size) * size * 3, 20)};
      const int x0 = (c % 2) * size / 2 + i % 2, y0 = (c / 2) * size / 2 + i % 3;
      for (int y = y0; y < std::min(size, y0 + size / 3); ++y)
        for (int x = x0; x < std::min(size, x0 + size / 3); ++x)
          for (int k = 0; k < 3; ++k) image.pixels[(size_t(y) * size + x) * 3 + k] = uint8_t(80 * (k + 1));
      write_png(folder + "/" + std::to_string(i) + ".png", image);
    }
  }
}

TEST(OwnDataCli, ThreeClassRgbFolderTrainsWithEveryPresetThatFits) {
  TempDir dir;
  const std::string data = dir / "shapes";
  write_class_folders(data, 3, 20, 16);

  const Outcome info = test::run_drmm(dir, "data info " + data);
  ASSERT_EQ(info.status, 0) << info.err;
  EXPECT_TRUE(contains(info.out, "shape:     3x16x16")) << info.out;
  EXPECT_TRUE(contains(info.out, "classes:   3")) << info.out;
  EXPECT_TRUE(contains(info.out, "presets:")) << info.out;
  EXPECT_TRUE(contains(info.out, "tiny        fits")) << info.out;

  const Outcome train = test::run_drmm(dir, "train --data " + data + " --model tiny --labeled 6 --batch 10 --epochs 2 "
                                            "--threads 1 --quiet --out " + (dir / "run"));
  ASSERT_EQ(train.status, 0) << train.err;
  const Outcome eval =
      test::run_drmm(dir, "eval --checkpoint " + (dir / "run/checkpoint.bin") + " --data " + data + " --split train --threads 1");
  ASSERT_EQ(eval.status, 0) << eval.err;
  EXPECT_TRUE(contains(eval.out, "accuracy")) << eval.out;
}

TEST(OwnDataCli, ImagesTooSmallForAPresetAreRefusedNamingTheLayer) {
  TempDir dir;
  const std::string data = dir / "tiny-images";
  write_class_folders(data, 2, 4, 6);
  const Outcome info = test::run_drmm(dir, "data info " + data);
  ASSERT_EQ(info.status, 0) << info.err;
  EXPECT_TRUE(contains(info.out, "tiny        does not fit: model 'tiny', layer pool2")) << info.out;
  const Outcome train = test::run_drmm(dir, "train --data " + data + " --model tiny --labeled 2 --batch 4 --epochs 1 "
                                            "--threads 1 --quiet --out " + (dir / "run"));
  EXPECT_EQ(train.status, 1);
  EXPECT_TRUE(contains(train.err, "layer pool2")) << train.err;
  EXPECT_TRUE(contains(train.err, "3×6×6 images with 2 classes")) << train.err;
}

}  // namespace
}  // namespace drmm
