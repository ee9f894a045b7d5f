#include "core/util/png_io.h"

#include <png.h>

#include <cstdio>
#include <memory>

#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/regular_file.h"

namespace drmm {
namespace {

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

// libpng reports errors through longjmp by default; we route them into an exception
// from a callback instead (C++ objects on the stack would otherwise leak).
[[noreturn]] void png_throw(png_structp png, png_const_charp message) {
  const auto* path = static_cast<const std::string*>(png_get_error_ptr(png));
  throw FileError(*path, std::string("PNG error: ") + message);
}
void png_ignore_warning(png_structp, png_const_charp) {}

int color_type_for(int channels) {
  switch (channels) {
    case 1: return PNG_COLOR_TYPE_GRAY;
    case 3: return PNG_COLOR_TYPE_RGB;
    case 4: return PNG_COLOR_TYPE_RGBA;
  }
  return -1;
}

// libpng's output callback: the encoded bytes go to memory, then to the file in one atomic save.
void append_bytes(png_structp png, png_bytep data, png_size_t size) {
  auto* bytes = static_cast<std::vector<char>*>(png_get_io_ptr(png));
  bytes->insert(bytes->end(), reinterpret_cast<const char*>(data), reinterpret_cast<const char*>(data) + size);
}
void flush_nothing(png_structp) {}

}  // namespace

void write_png(const std::string& path, const Image8& image) {
  const int color_type = color_type_for(image.channels);
  if (color_type < 0 || image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != size_t(image.width) * image.height * image.channels)
    throw FileError(path, "cannot write PNG: image has an invalid size or channel count");
  std::vector<char> bytes;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, const_cast<std::string*>(&path),
                                            png_throw, png_ignore_warning);
  png_infop info = png_create_info_struct(png);
  try {
    png_set_write_fn(png, &bytes, append_bytes, flush_nothing);
    png_set_IHDR(png, info, image.width, image.height, 8, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    const size_t stride = size_t(image.width) * image.channels;
    for (int y = 0; y < image.height; ++y)
      png_write_row(png, const_cast<png_bytep>(image.pixels.data() + y * stride));
    png_write_end(png, nullptr);
  } catch (...) {
    png_destroy_write_struct(&png, &info);
    throw;
  }
  png_destroy_write_struct(&png, &info);
  write_file_atomically(path, bytes);
}

Image8 read_png(const std::string& path) {
  regular_file_size(path);
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file) throw FileError(path, "cannot open for reading");
  unsigned char signature[8];
  if (std::fread(signature, 1, 8, file.get()) != 8 || png_sig_cmp(signature, 0, 8) != 0)
    throw FileError(path, "not a PNG file (bad signature)");
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, const_cast<std::string*>(&path),
                                           png_throw, png_ignore_warning);
  png_infop info = png_create_info_struct(png);
  Image8 image;
  try {
    png_init_io(png, file.get());
    png_set_sig_bytes(png, 8);
    // Refuse absurd headers before allocating (an untrusted size must not drive memory).
    png_set_user_limits(png, 16384, 16384);
    png_read_info(png, info);
    png_set_expand(png);       // palette → RGB, gray < 8 bit → 8 bit, tRNS → alpha
    png_set_strip_16(png);
    png_read_update_info(png, info);
    image.width = int(png_get_image_width(png, info));
    image.height = int(png_get_image_height(png, info));
    image.channels = int(png_get_channels(png, info));
    const size_t row_bytes = png_get_rowbytes(png, info);
    std::vector<uint8_t> raw(row_bytes * image.height);
    std::vector<png_bytep> rows(image.height);
    for (int y = 0; y < image.height; ++y) rows[y] = raw.data() + y * row_bytes;
    png_read_image(png, rows.data());
    png_read_end(png, nullptr);
    if (image.channels == 2) {  // gray + alpha: keep the gray
      image.channels = 1;
      image.pixels.resize(size_t(image.width) * image.height);
      for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = raw[2 * i];
    } else {
      image.pixels = std::move(raw);
    }
  } catch (...) {
    png_destroy_read_struct(&png, &info, nullptr);
    throw;
  }
  png_destroy_read_struct(&png, &info, nullptr);
  return image;
}

}  // namespace drmm
