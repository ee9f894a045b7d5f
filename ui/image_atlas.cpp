#include "ui/image_atlas.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace drmm::ui {
namespace {

uint8_t to_byte(float v) {  // v already mapped to [0,1]
  if (!(v > 0.0f)) return 0;  // also NaN → black, so a diverged model shows as black, not noise
  if (v >= 1.0f) return 255;
  return uint8_t(std::lround(v * 255.0f));
}

// The affine map value → [0,1] for one image, chosen by the normalisation.
struct ValueMap {
  float offset = 0, scale = 1;
  float operator()(float v) const { return (v - offset) * scale; }
};

ValueMap value_map(const ImageView& image, Normalization normalization) {
  const size_t count = size_t(image.channels) * size_t(image.height) * size_t(image.width);
  if (normalization == Normalization::UnitRange || count == 0) return {};
  float lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < count; ++i) {
    const float v = image.data[i];
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (!(lo <= hi)) return {};
  if (normalization == Normalization::MinMax) {
    const float range = hi - lo;
    return {lo, range > 1e-12f ? 1.0f / range : 0.0f};
  }
  const float extent = std::max(std::abs(lo), std::abs(hi));  // Symmetric
  if (extent <= 1e-12f) return {-1.0f, 0.5f};                // all zero: mid-gray
  return {-extent, 0.5f / extent};
}

}  // namespace

void draw_image(const ImageView& image, Normalization normalization, RgbaImage& out, int x, int y) {
  if (image.width <= 0 || image.height <= 0 || image.data == nullptr) return;
  const ValueMap map = value_map(image, normalization);
  const size_t plane = size_t(image.height) * size_t(image.width);
  const bool rgb = image.channels == 3;
  for (int row = 0; row < image.height; ++row) {
    const int oy = y + row;
    if (oy < 0 || oy >= out.height) continue;
    for (int col = 0; col < image.width; ++col) {
      const int ox = x + col;
      if (ox < 0 || ox >= out.width) continue;
      const size_t at = size_t(row) * size_t(image.width) + size_t(col);
      uint8_t* pixel = &out.pixels[(size_t(oy) * size_t(out.width) + size_t(ox)) * 4];
      if (rgb) {
        for (int c = 0; c < 3; ++c) pixel[c] = to_byte(map(image.data[size_t(c) * plane + at]));
      } else {
        const uint8_t gray = to_byte(map(image.data[at]));
        pixel[0] = pixel[1] = pixel[2] = gray;
      }
      pixel[3] = 255;
    }
  }
}

int square_columns(size_t count) {
  int columns = 1;
  while (size_t(columns) * size_t(columns) < count) ++columns;
  return columns;
}

ImageAtlas build_atlas(std::span<const AtlasItem> items, int columns, int padding) {
  ImageAtlas atlas;
  if (items.empty()) return atlas;
  columns = std::clamp(columns, 1, int(items.size()));
  int cell_w = 1, cell_h = 1;
  for (const AtlasItem& item : items) {
    cell_w = std::max(cell_w, item.image.width);
    cell_h = std::max(cell_h, item.image.height);
  }
  const int rows = int((items.size() + size_t(columns) - 1) / size_t(columns));
  atlas.columns = columns;
  atlas.image.width = columns * (cell_w + padding) + padding;
  atlas.image.height = rows * (cell_h + padding) + padding;
  atlas.image.pixels.assign(size_t(atlas.image.width) * size_t(atlas.image.height) * 4, 0);
  atlas.tiles.reserve(items.size());
  const float inv_w = 1.0f / float(atlas.image.width), inv_h = 1.0f / float(atlas.image.height);
  for (size_t i = 0; i < items.size(); ++i) {
    const AtlasItem& item = items[i];
    AtlasTile tile;
    tile.x = padding + int(i % size_t(columns)) * (cell_w + padding);
    tile.y = padding + int(i / size_t(columns)) * (cell_h + padding);
    tile.width = item.image.width;
    tile.height = item.image.height;
    tile.u0 = float(tile.x) * inv_w;
    tile.v0 = float(tile.y) * inv_h;
    tile.u1 = float(tile.x + tile.width) * inv_w;
    tile.v1 = float(tile.y + tile.height) * inv_h;
    draw_image(item.image, item.normalization, atlas.image, tile.x, tile.y);
    atlas.tiles.push_back(tile);
  }
  return atlas;
}

uint64_t content_hash(const ImageF& image, uint64_t seed) {
  // 64-bit mix per float word (splitmix-style): ~0.1 ms for a strip of probes, far cheaper than
  // building and uploading the atlas it guards.
  uint64_t h = seed ^ 0x9e3779b97f4a7c15ull;
  const auto mix = [&h](uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xbf58476d1ce4e5b9ull;
  };
  mix(uint64_t(image.channels) << 40 | uint64_t(image.height) << 20 | uint64_t(image.width));
  for (float v : image.data) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    mix(bits);
  }
  return h;
}

RgbaImage image_to_rgba(const ImageView& image, Normalization normalization) {
  RgbaImage out;
  out.width = image.width;
  out.height = image.height;
  out.pixels.assign(size_t(out.width) * size_t(out.height) * 4, 0);
  draw_image(image, normalization, out, 0, 0);
  return out;
}

RgbaImage scale_nearest(const RgbaImage& image, int factor) {
  factor = std::max(factor, 1);
  RgbaImage out;
  out.width = image.width * factor;
  out.height = image.height * factor;
  out.pixels.resize(size_t(out.width) * size_t(out.height) * 4);
  for (int y = 0; y < out.height; ++y) {
    const uint8_t* src_row = &image.pixels[size_t(y / factor) * size_t(image.width) * 4];
    uint8_t* dst = &out.pixels[size_t(y) * size_t(out.width) * 4];
    for (int x = 0; x < out.width; ++x) std::copy_n(src_row + size_t(x / factor) * 4, 4, dst + size_t(x) * 4);
  }
  return out;
}

}  // namespace drmm::ui
