// Never lose a run: `drmm train` killed with SIGKILL at many moments (inside steps, evaluations
// and checkpoint saves) always leaves a checkpoint that loads, never older than the checkpoint
// interval, and `--resume` then ends with exactly the weights of an uninterrupted run and a
// metrics.csv without repeated steps.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/train/checkpoint.h"
#include "tests/cli/run_drmm.h"

extern char** environ;

namespace drmm {
namespace {

using test::Outcome;
using test::TempDir;

// Not a multiple of the 10-step logging, so that kills land between a logged row and its checkpoint.
constexpr int kCheckpointEvery = 7;
// 0.15 epochs of the synthetic set = 30 steps; metrics rows every 10 steps.
const std::string kRun = "train --data synthetic --model tiny --epochs 0.15 --threads 1 --test-limit 100 "
                         "--render-limit 20 --quiet --checkpoint-every " + std::to_string(kCheckpointEvery);

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Starts `drmm <arguments> --out <out>` and kills it with SIGKILL after `delay`.
void run_and_kill(const std::string& out, std::chrono::duration<double> delay) {
  std::vector<std::string> args = words(kRun);
  args.insert(args.begin(), std::string(DRMM_BIN_DIR) + "/drmm");
  args.push_back("--out");
  args.push_back(out);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  std::this_thread::sleep_for(delay);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The step column of metrics.csv, in order.
std::vector<long> logged_steps(const std::string& csv) {
  std::istringstream in(file_text(csv));
  std::vector<long> steps;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) steps.push_back(std::stol(line.substr(0, line.find(','))));
  return steps;
}

std::vector<NamedArray> weights_of(const std::string& checkpoint) { return read_checkpoint(checkpoint).arrays; }

TEST(KillCli, AKilledRunAlwaysResumesToTheUninterruptedResult) {
  TempDir dir;
  const std::string reference = dir / "reference";
  const auto start = std::chrono::steady_clock::now();
  const Outcome whole = test::run_drmm(dir, kRun + " --out " + reference);
  const std::chrono::duration<double> duration = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(whole.status, 0) << whole.err;
  const std::vector<NamedArray> expected = weights_of(reference + "/checkpoint.bin");
  const std::vector<long> expected_steps = logged_steps(reference + "/metrics.csv");

  const int trials = 8;
  int resumed_from_checkpoint = 0, killed_before_first = 0;
  for (int trial = 0; trial < trials; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    const std::string run = dir / ("run" + std::to_string(trial));
    // Moments spread over the whole run, from start-up to the final save.
    run_and_kill(run, duration * ((trial + 0.5) / trials));
    const std::string checkpoint = run + "/checkpoint.bin";
    std::string resume_flag = " --resume";
    if (!std::filesystem::exists(checkpoint)) {
      ++killed_before_first;
      resume_flag = "";  // nothing saved yet: the run starts over
    } else {
      const int64_t saved_step = read_checkpoint(checkpoint).meta.at("step").get<int64_t>();
      const std::vector<long> steps = logged_steps(run + "/metrics.csv");
      // A row is logged before its step's checkpoint is due, so the newest checkpoint is at
      // most one interval behind the last logged step.
      if (!steps.empty()) {
        EXPECT_GE(saved_step, steps.back() - kCheckpointEvery);
      }
      ++resumed_from_checkpoint;
    }
    const Outcome resumed = test::run_drmm(dir, "train --quiet --out " + run + resume_flag +
                                                    (resume_flag.empty() ? " " + kRun.substr(6) : ""));
    ASSERT_EQ(resumed.status, 0) << resumed.err;
    const std::vector<NamedArray> got = weights_of(checkpoint);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].name, expected[i].name);
      EXPECT_EQ(got[i].values, expected[i].values) << got[i].name << " differs from the uninterrupted run";
    }
    EXPECT_EQ(logged_steps(run + "/metrics.csv"), expected_steps) << "metrics.csv rows repeated or lost";
    for (const auto& entry : std::filesystem::directory_iterator(run))
      EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path() << " left behind";
  }
  std::cout << "[ info     ] " << trials << " kills over " << duration.count() << " s: " << resumed_from_checkpoint
            << " resumed from a checkpoint, " << killed_before_first << " before the first save\n";
  EXPECT_GE(resumed_from_checkpoint, trials / 2);
}

}  // namespace
}  // namespace drmm
