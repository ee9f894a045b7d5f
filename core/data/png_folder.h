#pragma once
// A folder with one sub-folder of PNG images per class: the class names are the sub-folder
// names in sorted order, the images inside each are taken in sorted file-name order (so
// loading is deterministic). All images must share one size; the channel count comes from
// the first image (gray → 1, RGB or RGBA → 3, alpha dropped), and later images are converted
// to it.
#include <string>

#include "core/data/dataset.h"

namespace drmm {

Dataset load_png_folder(const std::string& folder);

}  // namespace drmm
