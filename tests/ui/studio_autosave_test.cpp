// Never lose a run in the studio: while it trains, the run is kept in the autosave file every
// interval without counting as the user's save, and a studio killed with SIGKILL leaves an
// autosave that loads, at a step of the run it was training.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <QString>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/train/checkpoint.h"
#include "tests/core/dataset_test_files.h"
#include "tests/ui/xvfb_test_support.h"
#include "ui/session_controller.h"

extern char** environ;

namespace drmm::ui {
namespace {

using test::step_of;
using test::wait_until;

int64_t saved_step(const std::string& path) { return read_checkpoint(path).meta.at("step").get<int64_t>(); }

TEST(StudioAutosave, KeepsUnsavedTrainingWithoutCountingAsTheUsersSave) {
  if (test::rerun_under_xvfb("StudioAutosave.KeepsUnsavedTrainingWithoutCountingAsTheUsersSave")) return;
  test::StudioUnderTest studio;
  auto* session = studio.window().findChild<SessionController*>();
  ASSERT_NE(session, nullptr);
  drmm::test::TempDir dir;
  const std::string autosave = dir / "autosave.drmm";
  int user_saves = 0;
  QObject::connect(session, &SessionController::checkpoint_saved, [&](const QString&, const QString&) { ++user_saves; });
  session->set_autosave(QString::fromStdString(autosave), std::chrono::milliseconds(100));

  test::pump(500);
  EXPECT_FALSE(std::filesystem::exists(autosave)) << "an untrained run was autosaved";
  session->step_once();
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(autosave); }, 120000)) << "no autosave after a step";
  ASSERT_TRUE(wait_until([&] { return !session->saving(); }, 60000));
  EXPECT_GE(saved_step(autosave), 1);
  EXPECT_GE(session->unsaved_steps(), 1) << "an autosave counted as the user's save";
  EXPECT_EQ(user_saves, 0) << "an autosave reported itself as a user's save";
  EXPECT_TRUE(session->saved_path().isEmpty());

  // Nothing new trained: the file is not written again.
  const auto written = std::filesystem::last_write_time(autosave);
  test::pump(600);
  EXPECT_EQ(std::filesystem::last_write_time(autosave), written) << "autosaved again without new steps";

  // New steps are kept at the next interval.
  const int64_t before = step_of(*session);
  session->step_once();
  ASSERT_TRUE(wait_until([&] { return step_of(*session) > before; }, 120000));
  ASSERT_TRUE(wait_until([&] { return saved_step(autosave) > before; }, 60000)) << "new steps were not autosaved";
}

// Starts drmm-studio (on this test's Xvfb display) with private settings and data folders.
pid_t start_studio(const std::string& home, double autosave_minutes) {
  std::vector<std::string> args = {std::string(DRMM_BIN_DIR) + "/drmm-studio", "--demo", "--dataset", "synthetic",
                                   "--autosave-minutes", std::to_string(autosave_minutes)};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> variables = {"XDG_CONFIG_HOME=" + home + "/config", "XDG_DATA_HOME=" + home + "/data"};
  for (char** e = environ; *e; ++e)
    if (std::string_view(*e).substr(0, 4) != "XDG_") variables.emplace_back(*e);
  std::vector<char*> env;
  for (std::string& v : variables) env.push_back(v.data());
  env.push_back(nullptr);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), env.data()), 0);
  return pid;
}

TEST(StudioAutosave, AKilledStudioLeavesAnAutosaveThatLoads) {
  if (test::rerun_under_xvfb("StudioAutosave.AKilledStudioLeavesAnAutosaveThatLoads")) return;
  drmm::test::TempDir home;
  const std::string autosave = home / "data/drmm/drmm-studio/autosave.drmm";
  const pid_t pid = start_studio(home.str(), 0.01);  // every 0.6 s
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  int64_t first = -1;
  while (std::chrono::steady_clock::now() < deadline && first < 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (std::filesystem::exists(autosave)) first = saved_step(autosave);
  }
  // Killed while it trains and autosaves: whatever moment the kill lands on, the file loads.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_GE(first, 1) << "the studio wrote no autosave within 3 minutes of training";
  const CheckpointContents contents = read_checkpoint(autosave);
  EXPECT_GE(contents.meta.at("step").get<int64_t>(), first);
  EXPECT_FALSE(contents.arrays.empty());
}

}  // namespace
}  // namespace drmm::ui
