#pragma once
// Everything a panel shows can be exported (DESIGN.md §4): pictures as PNG, curves as CSV.
// Files are saved atomically (core/util/atomic_file.h), so an export interrupted by closing the
// window or a full disk never leaves a half-written file under the name the user chose.
#include <string>
#include <vector>

#include "core/train/snapshot.h"
#include "ui/image_atlas.h"

namespace drmm::ui {

// Writes the picture (RGBA) as PNG; throws drmm::FileError naming the file on failure.
void export_png(const std::string& path, const RgbaImage& image);

// The training history as CSV, one row per logged step, in metrics.csv's columns (one r_<level>
// column per name in `level_names`); cells not measured at a row are empty. Throws
// drmm::FileError on failure.
void export_metrics_csv(const std::string& path, const std::vector<MetricsRow>& history,
                        const std::vector<std::string>& level_names);
std::string metrics_csv(const std::vector<MetricsRow>& history,
                        const std::vector<std::string>& level_names);  // the same text, for tests

}  // namespace drmm::ui
