#include "core/util/regular_file.h"

#include <filesystem>

#include "core/util/error.h"

namespace drmm {

uint64_t regular_file_size(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (error || !fs::exists(status)) throw FileError(path, "no such file");
  if (fs::is_directory(status)) throw FileError(path, "is a folder, expected a file");
  if (!fs::is_regular_file(status)) throw FileError(path, "is not a regular file (a pipe, device or socket)");
  const uint64_t size = fs::file_size(path, error);
  if (error) throw FileError(path, "cannot read its size: " + error.message());
  return size;
}

}  // namespace drmm
