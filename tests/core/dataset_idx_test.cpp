// IDX loading (MNIST / Fashion-MNIST format), raw and gzip, and one test per malformed file.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "core/data/dataset.h"
#include "tests/core/dataset_test_files.h"

namespace drmm {
namespace {

using test::Bytes;
using test::file_error_of;
using test::TempDir;

const char* const kImages = "train-images-idx3-ubyte";
const char* const kLabels = "train-labels-idx1-ubyte";
const Bytes kFiveLabels = {0, 2, 1, 2, 0};

// A valid train pair of five 3x4 images in `dir`, raw or gzip.
std::string write_idx_pair(const TempDir& dir, bool gzip, const std::string& prefix = "train") {
  const std::string suffix = gzip ? ".gz" : "";
  const std::string images = dir / (prefix + "-images-idx3-ubyte" + suffix);
  const auto write = gzip ? test::write_gzip : test::write_file;
  write(images, test::idx_images(5, 3, 4));
  write(dir / (prefix + "-labels-idx1-ubyte" + suffix), test::idx_labels(kFiveLabels));
  return images;
}

std::string load_error(const std::string& spec, Split split = Split::Train) {
  return file_error_of([&] { load_dataset(spec, split); });
}

TEST(DatasetIdx, LoadsRawImagesAndTheLabelsBesideThem) {
  TempDir dir;
  const std::string images = write_idx_pair(dir, false);
  const Dataset data = load_dataset(images);
  EXPECT_EQ(data.name, images);
  EXPECT_EQ(data.format, "IDX (raw)");
  ASSERT_EQ(data.size(), 5u);
  EXPECT_EQ(data.channels, 1);
  EXPECT_EQ(data.height, 3);
  EXPECT_EQ(data.width, 4);
  EXPECT_EQ(data.labels, std::vector<int>({0, 2, 1, 2, 0}));
  EXPECT_EQ(data.class_names, std::vector<std::string>({"0", "1", "2"}));
  ASSERT_EQ(data.pixels.size(), 60u);
  EXPECT_FLOAT_EQ(data.image(2)[5], float(uint8_t((2 * 12 + 5) * 7)) / 255.0f);
  EXPECT_TRUE(data.nuisance_names.empty());
}

TEST(DatasetIdx, GzipGivesTheSameDataAsRaw) {
  TempDir raw_dir, gzip_dir;
  const Dataset raw = load_dataset(write_idx_pair(raw_dir, false));
  const Dataset gzip = load_dataset(write_idx_pair(gzip_dir, true));
  EXPECT_EQ(gzip.format, "IDX (gzip)");
  EXPECT_EQ(gzip.pixels, raw.pixels);
  EXPECT_EQ(gzip.labels, raw.labels);
}

TEST(DatasetIdx, DetectsGzipFromContentNotName) {
  TempDir dir;
  test::write_gzip(dir / kImages, test::idx_images(5, 3, 4));  // gzip without .gz
  test::write_file(dir / kLabels, test::idx_labels(kFiveLabels));
  EXPECT_EQ(load_dataset(dir / kImages).size(), 5u);
}

TEST(DatasetIdx, TestSplitIsTheT10kSibling) {
  TempDir dir;
  const std::string train = write_idx_pair(dir, true);
  EXPECT_FALSE(has_split(train, Split::Test));
  const std::string test_images = dir / "t10k-images-idx3-ubyte.gz";
  test::write_gzip(test_images, test::idx_images(2, 3, 4));
  test::write_gzip(dir / "t10k-labels-idx1-ubyte.gz", test::idx_labels({1, 1}));
  EXPECT_TRUE(has_split(train, Split::Test));
  EXPECT_EQ(load_dataset(train, Split::Test).size(), 2u);
  EXPECT_EQ(load_dataset(dir.str(), Split::Test).size(), 2u);  // a folder of IDX files too
  EXPECT_EQ(load_dataset(dir.str(), Split::Train).size(), 5u);
  EXPECT_FALSE(has_split(test_images, Split::Test));
}

TEST(DatasetIdx, NamedFashionMnistReadsTheFolderInItsVariable) {
  TempDir dir;
  write_idx_pair(dir, true);
  ::setenv("DRMM_FASHION_MNIST_DIR", dir.str().c_str(), 1);
  const Dataset data = load_dataset("fashion-mnist");
  ::unsetenv("DRMM_FASHION_MNIST_DIR");
  EXPECT_EQ(data.name, "fashion-mnist");
  ASSERT_EQ(data.num_classes(), 10);
  EXPECT_EQ(data.class_names[9], "Ankle boot");
}

TEST(DatasetIdx, MissingMnistSaysWhereToPutIt) {
  TempDir dir;
  ::setenv("DRMM_MNIST_DIR", (dir / "absent").c_str(), 1);
  const std::string message = load_error("mnist");
  ::unsetenv("DRMM_MNIST_DIR");
  EXPECT_TRUE(test::contains(message, dir / "absent"));
  EXPECT_TRUE(test::contains(message, "DRMM_MNIST_DIR"));
}

// ---- malformed files: each error names the file and the problem ----

TEST(DatasetIdxErrors, UnknownMagic) {
  TempDir dir;
  test::write_file(dir / kImages, test::idx_images(5, 3, 4, 0x00000804));
  const std::string message = load_error(dir / kImages);
  EXPECT_TRUE(test::contains(message, dir / kImages));
  EXPECT_TRUE(test::contains(message, "0x00000804"));
  EXPECT_TRUE(test::contains(message, "not the IDX images magic"));
}

TEST(DatasetIdxErrors, LabelsFileWithWrongMagic) {
  TempDir dir;
  test::write_file(dir / kImages, test::idx_images(5, 3, 4));
  test::write_file(dir / kLabels, test::idx_labels(kFiveLabels, 0x00000802));
  const std::string message = load_error(dir / kImages);
  EXPECT_TRUE(test::contains(message, dir / kLabels + ": bad magic number 0x00000802, expected 0x00000801"));
}

TEST(DatasetIdxErrors, LabelsFileGivenInsteadOfImages) {
  TempDir dir;
  write_idx_pair(dir, false);
  EXPECT_TRUE(test::contains(load_error(dir / kLabels), dir / kLabels + ": is an IDX labels file"));
}

TEST(DatasetIdxErrors, TruncatedHeader) {
  TempDir dir;
  Bytes bytes = test::idx_images(5, 3, 4);
  bytes.resize(10);
  test::write_file(dir / kImages, bytes);
  test::write_file(dir / kLabels, test::idx_labels(kFiveLabels));
  const std::string message = load_error(dir / kImages);
  EXPECT_TRUE(test::contains(message, dir / kImages + ": truncated"));
  EXPECT_TRUE(test::contains(message, "header"));
}

TEST(DatasetIdxErrors, HeaderClaimsMoreImagesThanTheFileHolds) {
  TempDir dir;
  Bytes bytes = test::idx_images(5, 3, 4);
  bytes.resize(bytes.size() - 12);  // the last image is missing
  test::write_file(dir / kImages, bytes);
  test::write_file(dir / kLabels, test::idx_labels(kFiveLabels));
  EXPECT_TRUE(test::contains(load_error(dir / kImages),
              dir / kImages + ": header declares 5 images of 3x4 (60 bytes), but the file holds only 48"));
}

TEST(DatasetIdxErrors, HugeHeaderCountIsRefusedBeforeAllocating) {
  TempDir dir;
  Bytes bytes = test::idx_images(5, 28, 28);
  bytes[4] = 0x7F;  // count 0x7F000005: 2.1e9 images of 28x28, 1.7 TB
  test::write_file(dir / kImages, bytes);
  test::write_file(dir / kLabels, test::idx_labels(kFiveLabels));
  EXPECT_TRUE(test::contains(load_error(dir / kImages),
                             dir / kImages + ": header declares 2130706437 images of 28x28 (1670473846608 bytes), "
                                             "but the file holds only 3920 bytes after the header"));
}

TEST(DatasetIdxErrors, HugeHeaderCountInGzipIsRefused) {
  TempDir dir;
  Bytes bytes = test::idx_images(5, 28, 28);
  bytes[5] = 0x7F;  // count 0x007F0005: 8.3 million images, 6.5 GB claimed by a tiny gzip file
  test::write_gzip(dir / kImages, bytes);
  test::write_gzip(dir / kLabels, test::idx_labels(kFiveLabels));
  const std::string message = load_error(dir / kImages);
  EXPECT_TRUE(test::contains(message, dir / kImages + ": header declares 8323077 images of 28x28"));
  EXPECT_TRUE(test::contains(message, "gzip file cannot hold that"));
}

TEST(DatasetIdxErrors, ExtraDataAfterTheDeclaredImages) {
  TempDir dir;
  Bytes bytes = test::idx_images(5, 3, 4);
  bytes.push_back(0);
  test::write_gzip(dir / kImages, bytes);
  test::write_gzip(dir / kLabels, test::idx_labels(kFiveLabels));
  EXPECT_TRUE(test::contains(load_error(dir / kImages), dir / kImages + ": holds more data than its header declares"));
}

TEST(DatasetIdxErrors, ImageAndLabelCountsDisagree) {
  TempDir dir;
  test::write_file(dir / kImages, test::idx_images(5, 3, 4));
  test::write_file(dir / kLabels, test::idx_labels({0, 1, 2, 3}));
  const std::string message = load_error(dir / kImages);
  EXPECT_TRUE(test::contains(message, dir / kLabels + ": has 4 labels but " + dir / kImages + " has 5 images"));
}

TEST(DatasetIdxErrors, ZeroSizedImages) {
  TempDir dir;
  test::write_file(dir / kImages, test::idx_images(5, 0, 4));
  test::write_file(dir / kLabels, test::idx_labels(kFiveLabels));
  EXPECT_TRUE(test::contains(load_error(dir / kImages), dir / kImages + ": wrong image dimensions 0x4"));
}

TEST(DatasetIdxErrors, ZeroImages) {
  TempDir dir;
  test::write_file(dir / kImages, test::idx_images(0, 3, 4));
  test::write_file(dir / kLabels, test::idx_labels({}));
  EXPECT_TRUE(test::contains(load_error(dir / kImages), dir / kImages + ": header declares 0 images"));
}

TEST(DatasetIdxErrors, LabelOutOfRangeForANamedDataset) {
  TempDir dir;
  test::write_gzip(dir / (kImages + std::string(".gz")), test::idx_images(5, 3, 4));
  test::write_gzip(dir / (kLabels + std::string(".gz")), test::idx_labels({0, 1, 2, 10, 3}));
  ::setenv("DRMM_FASHION_MNIST_DIR", dir.str().c_str(), 1);
  const std::string message = load_error("fashion-mnist");
  ::unsetenv("DRMM_FASHION_MNIST_DIR");
  EXPECT_TRUE(test::contains(message, dir / kLabels + ".gz: label 10 of image 3 is out of range"));
}

TEST(DatasetIdxErrors, MissingLabelsFile) {
  TempDir dir;
  test::write_file(dir / kImages, test::idx_images(5, 3, 4));
  EXPECT_TRUE(test::contains(load_error(dir / kImages), dir / kImages + ": found no labels file beside it"));
}

TEST(DatasetIdxErrors, NoSuchPath) {
  TempDir dir;
  EXPECT_TRUE(test::contains(load_error(dir / "nothing"), dir / "nothing" + ": no such file or folder"));
}

// gzip damage, made on a real gzip stream (RFC 1952: 10-byte header, deflate data, then
// CRC-32 and size as the last 8 bytes).
class DatasetGzipErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_gzip(dir_ / kImages, test::idx_images(50, 28, 28));
    test::write_gzip(dir_ / kLabels, test::idx_labels(Bytes(50, 1)));
    compressed_ = test::read_file(dir_ / kImages);
  }
  std::string error_after_writing(const Bytes& damaged) {
    test::write_file(dir_ / kImages, damaged);
    return load_error(dir_ / kImages);
  }
  TempDir dir_;
  Bytes compressed_;
};

TEST_F(DatasetGzipErrors, WrongChecksum) {
  compressed_[compressed_.size() - 8] ^= 0xFF;
  EXPECT_TRUE(test::contains(error_after_writing(compressed_), dir_ / kImages + ": gzip data is corrupt (incorrect data check)"));
}

TEST_F(DatasetGzipErrors, TruncatedStream) {
  compressed_.resize(compressed_.size() / 2);
  EXPECT_TRUE(test::contains(error_after_writing(compressed_), dir_ / kImages + ": gzip data is truncated"));
}

TEST_F(DatasetGzipErrors, BadCompressionMethod) {
  compressed_[2] = 7;  // only 8 (deflate) is defined
  EXPECT_TRUE(test::contains(error_after_writing(compressed_), dir_ / kImages + ": gzip data is corrupt"));
}

TEST_F(DatasetGzipErrors, GarbageInTheDeflateData) {
  for (size_t i = 12; i < 40; ++i) compressed_[i] = uint8_t(i * 37);
  EXPECT_TRUE(test::contains(error_after_writing(compressed_), dir_ / kImages + ": "));
}

// ---- the real Fashion-MNIST from the Debian package ----

// The load time is printed, not asserted: a timed unit test fails on a busy machine (speed
// figures live in benchmarks).
TEST(DatasetFashionMnist, LoadsTheInstalledFiles) {
  if (!has_split("/usr/share/datasets/fashion-mnist", Split::Train) || std::getenv("DRMM_FASHION_MNIST_DIR"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const auto start = std::chrono::steady_clock::now();
  const Dataset train = load_dataset("fashion-mnist", Split::Train);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ info     ] fashion-mnist train (gzip) loaded in " << seconds << " s\n";
  EXPECT_EQ(train.size(), 60000u);
  EXPECT_EQ(train.channels, 1);
  EXPECT_EQ(train.height, 28);
  EXPECT_EQ(train.width, 28);
  EXPECT_EQ(train.num_classes(), 10);
  EXPECT_EQ(train.class_counts(), std::vector<size_t>(10, 6000));
  const Dataset test = load_dataset("fashion-mnist", Split::Test);
  EXPECT_EQ(test.size(), 10000u);
  EXPECT_EQ(test.class_counts(), std::vector<size_t>(10, 1000));
  EXPECT_NEAR(train.mean_pixel_energy(), 0.2062, 0.0005);  // E[I²] = 0.3530² + 0.2860²
}

TEST(Dataset, MeanPixelEnergyIsTheMeanSquaredPixelAndOneWhenBlack) {
  Dataset data;
  data.pixels = {0.0f, 0.5f, -1.0f, 2.0f};
  EXPECT_DOUBLE_EQ(data.mean_pixel_energy(), (0.25 + 1.0 + 4.0) / 4);
  data.pixels = {0.0f, 0.0f};
  EXPECT_EQ(data.mean_pixel_energy(), 1.0);
}

}  // namespace
}  // namespace drmm
