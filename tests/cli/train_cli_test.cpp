// `drmm train | eval | reconstruct | bench`, run as a person would.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
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

size_t line_count(const std::string& path) {
  std::ifstream in(path);
  size_t lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  return lines;
}

// 0.02 epochs of the synthetic set (10,000 images, 50 unlabeled per batch) = 4 steps.
const std::string kShortRun = "train --data synthetic --model tiny --epochs 0.02 --threads 1 --test-limit 100 --quiet";

TEST(TrainCli, TrainsWritesACheckpointAndMetricsAndResumes) {
  TempDir dir;
  const std::string run = dir / "run";
  Outcome first = test::run_drmm(dir, kShortRun + " --out " + run);
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_TRUE(contains(first.out, "test accuracy"));
  EXPECT_TRUE(contains(first.out, "after 4 steps"));
  EXPECT_TRUE(std::filesystem::exists(run + "/checkpoint.bin"));
  ASSERT_TRUE(std::filesystem::exists(run + "/metrics.csv"));
  const size_t rows = line_count(run + "/metrics.csv");
  EXPECT_GE(rows, 3u);  // header, step 1, the final step (with its test accuracy)
  {
    std::ifstream csv(run + "/metrics.csv");
    std::string header, line, last;
    std::getline(csv, header);
    while (std::getline(csv, line)) last = line;
    EXPECT_TRUE(contains(header, "r_mean,r_median,relative_error,self_consistency,r_conv1")) << header;
    // The final row was evaluated: its rendering cells are filled, not empty.
    EXPECT_FALSE(contains(last, ",,")) << last;
  }

  Outcome resumed = test::run_drmm(dir, "train --resume --epochs 0.04 --quiet --out " + run);
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_TRUE(contains(resumed.out, "after 8 steps"));
  EXPECT_GT(line_count(run + "/metrics.csv"), rows);  // appended, header not repeated

  Outcome eval = test::run_drmm(dir, "eval --checkpoint " + run + "/checkpoint.bin --data synthetic --limit 200");
  ASSERT_EQ(eval.status, 0) << eval.err;
  EXPECT_TRUE(contains(eval.out, "accuracy"));
  EXPECT_TRUE(contains(eval.out, "confusion matrix"));
  EXPECT_TRUE(contains(eval.out, "r(I, Î) mean")) << eval.out;
  EXPECT_TRUE(contains(eval.out, "self-consistency")) << eval.out;
  EXPECT_TRUE(contains(eval.out, "conv1")) << eval.out;  // r from every level, by name

  Outcome rec = test::run_drmm(dir, "reconstruct --checkpoint " + run + "/checkpoint.bin --data synthetic --index 3 --out " +
                                        (dir / "rec"));
  ASSERT_EQ(rec.status, 0) << rec.err;
  const Image8 strip = read_png(dir / "rec/strip.png");
  EXPECT_GT(strip.width, 5 * 28 * 4);  // input, Î and four levels of the tiny net, 4× upscaled
  EXPECT_TRUE(std::filesystem::exists(dir / "rec/reconstruction.png"));
  EXPECT_TRUE(std::filesystem::exists(dir / "rec/level1-conv1.png"));
}

TEST(TrainCli, BadInputsAreClearErrorsWithExitStatusOne) {
  TempDir dir;
  Outcome preset = test::run_drmm(dir, "train --data synthetic --model nonesuch --out " + (dir / "r"));
  EXPECT_EQ(preset.status, 1);
  EXPECT_TRUE(contains(preset.err, "unknown model preset 'nonesuch'"));
  EXPECT_TRUE(contains(preset.err, "convsmall"));

  test::write_file(dir / "broken.bin", test::Bytes{'D', 'R', 'M', 'M', 'x'});
  Outcome eval = test::run_drmm(dir, "eval --checkpoint " + (dir / "broken.bin") + " --data synthetic");
  EXPECT_EQ(eval.status, 1);
  EXPECT_TRUE(contains(eval.err, dir / "broken.bin"));

  Outcome resume = test::run_drmm(dir, "train --resume --out " + (dir / "empty"));
  EXPECT_EQ(resume.status, 1);
  EXPECT_TRUE(contains(resume.err, "nothing to resume"));

  // A run folder that cannot be made: the folder named, no raw exception text.
  Outcome folder = test::run_drmm(dir, kShortRun + " --out /proc/no-such-folder/run");
  EXPECT_EQ(folder.status, 1);
  EXPECT_TRUE(contains(folder.err, "drmm: error: /proc/no-such-folder/run: ")) << folder.err;

  Outcome usage = test::run_drmm(dir, "train --backend quantum");
  EXPECT_EQ(usage.status, 2);
}

// Out-of-range and non-finite option values once fell back to the preset's silently (or were
// clamped): each is now a usage error (status 2) that names the option.
TEST(TrainCli, BadOptionValuesAreUsageErrorsNamingTheOption) {
  TempDir dir;
  const std::string run = " --data synthetic --out " + (dir / "r");
  for (const std::string bad : {"--epochs 0", "--epochs -1", "--epochs nan", "--epochs inf", "--lr 0", "--lr nan",
                                 "--lr-end -1", "--momentum nan", "--momentum -0.5", "--alpha-rc -1", "--alpha-h nan",
                                 "--labeled-fraction 1.5", "--threads -2", "--batch 100000", "--epochs 1x"}) {
    Outcome r = test::run_drmm(dir, "train " + bad + run);
    EXPECT_EQ(r.status, 2) << bad << "\n" << r.err;
    const std::string option = bad.substr(0, bad.find(' '));
    EXPECT_TRUE(contains(r.err, option)) << bad << "\n" << r.err;
  }
}

// A named pipe read as a file blocks until a writer comes, and a folder fails inside the C++
// library: both are refused by type, with the file named, before anything is opened. `timeout`
// turns a hang into exit status 124, so a regression fails instead of stalling the suite.
TEST(TrainCli, PipesAndFoldersGivenAsFilesAreRefusedByType) {
  TempDir dir;
  const std::string fifo = dir / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string folder = dir / "folder.json";
  std::filesystem::create_directories(folder);
  for (const std::string& arguments :
       {"eval --checkpoint " + fifo, "tree eval --forest " + fifo + " --data synthetic",
        "train --data synthetic --model " + fifo + ".json --out " + (dir / "r"),
        "train --data synthetic --model " + folder + " --out " + (dir / "r"), "tree eval --forest " + folder + " --data synthetic"}) {
    Outcome r = test::run_drmm(dir, arguments);
    EXPECT_EQ(r.status, 1) << arguments << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, "is not a regular file") || contains(r.err, "is a folder") || contains(r.err, "no such file"))
        << arguments << "\n" << r.err;
  }
  // The pipe itself, under a path ending in .json so it is read as a preset file.
  const std::string fifo_json = dir / "pipe.json";
  ASSERT_EQ(::mkfifo(fifo_json.c_str(), 0600), 0);
  Outcome preset = test::run_drmm(dir, "train --data synthetic --model " + fifo_json + " --out " + (dir / "r"));
  EXPECT_EQ(preset.status, 1) << preset.err;
  EXPECT_TRUE(contains(preset.err, fifo_json + ": is not a regular file")) << preset.err;
}

TEST(TrainCli, BenchPrintsImagesPerSecondForEachPreset) {
  TempDir dir;
  Outcome bench = test::run_drmm(dir, "bench --presets tiny --steps 1 --warmup 0 --batch 8 --threads 1");
  ASSERT_EQ(bench.status, 0) << bench.err;
  EXPECT_TRUE(contains(bench.out, "tiny"));
  EXPECT_TRUE(contains(bench.out, "images/s"));
}

// The fields of the output line that starts with `preset`.
std::vector<std::string> row_of(const std::string& out, const std::string& preset) {
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(preset + " ", 0) == 0) {
      std::istringstream words(line);
      std::vector<std::string> fields;
      for (std::string w; words >> w;) fields.push_back(w);
      return fields;
    }
  return {};
}

bool torch_installed() { return std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0; }

// With --torch the PyTorch reference runs as a child process whose rounds alternate with ours:
// the row then holds ours, PyTorch's images/s, the median ratio and the range of the rounds.
TEST(TrainCli, BenchWithTorchPrintsTheRatioOfAlternatingRounds) {
  if (!torch_installed()) GTEST_SKIP() << "python3-torch is not installed";
  TempDir dir;
  Outcome bench = test::run_drmm(dir, "bench --presets tiny --steps 1 --rounds 2 --warmup 0 --batch 8 --threads 1 --torch");
  ASSERT_EQ(bench.status, 0) << bench.err;
  const std::vector<std::string> row = row_of(bench.out, "tiny");
  ASSERT_EQ(row.size(), 6u) << bench.out;  // tiny cpu ours torch ratio"x" low-high"x"
  EXPECT_GT(std::stod(row[2]), 0.0);
  EXPECT_GT(std::stod(row[3]), 0.0);
  EXPECT_EQ(row[4].back(), 'x');
  // The range "low-highx" holds the median of the two rounds' ratios and, as their weighted
  // mean, the ratio of the medians too (to the printed digits).
  ASSERT_EQ(row[5].back(), 'x');
  const size_t dash = row[5].find('-');
  ASSERT_NE(dash, std::string::npos) << row[5];
  const double low = std::stod(row[5].substr(0, dash)), high = std::stod(row[5].substr(dash + 1));
  const double median_ratio = std::stod(row[4]), ratio_of_medians = std::stod(row[2]) / std::stod(row[3]);
  EXPECT_LE(low, high);
  EXPECT_GE(median_ratio, low - 0.01);
  EXPECT_LE(median_ratio, high + 0.01);
  EXPECT_GE(ratio_of_medians, (low - 0.01) * 0.999);
  EXPECT_LE(ratio_of_medians, (high + 0.01) * 1.001);
}

// A reference that cannot start (here: a torch module that fails to import) is reported, and
// our figure is still printed, without a ratio.
TEST(TrainCli, BenchWithABrokenTorchSaysSoAndStillTimesOurStep) {
  TempDir dir;
  std::ofstream(dir / "torch.py") << "raise ImportError('no torch here')\n";
  ::setenv("PYTHONPATH", (dir / "").c_str(), 1);
  Outcome bench = test::run_drmm(dir, "bench --presets tiny --steps 1 --rounds 2 --warmup 0 --batch 8 --threads 1 --torch");
  ::unsetenv("PYTHONPATH");
  ASSERT_EQ(bench.status, 0) << bench.err;
  EXPECT_TRUE(contains(bench.err, "did not start")) << bench.err;
  EXPECT_EQ(row_of(bench.out, "tiny").size(), 3u) << bench.out;  // tiny cpu ours
}

}  // namespace
}  // namespace drmm
