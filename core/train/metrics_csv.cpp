#include "core/train/metrics_csv.h"

#include <filesystem>
#include <sstream>

#include "core/util/error.h"

namespace drmm {

MetricsCsv::MetricsCsv(const std::string& path, bool append) : path_(path) {
  const bool continuing = append && std::filesystem::exists(path);
  out_.open(path, continuing ? std::ios::app : std::ios::trunc);
  if (!out_) throw FileError(path, "cannot open for writing");
  if (!continuing) out_ << header() << "\n" << std::flush;
}

std::string MetricsCsv::header() {
  return "step,epoch,loss_total,loss_h,loss_rc,loss_kl,loss_nn,train_accuracy,test_accuracy,images_per_second,"
         "learning_rate";
}

std::string MetricsCsv::format(const MetricsRow& r) {
  std::ostringstream line;
  line.precision(6);
  line << r.step << ',' << r.epoch << ',' << r.loss_total << ',' << r.loss_h << ',' << r.loss_rc << ',' << r.loss_kl
       << ',' << r.loss_nn << ',' << r.train_accuracy << ',';
  if (r.test_accuracy >= 0) line << r.test_accuracy;  // empty cell: not evaluated at this step
  line << ',' << r.images_per_second << ',' << r.learning_rate;
  return line.str();
}

void MetricsCsv::append(const MetricsRow& row) {
  out_ << format(row) << "\n" << std::flush;
  if (!out_) throw FileError(path_, "write failed (disk full?)");
}

}  // namespace drmm
