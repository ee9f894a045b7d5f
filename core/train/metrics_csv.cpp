#include "core/train/metrics_csv.h"

#include <filesystem>
#include <sstream>

#include "core/util/error.h"

namespace drmm {
namespace {

// A cell that is empty when the value was not measured (negative marks "not measured").
void measured_cell(std::ostringstream& line, double value) {
  line << ',';
  if (value >= 0) line << value;
}

}  // namespace

MetricsCsv::MetricsCsv(const std::string& path, bool append, std::vector<std::string> level_names)
    : path_(path), level_count_(level_names.size()) {
  const bool continuing = append && std::filesystem::exists(path);
  out_.open(path, continuing ? std::ios::app : std::ios::trunc);
  if (!out_) throw FileError(path, "cannot open for writing");
  if (!continuing) out_ << header(level_names) << "\n" << std::flush;
}

std::string MetricsCsv::header(const std::vector<std::string>& level_names) {
  std::string text =
      "step,epoch,loss_total,loss_h,loss_rc,loss_kl,loss_nn,train_accuracy,test_accuracy,images_per_second,"
      "learning_rate,r_mean,r_median,relative_error,self_consistency";
  for (const std::string& name : level_names) text += ",r_" + name;
  return text;
}

std::string MetricsCsv::format(const MetricsRow& r, size_t level_count) {
  std::ostringstream line;
  line.precision(6);
  line << r.step << ',' << r.epoch << ',' << r.loss_total << ',' << r.loss_h << ',' << r.loss_rc << ',' << r.loss_kl
       << ',' << r.loss_nn << ',' << r.train_accuracy;
  measured_cell(line, r.test_accuracy);
  line << ',' << r.images_per_second << ',' << r.learning_rate;
  const RenderingQuality& q = r.rendering;
  for (double value : {q.r_mean, q.r_median, q.relative_error, q.self_consistency}) {
    line << ',';
    if (q.count > 0) line << value;
  }
  for (size_t level = 0; level < level_count; ++level) {
    line << ',';
    if (level < q.level_r.size()) line << q.level_r[level];
  }
  return line.str();
}

void MetricsCsv::append(const MetricsRow& row) {
  out_ << format(row, level_count_) << "\n" << std::flush;
  if (!out_) throw FileError(path_, "write failed (disk full?)");
}

}  // namespace drmm
