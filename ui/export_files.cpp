#include "ui/export_files.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/train/metrics_csv.h"
#include "core/util/error.h"
#include "core/util/png_io.h"

namespace drmm::ui {
namespace {

// Writes via `<path>.part` + rename: rename within one folder is atomic on POSIX.
template <typename Write>
void write_atomically(const std::string& path, Write write) {
  const std::string part = path + ".part";
  try {
    write(part);
    std::filesystem::rename(part, path);
  } catch (const std::filesystem::filesystem_error& e) {
    std::error_code ignored;
    std::filesystem::remove(part, ignored);
    throw FileError(path, e.code().message());
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(part, ignored);
    throw;
  }
}

}  // namespace

void export_png(const std::string& path, const RgbaImage& image) {
  if (image.width <= 0 || image.height <= 0) throw FileError(path, "nothing to export yet (the panel is empty)");
  Image8 png;
  png.width = image.width;
  png.height = image.height;
  png.channels = 4;
  png.pixels = image.pixels;
  write_atomically(path, [&](const std::string& part) { write_png(part, png); });
}

std::string metrics_csv(const std::vector<MetricsRow>& history, const std::vector<std::string>& level_names) {
  std::string text = MetricsCsv::header(level_names) + "\n";
  for (const MetricsRow& r : history) text += MetricsCsv::format(r, level_names.size()) + "\n";
  return text;
}

void export_metrics_csv(const std::string& path, const std::vector<MetricsRow>& history,
                        const std::vector<std::string>& level_names) {
  const std::string text = metrics_csv(history, level_names);
  write_atomically(path, [&](const std::string& part) {
    std::ofstream out(part, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw FileError(path, "could not write the file");
  });
}

}  // namespace drmm::ui
