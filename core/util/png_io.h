#pragma once
// PNG files for exports and for folder datasets (libpng; core/ cannot use Qt).
#include <cstdint>
#include <string>
#include <vector>

namespace drmm {

struct Image8 {
  int width = 0, height = 0, channels = 0;  // channels: 1 (gray), 3 (RGB) or 4 (RGBA)
  std::vector<uint8_t> pixels;              // row-major, interleaved
};

// Writes the image atomically (core/util/atomic_file.h); throws drmm::FileError (path and
// reason) when it cannot, leaving any previous file unchanged.
void write_png(const std::string& path, const Image8& image);
// Reads any PNG as 8-bit gray, RGB or RGBA (palette and 16-bit are converted); throws
// drmm::FileError naming the file and the problem when the file is not a valid PNG.
Image8 read_png(const std::string& path);

}  // namespace drmm
