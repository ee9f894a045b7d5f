#include "core/data/data_file.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/util/error.h"
#include "core/util/regular_file.h"

namespace drmm {
namespace {

namespace fs = std::filesystem;

// Deflate cannot expand by more than about 1032:1 (zlib FAQ, "What's the maximum compression
// ratio?"), so a gzip file of n bytes holds at most this many content bytes.
constexpr uint64_t kMaxDeflateRatio = 1032;
// Content is read in chunks of this size, so memory follows the bytes actually present.
constexpr size_t kChunkBytes = size_t(16) << 20;

bool starts_with_gzip_magic(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) throw FileError(path, std::string("cannot open for reading: ") + std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  const size_t got = std::fread(magic, 1, 2, file);
  std::fclose(file);
  return got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

}  // namespace

DataFile::DataFile(std::string path) : path_(std::move(path)) {
  stored_size_ = regular_file_size(path_);
  gzipped_ = starts_with_gzip_magic(path_);
  gz_ = gzopen(path_.c_str(), "rb");
  if (!gz_) throw FileError(path_, std::string("cannot open for reading: ") + std::strerror(errno));
  gzbuffer(gz_, 1 << 17);  // larger than the 8 KiB default: fewer system calls, faster inflate
}

DataFile::~DataFile() { gzclose(gz_); }

uint64_t DataFile::max_content_size() const {
  return gzipped_ ? stored_size_ * kMaxDeflateRatio : stored_size_;
}

void DataFile::throw_if_stream_error() {
  int code = Z_OK;
  const char* message = gzerror(gz_, &code);
  if (code == Z_OK) return;
  if (code == Z_BUF_ERROR) throw FileError(path_, "gzip data is truncated (the compressed stream ends early)");
  if (code == Z_ERRNO) throw FileError(path_, std::string("read error: ") + std::strerror(errno));
  // zlib's message starts with "<path>: ", which FileError adds already.
  std::string reason = message;
  if (reason.starts_with(path_ + ": ")) reason.erase(0, path_.size() + 2);
  throw FileError(path_, "gzip data is corrupt (" + reason + ")");
}

std::vector<uint8_t> DataFile::read_up_to(size_t count) {
  std::vector<uint8_t> bytes;
  while (bytes.size() < count) {
    const size_t chunk = std::min(count - bytes.size(), kChunkBytes);
    const size_t start = bytes.size();
    bytes.resize(start + chunk);
    const int got = gzread(gz_, bytes.data() + start, unsigned(chunk));
    if (got < 0) throw_if_stream_error();
    bytes.resize(start + size_t(std::max(got, 0)));
    if (got <= 0) break;
  }
  // A truncated gzip stream is reported as a short read plus a recorded error.
  throw_if_stream_error();
  position_ += bytes.size();
  return bytes;
}

std::vector<uint8_t> DataFile::read_exact(size_t count, const std::string& what) {
  const uint64_t start = position_;
  std::vector<uint8_t> bytes = read_up_to(count);
  if (bytes.size() < count)
    throw FileError(path_, "truncated: " + what + " needs " + std::to_string(count) + " bytes at offset " +
                               std::to_string(start) + ", but the " + (gzipped_ ? "decompressed " : "") +
                               "data ends after " + std::to_string(bytes.size()));
  return bytes;
}

void DataFile::expect_end(const std::string& what) {
  // One byte past the declared end is enough to know there is more.
  if (!read_up_to(1).empty())
    throw FileError(path_, "holds more data than its header declares (" + what + ")");
}

}  // namespace drmm
