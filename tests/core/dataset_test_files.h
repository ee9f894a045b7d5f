#pragma once
// Writers for the small dataset files the loader tests generate: a temporary folder, raw and
// gzip IDX files, CIFAR-10 records. Shared by tests/core/dataset_*_test.cpp and the CLI tests.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/util/error.h"

namespace drmm::test {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

// A fresh folder, named after the running test, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    // Outside a test (a suite's shared set-up) there is no test info: the suite's name stands in.
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const auto* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
    const std::string name = info ? std::string(info->test_suite_name()) + "_" + info->name()
                                  : std::string(suite ? suite->name() : "suite") + "_shared";
    path_ = fs::temp_directory_path() / ("drmm_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

inline void write_file(const std::string& path, const Bytes& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

inline void write_gzip(const std::string& path, const Bytes& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  ASSERT_EQ(gzwrite(file, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
  ASSERT_EQ(gzclose(file), Z_OK);
}

inline Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

inline void append_big_endian(Bytes& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(uint8_t(value >> shift));
}

// An IDX images file (LeCun's format): pixel k of the whole file is (k * 7) mod 256, so
// every position has a known, varied value.
inline Bytes idx_images(uint32_t count, uint32_t height, uint32_t width, uint32_t magic = 0x00000803) {
  Bytes out;
  append_big_endian(out, magic);
  for (uint32_t dim : {count, height, width}) append_big_endian(out, dim);
  for (size_t k = 0; k < size_t(count) * height * width; ++k) out.push_back(uint8_t(k * 7));
  return out;
}

inline Bytes idx_labels(const Bytes& labels, uint32_t magic = 0x00000801) {
  Bytes out;
  append_big_endian(out, magic);
  append_big_endian(out, uint32_t(labels.size()));
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

// CIFAR-10 records (Krizhevsky's binary format): a label byte, then 3072 pixel bytes whose
// value is (record + position) mod 256.
inline Bytes cifar_records(const Bytes& labels) {
  Bytes out;
  for (size_t r = 0; r < labels.size(); ++r) {
    out.push_back(labels[r]);
    for (size_t p = 0; p < 3072; ++p) out.push_back(uint8_t(r + p));
  }
  return out;
}

// Whether `text` contains `part`, with both shown when it does not.
inline ::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\"\n  does not contain \"" << part << "\"";
}

// The message of the drmm::FileError that `load` throws; fails the test if it throws
// nothing or something else.
template <typename Load>
std::string file_error_of(Load load) {
  try {
    load();
  } catch (const FileError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected drmm::FileError, got: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected drmm::FileError, nothing was thrown";
  return "";
}

}  // namespace drmm::test
