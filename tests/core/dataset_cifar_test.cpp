// CIFAR-10 binary batches: a single batch file, the release folder, and malformed files.
#include <gtest/gtest.h>

#include "core/data/dataset.h"
#include "tests/core/dataset_test_files.h"

namespace drmm {
namespace {

using test::Bytes;
using test::contains;
using test::TempDir;

std::string load_error(const std::string& spec, Split split = Split::Train) {
  return test::file_error_of([&] { load_dataset(spec, split); });
}

// The release layout: five training batches of `per_batch` records and a test batch.
void write_cifar_folder(const TempDir& dir, size_t per_batch) {
  for (int b = 1; b <= 5; ++b)
    test::write_file(dir / ("data_batch_" + std::to_string(b) + ".bin"), test::cifar_records(Bytes(per_batch, uint8_t(b))));
  test::write_file(dir / "test_batch.bin", test::cifar_records(Bytes(per_batch, 9)));
}

TEST(DatasetCifar, LoadsOneBatchFileAsChannelMajorImages) {
  TempDir dir;
  test::write_file(dir / "some_batch", test::cifar_records({3, 0, 9, 4}));
  const Dataset data = load_dataset(dir / "some_batch");
  EXPECT_EQ(data.format, "CIFAR-10 binary");
  ASSERT_EQ(data.size(), 4u);
  EXPECT_EQ(data.channels, 3);
  EXPECT_EQ(data.height, 32);
  EXPECT_EQ(data.width, 32);
  EXPECT_EQ(data.labels, std::vector<int>({3, 0, 9, 4}));
  ASSERT_EQ(data.num_classes(), 10);
  EXPECT_EQ(data.class_names[0], "airplane");
  EXPECT_EQ(data.class_names[9], "truck");
  // Record 2, green plane (bytes 1024..2047 of its pixels), row 1, column 3.
  EXPECT_FLOAT_EQ(data.image(2)[1024 + 32 + 3], float(uint8_t(2 + 1024 + 32 + 3)) / 255.0f);
}

TEST(DatasetCifar, ClassNamesComeFromBatchesMeta) {
  TempDir dir;
  test::write_file(dir / "data_batch_1.bin", test::cifar_records({0, 1}));
  const std::string meta = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n";
  test::write_file(dir / "batches.meta.txt", Bytes(meta.begin(), meta.end()));
  EXPECT_EQ(load_dataset(dir / "data_batch_1.bin").class_names[9], "j");
}

TEST(DatasetCifar, FolderHasFiveTrainingBatchesAndATestBatch) {
  TempDir dir;
  write_cifar_folder(dir, 3);
  const Dataset train = load_dataset(dir.str(), Split::Train);
  EXPECT_EQ(train.size(), 15u);
  EXPECT_EQ(train.labels.front(), 1);
  EXPECT_EQ(train.labels.back(), 5);
  EXPECT_TRUE(has_split(dir.str(), Split::Test));
  const Dataset test = load_dataset(dir.str(), Split::Test);
  EXPECT_EQ(test.size(), 3u);
  EXPECT_EQ(test.labels[0], 9);
  // A single training batch's test split is the test batch beside it.
  EXPECT_EQ(load_dataset(dir / "data_batch_2.bin", Split::Test).labels[0], 9);
}

TEST(DatasetCifarErrors, TruncatedBatchIsNotRecognized) {
  TempDir dir;
  Bytes bytes = test::cifar_records({1, 2});
  bytes.pop_back();
  test::write_file(dir / "data_batch_1.bin", bytes);
  const std::string message = load_error(dir / "data_batch_1.bin");
  EXPECT_TRUE(contains(message, dir / "data_batch_1.bin: unrecognized format"));
  EXPECT_TRUE(contains(message, "6145 bytes) is not a whole number of 3073-byte CIFAR-10 records"));
}

TEST(DatasetCifarErrors, TruncatedBatchInAFolder) {
  TempDir dir;
  write_cifar_folder(dir, 2);
  Bytes bytes = test::cifar_records({1, 2});
  bytes.resize(4000);
  test::write_file(dir / "data_batch_3.bin", bytes);
  EXPECT_TRUE(contains(load_error(dir.str()), dir / "data_batch_3.bin: is 4000 bytes, not a whole number of 3073-byte"));
}

TEST(DatasetCifarErrors, LabelOutOfRange) {
  TempDir dir;
  test::write_file(dir / "data_batch_1.bin", test::cifar_records({1, 2, 10}));
  EXPECT_TRUE(contains(load_error(dir / "data_batch_1.bin"),
                       dir / "data_batch_1.bin: record 2 has label 10, out of range (CIFAR-10 labels are 0..9)"));
}

TEST(DatasetCifarErrors, MissingBatchInFolder) {
  TempDir dir;
  write_cifar_folder(dir, 1);
  std::filesystem::remove(dir / "data_batch_4.bin");
  EXPECT_TRUE(contains(load_error(dir.str()), dir / "data_batch_4.bin: missing"));
}

TEST(DatasetCifarErrors, MetaFileWithWrongClassCount) {
  TempDir dir;
  test::write_file(dir / "data_batch_1.bin", test::cifar_records({0}));
  const std::string meta = "cat\ndog\nfrog\n";
  test::write_file(dir / "batches.meta.txt", Bytes(meta.begin(), meta.end()));
  EXPECT_TRUE(contains(load_error(dir / "data_batch_1.bin"),
                       dir / "batches.meta.txt: lists 3 class names, expected 10"));
}

TEST(DatasetCifarErrors, NoTestBatchBesideAFile) {
  TempDir dir;
  test::write_file(dir / "data_batch_1.bin", test::cifar_records({0}));
  EXPECT_FALSE(has_split(dir / "data_batch_1.bin", Split::Test));
  EXPECT_TRUE(contains(load_error(dir / "data_batch_1.bin", Split::Test), dir / "data_batch_1.bin: has no test split"));
}

}  // namespace
}  // namespace drmm
