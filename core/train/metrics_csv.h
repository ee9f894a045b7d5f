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
  // Creates the file with its header, or continues it when `resumed_step` ≥ 0 and it exists: a
  // run killed after its last checkpoint wrote rows the resumed run writes again, so the rows
  // after `resumed_step` (and a cut-off last line) are dropped first, in one atomic rewrite.
  // `level_names`: the model's levels, one r_<name> column each (rendering from that level).
  MetricsCsv(const std::string& path, int64_t resumed_step, std::vector<std::string> level_names);
  void append(const MetricsRow& row);  // flushed at once, so a killed run keeps its rows
  static std::string header(const std::vector<std::string>& level_names);
  static std::string format(const MetricsRow& row, size_t level_count);
  // The rows of a metrics.csv this class (or the scale-out trainer) wrote, in file order; empty
  // cells are "not measured". A cut-off last line (a writer mid-row) is skipped; a file that is
  // not such a table throws FileError naming it.
  static std::vector<MetricsRow> read(const std::string& path);

 private:
  std::string path_;
  std::ofstream out_;
  size_t level_count_;
};

}  // namespace drmm
