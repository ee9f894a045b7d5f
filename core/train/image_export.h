#pragma once
// Model images (float, any range) to 8-bit pictures and PNG files: the CLI's exports and the
// GUI's textures use the same conversion, so what is saved is what is on screen.
#include <span>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/model/drmm_model.h"
#include "core/train/snapshot.h"
#include "core/util/png_io.h"

namespace drmm {

enum class DisplayRange {
  Unit,      // clamp to [0, 1]: images and Î, which the model renders in pixel units
  MinMax,    // stretch each image's own min..max to black..white: per-level renderings, filters
};

// A float image from `values` (C·H·W of them).
ImageF image_from(std::span<const float> values, int channels, int height, int width);
// Image `index` of a batch of `shape` (N×C×H×W) laid out image after image.
ImageF slice_image(std::span<const float> batch, size_t index, const Shape& shape);
// Gray (C = 1) or RGB (C = 3) picture of `image`, each pixel repeated `scale` times.
Image8 to_image8(const ImageF& image, DisplayRange range, int scale = 1);

// Pictures in a grid of `columns` columns (rows as needed), cells as large as the largest
// picture, 2 white pixels between them. All pictures have the same channel count.
Image8 grid_of(const std::vector<Image8>& pictures, int columns);

// Writes input.png, reconstruction.png (Î) and level<k>-<name>.png for every level into
// `folder`, plus strip.png with all of them side by side. Returns the paths written.
std::vector<std::string> write_reconstructions(DrmmModel& model, const Dataset& data, size_t index,
                                               bool render_label, const std::string& folder, int scale);

}  // namespace drmm
