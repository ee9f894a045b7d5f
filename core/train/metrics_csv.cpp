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

// The cells of one line, split at commas (the file has no quoting).
std::vector<std::string> cells_of(const std::string& line) {
  std::vector<std::string> cells;
  size_t begin = 0;
  for (size_t comma; (comma = line.find(',', begin)) != std::string::npos; begin = comma + 1)
    cells.push_back(line.substr(begin, comma - begin));
  cells.push_back(line.substr(begin));
  return cells;
}

// A cell as a number; empty: `missing`. Throws on anything else.
double number_in(const std::string& cell, double missing) {
  if (cell.empty()) return missing;
  size_t used = 0;
  const double value = std::stod(cell, &used);
  if (used != cell.size()) throw std::invalid_argument(cell);
  return value;
}

MetricsRow row_from(const std::vector<std::string>& c, size_t level_count) {
  MetricsRow m;
  m.step = int64_t(number_in(c[0], 0));
  double* fields[] = {&m.epoch, &m.loss_total, &m.loss_h, &m.loss_rc, &m.loss_kl, &m.loss_nn, &m.train_accuracy};
  for (size_t i = 0; i < std::size(fields); ++i) *fields[i] = number_in(c[i + 1], 0);
  m.test_accuracy = number_in(c[8], -1);
  m.images_per_second = number_in(c[9], 0);
  m.learning_rate = number_in(c[10], 0);
  if (!c[11].empty()) {
    RenderingQuality& q = m.rendering;
    q.count = 1;  // measured; the file does not say on how many images
    q.r_mean = number_in(c[11], 0), q.r_median = number_in(c[12], 0);
    q.relative_error = number_in(c[13], 0), q.self_consistency = number_in(c[14], 0);
    for (size_t level = 0; level < level_count; ++level) q.level_r.push_back(number_in(c[15 + level], 0));
  }
  return m;
}

}  // namespace

std::vector<MetricsRow> MetricsCsv::read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(path, "cannot open for reading");
  std::stringstream whole;
  whole << in.rdbuf();
  const std::string text = whole.str();
  const size_t header_end = text.find('\n');
  const std::vector<std::string> header = cells_of(text.substr(0, header_end));
  constexpr size_t kFixedColumns = 15;
  if (header_end == std::string::npos || header.size() < kFixedColumns || header[0] != "step")
    throw FileError(path, "is not a metrics.csv (its first line is not the header 'step,epoch,…')");
  const size_t columns = header.size();
  std::vector<MetricsRow> rows;
  size_t line_number = 1;
  for (size_t begin = header_end + 1, end; (end = text.find('\n', begin)) != std::string::npos; begin = end + 1) {
    ++line_number;
    const std::vector<std::string> cells = cells_of(text.substr(begin, end - begin));
    try {
      if (cells.size() != columns) throw std::invalid_argument("cell count");
      rows.push_back(row_from(cells, columns - kFixedColumns));
    } catch (const std::logic_error&) {  // invalid_argument, out_of_range
      throw FileError(path, "line " + std::to_string(line_number) + " is not a row of " + std::to_string(columns) +
                                " numbers");
    }
  }
  return rows;
}

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
