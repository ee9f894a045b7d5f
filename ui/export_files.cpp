#include "ui/export_files.h"

#include "core/train/metrics_csv.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/png_io.h"

namespace drmm::ui {

void export_png(const std::string& path, const RgbaImage& image) {
  if (image.width <= 0 || image.height <= 0) throw FileError(path, "nothing to export yet (the panel is empty)");
  Image8 png;
  png.width = image.width;
  png.height = image.height;
  png.channels = 4;
  png.pixels = image.pixels;
  write_png(path, png);  // atomic, as every file the programs write
}

std::string metrics_csv(const std::vector<MetricsRow>& history, const std::vector<std::string>& level_names) {
  std::string text = MetricsCsv::header(level_names) + "\n";
  for (const MetricsRow& r : history) text += MetricsCsv::format(r, level_names.size()) + "\n";
  return text;
}

void export_metrics_csv(const std::string& path, const std::vector<MetricsRow>& history,
                        const std::vector<std::string>& level_names) {
  write_file_atomically(path, metrics_csv(history, level_names));
}

}  // namespace drmm::ui
