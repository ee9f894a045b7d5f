#pragma once
// A viewable picture of dataset images: nearest-neighbour upscaled (pixels stay crisp, so a
// person sees exactly what the model sees) and laid out in a near-square grid with thin
// separators. Used by `drmm data show` and the GUI's dataset browser.
#include <cstddef>

#include "core/data/dataset.h"
#include "core/util/png_io.h"

namespace drmm {

struct PreviewLayout {
  size_t first = 0;   // index of the first image
  size_t count = 1;   // images shown, row by row
  int scale = 8;      // each pixel becomes scale x scale
  int separator = 2;  // pixels of separator between grid cells
  int columns = 0;    // images per row; 0: a near-square grid
};

// Throws drmm::Error when the images first .. first+count-1 are not all in the dataset or
// the layout is degenerate.
Image8 render_preview(const Dataset& data, const PreviewLayout& layout);

}  // namespace drmm
