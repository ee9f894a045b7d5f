// metrics.csv continued by a resumed run: the rows a killed run wrote after its last checkpoint
// (and a line cut off by the kill) are dropped, so no step appears twice.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/train/metrics_csv.h"
#include "tests/core/dataset_test_files.h"

namespace drmm {
namespace {

std::string text_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(MetricsCsv, ResumingDropsTheRowsAfterTheCheckpointAndACutOffLine) {
  test::TempDir dir;
  const std::string path = dir / "metrics.csv";
  const std::string header = MetricsCsv::header({"conv1"});
  std::ofstream(path) << header << "\n1,0.1,2\n10,0.2,2\n20,0.3,2\n30,0.4";
  {
    MetricsCsv csv(path, 10, {"conv1"});
    MetricsRow row;
    row.step = 11;
    csv.append(row);
  }
  const std::string text = text_of(path);
  EXPECT_EQ(text.substr(0, text.find("11,")), header + "\n1,0.1,2\n10,0.2,2\n");
  EXPECT_EQ(text.find("20,"), std::string::npos) << text;
  EXPECT_EQ(text.find("30,"), std::string::npos) << text;
}

TEST(MetricsCsv, ANewRunStartsTheFileOverWithItsHeader) {
  test::TempDir dir;
  const std::string path = dir / "metrics.csv";
  std::ofstream(path) << "old,stuff\n1,2\n";
  { MetricsCsv csv(path, -1, {}); }
  EXPECT_EQ(text_of(path), MetricsCsv::header({}) + "\n");
}

}  // namespace
}  // namespace drmm
