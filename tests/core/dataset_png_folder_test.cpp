// Folders with one sub-folder of PNG images per class.
#include <gtest/gtest.h>

#include "core/data/dataset.h"
#include "core/util/png_io.h"
#include "tests/core/dataset_test_files.h"

namespace drmm {
namespace {

using test::contains;
using test::TempDir;

// A width x height image whose every byte is `value`.
Image8 flat_image(int width, int height, int channels, uint8_t value) {
  return {width, height, channels, std::vector<uint8_t>(size_t(width) * height * channels, value)};
}

void write_image(const std::string& path, const Image8& image) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  write_png(path, image);
}

std::string load_error(const std::string& spec, Split split = Split::Train) {
  return test::file_error_of([&] { load_dataset(spec, split); });
}

TEST(DatasetPngFolder, ClassesAreSortedSubFolders) {
  TempDir dir;
  write_image(dir / "dogs/b.png", flat_image(5, 4, 1, 200));
  write_image(dir / "dogs/a.png", flat_image(5, 4, 1, 100));
  write_image(dir / "cats/x.png", flat_image(5, 4, 1, 51));
  test::write_file(dir / "cats/notes.txt", {'h', 'i'});  // not an image: ignored
  const Dataset data = load_dataset(dir.str());
  EXPECT_EQ(data.format, "PNG folder");
  EXPECT_EQ(data.class_names, std::vector<std::string>({"cats", "dogs"}));
  EXPECT_EQ(data.labels, std::vector<int>({0, 1, 1}));
  EXPECT_EQ(data.channels, 1);
  EXPECT_EQ(data.height, 4);
  EXPECT_EQ(data.width, 5);
  EXPECT_FLOAT_EQ(data.image(0)[0], 0.2f);
  EXPECT_FLOAT_EQ(data.image(1)[7], 100.0f / 255.0f);  // a.png before b.png
  EXPECT_EQ(data.class_counts(), std::vector<size_t>({1, 2}));
  EXPECT_FALSE(has_split(dir.str(), Split::Test));
}

TEST(DatasetPngFolder, RgbaBecomesRgbAndLaterGrayIsSpreadOverChannels) {
  TempDir dir;
  Image8 rgba = flat_image(2, 2, 4, 0);
  for (size_t i = 0; i < 4; ++i) rgba.pixels[i * 4 + 0] = 255, rgba.pixels[i * 4 + 3] = 128;
  write_image(dir / "a/1.png", rgba);
  write_image(dir / "b/2.png", flat_image(2, 2, 1, 255));
  const Dataset data = load_dataset(dir.str());
  ASSERT_EQ(data.channels, 3);
  EXPECT_EQ(std::vector<float>(data.image(0).begin(), data.image(0).end()),
            std::vector<float>({1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}));  // red plane, green, blue
  EXPECT_EQ(std::vector<float>(data.image(1).begin(), data.image(1).end()), std::vector<float>(12, 1.0f));
}

TEST(DatasetPngFolderErrors, ImageOfDifferentSize) {
  TempDir dir;
  write_image(dir / "a/1.png", flat_image(5, 4, 1, 0));
  write_image(dir / "b/2.png", flat_image(4, 5, 1, 0));
  EXPECT_TRUE(contains(load_error(dir.str()),
                       dir / "b/2.png: is 4x5 pixels, but the first image is 5x4; all images must have the same size"));
}

TEST(DatasetPngFolderErrors, EmptyFolder) {
  TempDir dir;
  EXPECT_TRUE(contains(load_error(dir.str()), dir.str() + ": empty folder"));
}

TEST(DatasetPngFolderErrors, ClassFolderWithoutImages) {
  TempDir dir;
  write_image(dir / "a/1.png", flat_image(2, 2, 1, 0));
  std::filesystem::create_directories(dir / "b");
  EXPECT_TRUE(contains(load_error(dir.str()), dir / "b: class folder has no .png images"));
}

TEST(DatasetPngFolderErrors, FileThatIsNotAPng) {
  TempDir dir;
  test::write_file(dir / "a/1.png", {'n', 'o', 't', ' ', 'p', 'n', 'g', '!', '!'});
  EXPECT_TRUE(contains(load_error(dir.str()), dir / "a/1.png: not a PNG file"));
}

TEST(DatasetPngFolderErrors, TruncatedPng) {
  TempDir dir;
  write_image(dir / "a/1.png", flat_image(64, 64, 3, 7));
  test::Bytes bytes = test::read_file(dir / "a/1.png");
  bytes.resize(bytes.size() / 2);
  test::write_file(dir / "a/1.png", bytes);
  EXPECT_TRUE(contains(load_error(dir.str()), dir / "a/1.png: PNG error"));
}

TEST(DatasetPngFolderErrors, NoTestSplit) {
  TempDir dir;
  write_image(dir / "a/1.png", flat_image(2, 2, 1, 0));
  EXPECT_TRUE(contains(load_error(dir.str(), Split::Test), dir.str() + ": has no test split"));
}

}  // namespace
}  // namespace drmm
