// render_preview: nearest upscaling and the grid with separators.
#include <gtest/gtest.h>

#include "core/data/dataset.h"
#include "core/data/preview.h"
#include "core/util/error.h"

namespace drmm {
namespace {

// Three 2x3 gray images; image k's pixel p is (10k + p) / 255.
Dataset tiny() {
  Dataset data;
  data.name = "tiny";
  data.height = 2;
  data.width = 3;
  data.class_names = {"x"};
  for (int k = 0; k < 3; ++k) {
    data.labels.push_back(0);
    for (int p = 0; p < 6; ++p) data.pixels.push_back(float(10 * k + p) / 255.0f);
  }
  return data;
}

uint8_t at(const Image8& image, int x, int y) { return image.pixels[size_t(y * image.width + x)]; }

TEST(DatasetPreview, UpscalesByRepeatingPixels) {
  const Image8 image = render_preview(tiny(), {.first = 1, .count = 1, .scale = 4});
  EXPECT_EQ(image.width, 12);
  EXPECT_EQ(image.height, 8);
  EXPECT_EQ(image.channels, 1);
  EXPECT_EQ(at(image, 0, 0), 10);
  EXPECT_EQ(at(image, 3, 3), 10);
  EXPECT_EQ(at(image, 4, 0), 11);
  EXPECT_EQ(at(image, 11, 7), 15);
}

TEST(DatasetPreview, GridOfImagesWithSeparators) {
  // Three images: a 2x2 grid, the fourth cell left as separator gray.
  const Image8 image = render_preview(tiny(), {.first = 0, .count = 3, .scale = 2, .separator = 1});
  EXPECT_EQ(image.width, 2 * 6 + 1);
  EXPECT_EQ(image.height, 2 * 4 + 1);
  EXPECT_EQ(at(image, 6, 0), 128);   // vertical separator
  EXPECT_EQ(at(image, 7, 0), 10);    // image 1, top-left
  EXPECT_EQ(at(image, 0, 5), 20);    // image 2, second row
  EXPECT_EQ(at(image, 12, 8), 128);  // the empty fourth cell
}

TEST(DatasetPreview, OutOfRangeIndexIsAnError) {
  EXPECT_THROW(render_preview(tiny(), {.first = 3}), Error);
  EXPECT_THROW(render_preview(tiny(), {.first = 1, .count = 3}), Error);
  EXPECT_THROW(render_preview(tiny(), {.first = 0, .count = 0}), Error);
}

}  // namespace
}  // namespace drmm
