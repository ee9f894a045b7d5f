#include "core/data/cifar.h"

#include <filesystem>
#include <fstream>
#include <span>
#include <vector>

#include "core/data/data_file.h"
#include "core/data/pixels.h"
#include "core/util/error.h"

namespace drmm {
namespace {

namespace fs = std::filesystem;

constexpr int kTrainBatches = 5;
const char* const kTestBatch = "test_batch.bin";
const char* const kMetaFile = "batches.meta.txt";

std::vector<std::string> standard_class_names() {
  return {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
}

std::string train_batch_name(int number) { return "data_batch_" + std::to_string(number) + ".bin"; }

bool is_file(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error);
}

std::string trimmed(const std::string& line) {
  const char* space = " \t\r\n";
  const size_t first = line.find_first_not_of(space);
  if (first == std::string::npos) return "";
  return line.substr(first, line.find_last_not_of(space) - first + 1);
}

// batches.meta.txt in `folder` when present (one name per line; the release ends it with
// blank lines), else the names from Krizhevsky's page.
std::vector<std::string> class_names_in(const fs::path& folder) {
  const fs::path meta = folder / kMetaFile;
  if (!is_file(meta)) return standard_class_names();
  std::ifstream in(meta);
  if (!in) throw FileError(meta.string(), "cannot open for reading");
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);)
    if (std::string name = trimmed(line); !name.empty()) names.push_back(name);
  if (names.size() != size_t(kCifarClasses))
    throw FileError(meta.string(), "lists " + std::to_string(names.size()) + " class names, expected " +
                                       std::to_string(kCifarClasses));
  return names;
}

Dataset empty_cifar(const std::string& name) {
  Dataset data;
  data.name = name;
  data.format = "CIFAR-10 binary";
  data.channels = kCifarChannels;
  data.height = data.width = kCifarSide;
  return data;
}

void append_records(std::span<const uint8_t> bytes, const std::string& path, Dataset& data) {
  const size_t records = bytes.size() / kCifarRecordBytes;
  data.pixels.reserve(data.pixels.size() + records * (kCifarRecordBytes - 1));
  for (size_t r = 0; r < records; ++r) {
    const std::span<const uint8_t> record = bytes.subspan(r * kCifarRecordBytes, kCifarRecordBytes);
    if (record[0] >= kCifarClasses)
      throw FileError(path, "record " + std::to_string(r) + " has label " + std::to_string(record[0]) +
                                ", out of range (CIFAR-10 labels are 0..9)");
    data.labels.push_back(record[0]);
    append_units(record.subspan(1), data.pixels);
  }
}

// Reads one batch file into `data`, checking its size before reading anything.
void append_batch(const std::string& path, Dataset& data) {
  DataFile file(path);
  const uint64_t size = file.stored_size();
  if (file.gzipped()) throw FileError(path, "is gzip-compressed; CIFAR-10 batches are read uncompressed");
  if (size == 0 || size % kCifarRecordBytes != 0)
    throw FileError(path, "is " + std::to_string(size) + " bytes, not a whole number of " +
                              std::to_string(kCifarRecordBytes) +
                              "-byte CIFAR-10 records (1 label byte + 32x32x3 pixels): truncated or not CIFAR-10");
  append_records(file.read_exact(size, "the CIFAR-10 records"), path, data);
}

}  // namespace

bool is_cifar_folder(const std::string& folder) {
  return is_file(fs::path(folder) / train_batch_name(1)) || is_file(fs::path(folder) / kTestBatch);
}

std::string cifar_test_path_for(const std::string& batch_path) {
  const fs::path batch(batch_path);
  if (!batch.filename().string().starts_with("data_batch_")) return "";
  const fs::path test = batch.parent_path() / kTestBatch;
  return is_file(test) ? test.string() : "";
}

Dataset load_cifar_batch(const std::string& path) {
  Dataset data = empty_cifar(path);
  append_batch(path, data);
  data.class_names = class_names_in(fs::path(path).parent_path());
  return data;
}

Dataset load_cifar_folder(const std::string& folder, Split split) {
  Dataset data = empty_cifar(folder);
  std::vector<std::string> names;
  if (split == Split::Test) {
    names.push_back(kTestBatch);
  } else {
    for (int b = 1; b <= kTrainBatches; ++b) names.push_back(train_batch_name(b));
  }
  for (const std::string& name : names) {
    const fs::path path = fs::path(folder) / name;
    if (!is_file(path))
      throw FileError(path.string(), "missing: a CIFAR-10 folder holds data_batch_1.bin … data_batch_5.bin and " +
                                         std::string(kTestBatch));
    append_batch(path.string(), data);
  }
  data.class_names = class_names_in(folder);
  return data;
}

}  // namespace drmm
