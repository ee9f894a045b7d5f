#include "core/train/metrics_csv.h"

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace drmm {
namespace {

// A cell that is empty when the value was not measured (negative marks "not measured").
void measured_cell(std::ostringstream& line, double value) {
  line << ',';
  if (value >= 0) line << value;
}

// The file's header and the complete rows whose step is at most `last_step`.
std::string rows_through(const std::string& path, int64_t last_step) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream whole;
  whole << in.rdbuf();
  const std::string text = whole.str();
  std::string kept;
  size_t begin = 0;
  for (size_t end; (end = text.find('\n', begin)) != std::string::npos; begin = end + 1) {
    const std::string line = text.substr(begin, end - begin);
    char* rest = nullptr;
    const long long step = std::strtoll(line.c_str(), &rest, 10);
    const bool header = begin == 0;
    if (header || (rest != line.c_str() && *rest == ',' && step <= last_step)) kept += line + "\n";
  }
  return kept;
}

}  // namespace

MetricsCsv::MetricsCsv(const std::string& path, int64_t resumed_step, std::vector<std::string> level_names)
    : path_(path), level_count_(level_names.size()) {
  std::string kept = resumed_step >= 0 && std::filesystem::exists(path) ? rows_through(path, resumed_step) : "";
  if (kept.empty()) kept = header(level_names) + "\n";
  write_file_atomically(path, kept);
  out_.open(path, std::ios::app);
  if (!out_) throw FileError(path, "cannot open for writing");
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
