// The pictures panels show and export: normalisation, atlas layout, enlargement, fingerprints.
#include "ui/image_atlas.h"

#include <gtest/gtest.h>

namespace drmm::ui {
namespace {

ImageF gray(int h, int w, std::vector<float> values) { return ImageF{1, h, w, std::move(values)}; }

uint8_t pixel(const RgbaImage& image, int x, int y, int c = 0) {
  return image.pixels[(size_t(y) * size_t(image.width) + size_t(x)) * 4 + size_t(c)];
}

TEST(ImageAtlas, UnitRangeClampsToPixelScale) {
  const ImageF image = gray(1, 4, {-1.0f, 0.0f, 0.5f, 2.0f});
  RgbaImage out{4, 1, std::vector<uint8_t>(16, 0)};
  draw_image(view_of(image), Normalization::UnitRange, out, 0, 0);
  EXPECT_EQ(pixel(out, 0, 0), 0);
  EXPECT_EQ(pixel(out, 1, 0), 0);
  EXPECT_EQ(pixel(out, 2, 0), 128);
  EXPECT_EQ(pixel(out, 3, 0), 255);
  EXPECT_EQ(pixel(out, 3, 0, 3), 255);  // opaque
}

TEST(ImageAtlas, MinMaxStretchesEachImage) {
  const ImageF image = gray(1, 3, {10.0f, 15.0f, 20.0f});
  RgbaImage out{3, 1, std::vector<uint8_t>(12, 0)};
  draw_image(view_of(image), Normalization::MinMax, out, 0, 0);
  EXPECT_EQ(pixel(out, 0, 0), 0);
  EXPECT_EQ(pixel(out, 1, 0), 128);
  EXPECT_EQ(pixel(out, 2, 0), 255);
}

TEST(ImageAtlas, SymmetricPutsZeroAtMidGray) {
  const ImageF image = gray(1, 3, {-2.0f, 0.0f, 1.0f});
  RgbaImage out{3, 1, std::vector<uint8_t>(12, 0)};
  draw_image(view_of(image), Normalization::Symmetric, out, 0, 0);
  EXPECT_EQ(pixel(out, 0, 0), 0);
  EXPECT_EQ(pixel(out, 1, 0), 128);
  EXPECT_EQ(pixel(out, 2, 0), 191);
}

TEST(ImageAtlas, NonFiniteValuesShowAsBlack) {
  const ImageF image = gray(1, 2, {std::numeric_limits<float>::quiet_NaN(), 1.0f});
  RgbaImage out{2, 1, std::vector<uint8_t>(8, 0)};
  draw_image(view_of(image), Normalization::MinMax, out, 0, 0);
  EXPECT_EQ(pixel(out, 0, 0), 0);
}

TEST(ImageAtlas, RgbImagesKeepTheirChannels) {
  const ImageF image{3, 1, 1, {1.0f, 0.0f, 0.5f}};
  RgbaImage out{1, 1, std::vector<uint8_t>(4, 0)};
  draw_image(view_of(image), Normalization::UnitRange, out, 0, 0);
  EXPECT_EQ(pixel(out, 0, 0, 0), 255);
  EXPECT_EQ(pixel(out, 0, 0, 1), 0);
  EXPECT_EQ(pixel(out, 0, 0, 2), 128);
}

TEST(ImageAtlas, LaysOutTilesRowByRowWithPadding) {
  std::vector<ImageF> images(5, gray(2, 3, std::vector<float>(6, 1.0f)));
  std::vector<AtlasItem> items;
  for (const ImageF& image : images) items.push_back({view_of(image), Normalization::UnitRange});
  const ImageAtlas atlas = build_atlas(items, 2, 1);
  ASSERT_EQ(atlas.tiles.size(), 5u);
  EXPECT_EQ(atlas.image.width, 2 * (3 + 1) + 1);
  EXPECT_EQ(atlas.image.height, 3 * (2 + 1) + 1);
  EXPECT_EQ(atlas.tiles[0].x, 1);
  EXPECT_EQ(atlas.tiles[1].x, 5);
  EXPECT_EQ(atlas.tiles[2].y, 4);
  EXPECT_EQ(pixel(atlas.image, 0, 0, 3), 0);    // padding stays transparent
  EXPECT_EQ(pixel(atlas.image, 1, 1), 255);     // the first tile's pixels
  EXPECT_FLOAT_EQ(atlas.tiles[1].u0, 5.0f / 9.0f);
  EXPECT_FLOAT_EQ(atlas.tiles[1].u1, 8.0f / 9.0f);
}

TEST(ImageAtlas, EmptyItemsLeaveEmptyTiles) {
  const ImageF image = gray(2, 2, {0, 1, 1, 0});
  const std::vector<AtlasItem> items{{view_of(image), Normalization::UnitRange}, {ImageView{}, Normalization::MinMax}};
  const ImageAtlas atlas = build_atlas(items, 2);
  ASSERT_EQ(atlas.tiles.size(), 2u);
  EXPECT_EQ(atlas.tiles[1].width, 0);
}

TEST(ImageAtlas, ScaleNearestRepeatsPixels) {
  RgbaImage image{2, 1, {10, 10, 10, 255, 200, 200, 200, 255}};
  const RgbaImage big = scale_nearest(image, 3);
  EXPECT_EQ(big.width, 6);
  EXPECT_EQ(big.height, 3);
  EXPECT_EQ(pixel(big, 2, 2), 10);
  EXPECT_EQ(pixel(big, 3, 0), 200);
}

TEST(ImageAtlas, ContentHashSeesValuesAndShape) {
  const ImageF a = gray(1, 2, {0.0f, 1.0f}), same = gray(1, 2, {0.0f, 1.0f});
  const ImageF other = gray(1, 2, {0.0f, 0.999f}), transposed = gray(2, 1, {0.0f, 1.0f});
  EXPECT_EQ(content_hash(a), content_hash(same));
  EXPECT_NE(content_hash(a), content_hash(other));
  EXPECT_NE(content_hash(a), content_hash(transposed));
  EXPECT_NE(content_hash(a, 1), content_hash(a, 2));
}

}  // namespace
}  // namespace drmm::ui
