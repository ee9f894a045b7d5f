#include "core/data/idx.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "core/data/bytes.h"
#include "core/data/data_file.h"
#include "core/data/pixels.h"
#include "core/util/error.h"

namespace drmm {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kMaxSide = 4096;                     // larger "images" mean a corrupt header
constexpr uint64_t kMaxPixelBytes = uint64_t(1) << 30;  // 1 GiB of bytes = 4 GiB of floats
constexpr size_t kMagicBytes = 4;

// Reads the magic and the dimension sizes that the magic announces.
std::vector<uint32_t> read_idx_header(DataFile& file, uint32_t expected_magic, const std::string& kind) {
  const std::vector<uint8_t> magic = file.read_exact(kMagicBytes, "the IDX magic number");
  const uint32_t found = big_endian_u32(magic.data());
  if (found != expected_magic)
    throw FileError(file.path(), "bad magic number " + hex32(found) + ", expected " + hex32(expected_magic) +
                                     " (an IDX " + kind + " file)");
  const size_t rank = expected_magic & 0xFF;
  const std::vector<uint8_t> sizes = file.read_exact(4 * rank, "the IDX header's dimension sizes");
  std::vector<uint32_t> dims(rank);
  for (size_t d = 0; d < rank; ++d) dims[d] = big_endian_u32(sizes.data() + 4 * d);
  return dims;
}

// Refuses a header that declares more data than the file can hold, before anything is read.
void check_declared_size(const DataFile& file, uint64_t declared, const std::string& what) {
  const uint64_t room = file.max_content_size() - std::min(file.max_content_size(), file.position());
  if (declared > room) {
    const std::string holds = file.gzipped()
                                  ? "a " + std::to_string(file.stored_size()) + "-byte gzip file cannot hold that"
                                  : "the file holds only " + std::to_string(room) + " bytes after the header";
    throw FileError(file.path(), "header declares " + what + " (" + std::to_string(declared) + " bytes), but " + holds);
  }
  if (declared > kMaxPixelBytes)
    throw FileError(file.path(), "header declares " + what + " (" + std::to_string(declared) +
                                     " bytes), more than the 1 GiB this program loads from one file");
}

struct IdxImages {
  uint32_t count = 0, height = 0, width = 0;
};

IdxImages read_images_header(DataFile& file) {
  const std::vector<uint32_t> dims = read_idx_header(file, kIdxImagesMagic, "images");
  const IdxImages header{dims[0], dims[1], dims[2]};
  if (header.count == 0) throw FileError(file.path(), "header declares 0 images");
  if (header.height == 0 || header.width == 0 || header.height > kMaxSide || header.width > kMaxSide)
    throw FileError(file.path(), "wrong image dimensions " + std::to_string(header.height) + "x" +
                                     std::to_string(header.width) + " (each side must be 1.." +
                                     std::to_string(kMaxSide) + ")");
  return header;
}

std::string describe_images(const IdxImages& header) {
  return std::to_string(header.count) + " images of " + std::to_string(header.height) + "x" +
         std::to_string(header.width);
}

std::vector<uint8_t> read_labels(const std::string& labels_path, const std::string& images_path,
                                 uint32_t image_count) {
  DataFile file(labels_path);
  const uint32_t count = read_idx_header(file, kIdxLabelsMagic, "labels")[0];
  if (count != image_count)
    throw FileError(labels_path, "has " + std::to_string(count) + " labels but " + images_path + " has " +
                                     std::to_string(image_count) + " images");
  const std::string what = std::to_string(count) + " labels";
  check_declared_size(file, count, what);
  std::vector<uint8_t> labels = file.read_exact(count, what);
  file.expect_end(what);
  return labels;
}

std::vector<std::string> numbered_class_names(std::span<const uint8_t> labels) {
  const int largest = *std::max_element(labels.begin(), labels.end());
  std::vector<std::string> names;
  for (int c = 0; c <= largest; ++c) names.push_back(std::to_string(c));
  return names;
}

void check_labels_in_range(std::span<const uint8_t> labels, size_t class_count, const std::string& labels_path) {
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] >= class_count)
      throw FileError(labels_path, "label " + std::to_string(labels[i]) + " of image " + std::to_string(i) +
                                       " is out of range (this dataset has " + std::to_string(class_count) +
                                       " classes, 0.." + std::to_string(class_count - 1) + ")");
}

// `path`, or the same name with ".gz" added or removed, whichever exists; "" if neither.
std::string existing_variant(const fs::path& path) {
  std::error_code error;
  if (fs::is_regular_file(path, error)) return path.string();
  fs::path other = path;
  if (path.extension() == ".gz")
    other.replace_extension();
  else
    other += ".gz";
  return fs::is_regular_file(other, error) ? other.string() : "";
}

// `text` with the first `from` replaced by `to`, or "" when `from` does not occur.
std::string replace_first(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  if (at == std::string::npos) return "";
  return text.replace(at, from.size(), to);
}

}  // namespace

std::string idx_labels_path_for(const std::string& images_path) {
  const fs::path images(images_path);
  const std::string name = replace_first(replace_first(images.filename().string(), "images", "labels"), "idx3", "idx1");
  return name.empty() ? "" : existing_variant(images.parent_path() / name);
}

std::string idx_test_path_for(const std::string& images_path) {
  const fs::path images(images_path);
  const std::string name = images.filename().string();
  if (!name.starts_with("train")) return "";
  return existing_variant(images.parent_path() / ("t10k" + name.substr(5)));
}

std::string find_idx_file(const std::string& folder, const std::string& stem) {
  return existing_variant(fs::path(folder) / (stem + ".gz"));
}

Dataset load_idx(const std::string& images_path, const std::string& labels_path,
                 std::span<const std::string> class_names) {
  DataFile images(images_path);
  const IdxImages header = read_images_header(images);
  const std::string what = describe_images(header);
  const uint64_t pixel_bytes = uint64_t(header.count) * header.height * header.width;
  check_declared_size(images, pixel_bytes, what);
  const std::vector<uint8_t> labels = read_labels(labels_path, images_path, header.count);
  const std::vector<uint8_t> pixels = images.read_exact(pixel_bytes, what);
  images.expect_end(what);

  Dataset data;
  data.name = images_path;
  data.format = "IDX (" + images.storage() + ")";
  data.channels = 1;
  data.height = int(header.height);
  data.width = int(header.width);
  append_units(pixels, data.pixels);
  data.labels.assign(labels.begin(), labels.end());
  if (class_names.empty()) {
    data.class_names = numbered_class_names(labels);
  } else {
    check_labels_in_range(labels, class_names.size(), labels_path);
    data.class_names.assign(class_names.begin(), class_names.end());
  }
  return data;
}

}  // namespace drmm
