// `drmm compare`, run as a person would: the DRMM and the CNN share the data, split, seed and
// step count, and differ where their objectives differ.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/util/png_io.h"
#include "tests/cli/run_drmm.h"

namespace drmm {
namespace {

using test::contains;
using test::Outcome;
using test::TempDir;

using Row = std::map<std::string, std::string>;

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) out.push_back(cell);
  return out;
}

// compare.csv as rows keyed by the variant name, each a map from column to cell.
std::map<std::string, Row> read_table(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = cells(line);
  std::map<std::string, Row> rows;
  while (std::getline(in, line)) {
    const std::vector<std::string> row = cells(line);
    Row named;
    for (size_t i = 0; i < header.size() && i < row.size(); ++i) named[header[i]] = row[i];
    rows[named["variant"]] = named;
  }
  return rows;
}

// 0.02 epochs of the synthetic set (10,000 images, 50 unlabeled per batch) = 4 steps.
const std::string kQuickCompare =
    "compare --data synthetic --model tiny --labeled 20 --epochs 0.02 --test-every 2 --test-limit 100 "
    "--render-limit 40 --threads 1 --images 4 --quiet";

TEST(CompareCli, BothRunsShareTheSetupAndDifferInRendering) {
  TempDir dir;
  const std::string out = dir / "cmp";
  const Outcome run = test::run_drmm(dir, kQuickCompare + " --variant 'NoKL=--alpha-kl 0' --out " + out);
  ASSERT_EQ(run.status, 0) << run.err;
  std::map<std::string, Row> table = read_table(out + "/compare.csv");
  ASSERT_EQ(table.size(), 3u);
  Row &drmm = table["DRMM"], &cnn = table["CNN"], &no_kl = table["NoKL"];
  for (const Row* other : {&cnn, &no_kl}) {
    EXPECT_EQ((*other).at("steps"), drmm.at("steps"));
    EXPECT_EQ((*other).at("labeled"), "20");
    EXPECT_EQ((*other).at("seed"), drmm.at("seed"));
    EXPECT_EQ((*other).at("split_fingerprint"), drmm.at("split_fingerprint"));  // the same labeled images
  }
  EXPECT_EQ(drmm.at("steps"), "4");
  EXPECT_EQ(cnn.at("alpha_rc"), "0");
  EXPECT_EQ(cnn.at("alpha_kl"), "0");
  EXPECT_EQ(cnn.at("alpha_nn"), "0");
  EXPECT_EQ(cnn.at("alpha_h"), drmm.at("alpha_h"));
  EXPECT_NE(drmm.at("alpha_rc"), "0");
  EXPECT_EQ(no_kl.at("alpha_kl"), "0");
  EXPECT_EQ(no_kl.at("alpha_rc"), drmm.at("alpha_rc"));
  // L_RC shapes the DRMM's renderings; nothing shapes the CNN's.
  EXPECT_NE(cnn.at("r_mean"), drmm.at("r_mean"));
  for (const std::string variant : {"DRMM", "CNN", "NoKL"}) {
    EXPECT_TRUE(std::filesystem::exists(out + "/" + variant + "/checkpoint.bin")) << variant;
    EXPECT_TRUE(std::filesystem::exists(out + "/" + variant + "/metrics.csv")) << variant;
  }
  const Image8 picture = read_png(out + "/compare.png");
  EXPECT_GT(picture.height, picture.width / 2);  // the curves and four rows of images
  EXPECT_TRUE(contains(run.out, "CNN")) << run.out;  // the table is printed
}

TEST(CompareCli, RefusesBadVariantsNamingTheOption) {
  TempDir dir;
  const std::string out = dir / "cmp";
  struct Case {
    std::string variant, expected;
  };
  for (const Case& c : {Case{"'Seeded=--seed 2'", "--seed"}, Case{"'NoName'", "NAME=OPTIONS"},
                        Case{"'cnn=--alpha-kl 0'", "taken"}, Case{"'a/b=--alpha-kl 0'", "name"},
                        Case{"'Neg=--alpha-rc -1'", "--alpha-rc"}}) {
    const Outcome refused = test::run_drmm(dir, kQuickCompare + " --variant " + c.variant + " --out " + out);
    EXPECT_EQ(refused.status, 2) << c.variant << ": " << refused.err;
    EXPECT_TRUE(contains(refused.err, "--variant")) << refused.err;
    EXPECT_TRUE(contains(refused.err, c.expected)) << refused.err;
  }
  EXPECT_FALSE(std::filesystem::exists(out));  // refused before any training
}

}  // namespace
}  // namespace drmm
