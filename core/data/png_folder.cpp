#include "core/data/png_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <vector>

#include "core/data/pixels.h"
#include "core/util/error.h"
#include "core/util/png_io.h"

namespace drmm {
namespace {

namespace fs = std::filesystem;

bool has_png_extension(const fs::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return extension == ".png";
}

// The entries of `folder` that pass `keep`, sorted by path.
template <typename Keep>
std::vector<fs::path> sorted_entries(const fs::path& folder, Keep keep) {
  std::vector<fs::path> entries;
  std::error_code error;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error))
    if (keep(*it)) entries.push_back(it->path());
  if (error) throw FileError(folder.string(), "cannot list the folder: " + error.message());
  std::sort(entries.begin(), entries.end());
  return entries;
}

std::vector<fs::path> class_folders(const fs::path& folder) {
  return sorted_entries(folder, [](const fs::directory_entry& entry) {
    std::error_code error;
    return entry.is_directory(error) && !entry.path().filename().string().starts_with(".");
  });
}

std::vector<fs::path> png_files(const fs::path& folder) {
  return sorted_entries(folder, [](const fs::directory_entry& entry) {
    std::error_code error;
    return entry.is_regular_file(error) && has_png_extension(entry.path());
  });
}

int dataset_channels(const Image8& image) { return image.channels == 1 ? 1 : 3; }

// Gray value of pixel `i`: ITU-R BT.601 luma, the weights most image tools use for "to gray".
float gray_at(const Image8& image, size_t i) {
  if (image.channels == 1) return unit_from_byte(image.pixels[i]);
  const uint8_t* rgb = image.pixels.data() + i * size_t(image.channels);
  return 0.299f * unit_from_byte(rgb[0]) + 0.587f * unit_from_byte(rgb[1]) + 0.114f * unit_from_byte(rgb[2]);
}

// Appends an interleaved 8-bit image as `channels` planes (CHW).
void append_planes(const Image8& image, int channels, std::vector<float>& out) {
  const size_t count = size_t(image.width) * size_t(image.height);
  for (int c = 0; c < channels; ++c) {
    for (size_t i = 0; i < count; ++i) {
      if (channels == 1)
        out.push_back(gray_at(image, i));
      else  // a gray source fills all three planes with its one channel
        out.push_back(unit_from_byte(image.pixels[i * size_t(image.channels) + size_t(std::min(c, image.channels - 1))]));
    }
  }
}

void add_image(const fs::path& path, int label, Dataset& data) {
  const Image8 image = read_png(path.string());
  if (data.labels.empty()) {
    data.channels = dataset_channels(image);
    data.height = image.height;
    data.width = image.width;
  } else if (image.width != data.width || image.height != data.height) {
    throw FileError(path.string(), "is " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                                       " pixels, but the first image is " + std::to_string(data.width) + "x" +
                                       std::to_string(data.height) + "; all images must have the same size");
  }
  append_planes(image, data.channels, data.pixels);
  data.labels.push_back(label);
}

}  // namespace

Dataset load_png_folder(const std::string& folder) {
  const std::vector<fs::path> classes = class_folders(folder);
  if (classes.empty())
    throw FileError(folder, "empty folder: expected one sub-folder of PNG images per class");
  Dataset data;
  data.name = folder;
  data.format = "PNG folder";
  for (const fs::path& class_folder : classes) {
    const std::vector<fs::path> files = png_files(class_folder);
    if (files.empty()) throw FileError(class_folder.string(), "class folder has no .png images");
    const int label = data.num_classes();
    data.class_names.push_back(class_folder.filename().string());
    for (const fs::path& file : files) add_image(file, label, data);
  }
  return data;
}

}  // namespace drmm
