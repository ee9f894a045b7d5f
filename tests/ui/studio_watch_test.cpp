// The studio watching a run folder (File ▸ Watch run folder…, --watch): a checkpoint written
// into it after the window opened, by a trainer that is not the studio's, reaches every panel,
// and a newer one replaces it; the window never trains the run itself.
#include <algorithm>

#include <QAction>
#include <gtest/gtest.h>

#include "core/train/trainer.h"
#include "tests/core/dataset_test_files.h"
#include "tests/ui/xvfb_test_support.h"
#include "ui/imgui_panel_host.h"
#include "ui/main_window.h"
#include "ui/session_controller.h"

namespace drmm::ui {
namespace {

using drmm::test::TempDir;
using test::pump;
using test::rerun_under_xvfb;
using test::StudioUnderTest;
using test::wait_until;

TEST(StudioWatch, ACheckpointWrittenAfterTheWindowOpenedReachesThePanels) {
  if (rerun_under_xvfb("StudioWatch.ACheckpointWrittenAfterTheWindowOpenedReachesThePanels")) return;
  TempDir dir;
  StudioUnderTest studio([&](StudioOptions& o) { o.watch_folder = QString::fromStdString(dir.str()); });
  MainWindow& window = studio.window();
  auto* session = window.findChild<SessionController*>();
  ASSERT_NE(session, nullptr);
  ASSERT_TRUE(wait_until([&] { return session->latest()->status.find("waiting for its first checkpoint") !=
                                      std::string::npos; }, 30000))
      << session->latest()->status;

  TrainConfig config;  // another process's run: the synthetic shapes, not the window's dataset
  config.dataset = "synthetic";
  config.epochs = 0.05;
  config.threads = 1;
  config.test_limit = 100;
  Trainer writer(config);
  writer.step();
  writer.step();
  writer.save(dir / "checkpoint.bin");
  ASSERT_TRUE(wait_until([&] { return session->latest()->step == 2 && !session->latest()->probes.empty(); }, 60000))
      << session->latest()->status;
  const auto shown = session->latest();
  EXPECT_EQ(shown->dataset_name, "synthetic");
  EXPECT_EQ(shown->watched_folder, dir.str());
  // The browser follows the watched run's dataset.
  EXPECT_TRUE(wait_until([&] { return session->config().dataset == "synthetic"; }, 5000));
  // Every panel draws from the watched run's snapshot.
  const auto panels = window.findChildren<ImGuiPanelHost*>();
  ASSERT_GE(panels.size(), 5);
  EXPECT_TRUE(wait_until([&] {
    return std::all_of(panels.begin(), panels.end(), [](const ImGuiPanelHost* p) { return p->shown_step() == 2; });
  }, 10000));

  // Nothing trains here: the actions are off and a start request changes nothing.
  pump(1500);
  for (QAction* action : window.findChildren<QAction*>()) {
    if (action->text() == QObject::tr("&Start") || action->text() == QObject::tr("Step one &batch")) {
      EXPECT_FALSE(action->isEnabled()) << action->text().toStdString();
    }
  }
  session->start();
  pump(1500);
  EXPECT_EQ(session->latest()->step, 2);
  EXPECT_FALSE(session->latest()->running);

  writer.step();
  writer.save(dir / "checkpoint.bin");
  EXPECT_TRUE(wait_until([&] { return session->latest()->step == 3; }, 30000)) << session->latest()->status;
  window.close();
}

}  // namespace
}  // namespace drmm::ui
