#include "ui/export_files.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

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

std::string metrics_csv(const std::vector<MetricsRow>& history) {
  std::string text =
      "step,epoch,loss_total,loss_h,loss_rc,loss_kl,loss_nn,train_accuracy,test_accuracy,images_per_second,"
      "learning_rate\n";
  char line[512];
  for (const MetricsRow& r : history) {
    char test[32] = "";
    if (r.test_accuracy >= 0) std::snprintf(test, sizeof test, "%.6g", r.test_accuracy);
    std::snprintf(line, sizeof line, "%lld,%.6g,%.9g,%.9g,%.9g,%.9g,%.9g,%.6g,%s,%.6g,%.6g\n",
                  static_cast<long long>(r.step), r.epoch, r.loss_total, r.loss_h, r.loss_rc, r.loss_kl,
                  r.loss_nn, r.train_accuracy, test, r.images_per_second, r.learning_rate);
    text += line;
  }
  return text;
}

void export_metrics_csv(const std::string& path, const std::vector<MetricsRow>& history) {
  const std::string text = metrics_csv(history);
  write_atomically(path, [&](const std::string& part) {
    std::ofstream out(part, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw FileError(path, "could not write the file");
  });
}

}  // namespace drmm::ui
