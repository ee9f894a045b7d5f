#pragma once
// Turns the model's float images (CHW, any range) into one RGBA8 picture laid out as a grid,
// so a panel uploads a single texture per snapshot instead of one per image, and the PNG
// export writes exactly what the panel shows. No GL and no Qt here: unit-tested on its own.
#include <cstdint>
#include <span>
#include <vector>

#include "core/train/snapshot.h"

namespace drmm::ui {

// How float values become gray levels (the choice changes what a person can read off a picture).
enum class Normalization {
  UnitRange,  // clamp to [0,1]: dataset pixels, inputs and Î, which live on the pixel scale
  MinMax,     // per image min→black, max→white: reconstructions from deep levels have arbitrary scale
  Symmetric,  // per image, 0 is mid-gray and ±max|v| the extremes: signed filter weights
};

// A borrowed CHW float image (ImageF or one image of a Dataset).
struct ImageView {
  int channels = 1, height = 0, width = 0;
  const float* data = nullptr;
};
inline ImageView view_of(const ImageF& image) {
  return {image.channels, image.height, image.width, image.data.data()};
}

struct RgbaImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // RGBA8, row-major, top row first
};

// Where one image sits inside the atlas, in pixels and in texture coordinates.
struct AtlasTile {
  int x = 0, y = 0, width = 0, height = 0;
  float u0 = 0, v0 = 0, u1 = 0, v1 = 0;
};

struct AtlasItem {
  ImageView image;
  Normalization normalization = Normalization::UnitRange;
};

// Images placed row by row in `columns` columns; every cell is as large as the largest image,
// with `padding` transparent pixels between cells so linear sampling never bleeds.
struct ImageAtlas {
  RgbaImage image;
  std::vector<AtlasTile> tiles;  // one per item, same order
  int columns = 0;
};

ImageAtlas build_atlas(std::span<const AtlasItem> items, int columns, int padding = 1);
// The column count of a near-square grid of `count` cells: the smallest c with c·c ≥ count.
int square_columns(size_t count);

// Writes `image` normalised into `out` at (x, y). One channel → gray, three → RGB, other counts
// show the first channel. Images with no data (width 0) leave the pixels transparent.
void draw_image(const ImageView& image, Normalization normalization, RgbaImage& out, int x, int y);

// A fingerprint of images' sizes and values. The trainer republishes unchanged views with every
// metrics update (a new snapshot version), so panels key their atlases and textures by content,
// not by version: an unchanged picture is never rebuilt nor uploaded again.
uint64_t content_hash(const ImageF& image, uint64_t seed = 0);

// One image as its own picture (a single texture: the input of a panel, a canvas).
RgbaImage image_to_rgba(const ImageView& image, Normalization normalization);

// Nearest-neighbour enlargement by an integer factor (exports at a size people can see).
RgbaImage scale_nearest(const RgbaImage& image, int factor);

}  // namespace drmm::ui
