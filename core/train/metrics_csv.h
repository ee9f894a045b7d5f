#pragma once
// metrics.csv of a run: one row per logged step (MetricsRow), header on the first line.
#include <fstream>
#include <string>

#include "core/train/snapshot.h"

namespace drmm {

class MetricsCsv {
 public:
  // Creates the file with its header, or appends to it when `append` and it exists (resume).
  MetricsCsv(const std::string& path, bool append);
  void append(const MetricsRow& row);  // flushed at once, so a killed run keeps its rows
  static std::string header();
  static std::string format(const MetricsRow& row);

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace drmm
