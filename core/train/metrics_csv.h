#pragma once
// metrics.csv of a run: one row per logged step (MetricsRow), header on the first line. Cells
// of values not measured at a row (test accuracy, rendering quality) are empty.
#include <fstream>
#include <string>
#include <vector>

#include "core/train/snapshot.h"

namespace drmm {

class MetricsCsv {
 public:
  // Creates the file with its header, or appends to it when `append` and it exists (resume).
  // `level_names`: the model's levels, one r_<name> column each (rendering from that level).
  MetricsCsv(const std::string& path, bool append, std::vector<std::string> level_names);
  void append(const MetricsRow& row);  // flushed at once, so a killed run keeps its rows
  static std::string header(const std::vector<std::string>& level_names);
  static std::string format(const MetricsRow& row, size_t level_count);

 private:
  std::string path_;
  std::ofstream out_;
  size_t level_count_;
};

}  // namespace drmm
