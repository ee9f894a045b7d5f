// The Shallow RMM panel in the real window under Xvfb: raised for the first time it runs hard EM
// on the studio's dataset (Fashion-MNIST when it is present, else synthetic) off the GUI thread while training goes on, shows every
// template, the assignments and the likelihood curve, and ends with templates that classify the
// test images well above chance. DRMM_GUI_SHOTS names a folder for shallow_rmm.png.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <QImage>
#include <gtest/gtest.h>

#include "tests/ui/xvfb_test_support.h"
#include "ui/main_window.h"
#include "ui/panels/shallow_rmm_panel.h"
#include "ui/session_controller.h"

namespace drmm::ui {
namespace {

using test::pump;
using test::region_stddev;
using test::rerun_under_xvfb;
using test::StudioUnderTest;
using test::wait_until;

TEST(ShallowRmmPanel, RunsHardEmWhenFirstShownAndDrawsTemplatesAssignmentsAndTheLikelihood) {
  if (rerun_under_xvfb("ShallowRmmPanel.RunsHardEmWhenFirstShownAndDrawsTemplatesAssignmentsAndTheLikelihood")) return;
  StudioUnderTest studio;
  MainWindow& window = studio.window();
  auto* panel = window.findChild<ShallowRmmPanel*>("shallow_rmm");
  auto* session = window.findChild<SessionController*>();
  ASSERT_NE(panel, nullptr);
  ASSERT_NE(session, nullptr);
  ASSERT_TRUE(wait_until([&] { return session->dataset() != nullptr; }, 60000)) << "no dataset";
  pump(500);
  EXPECT_EQ(panel->iterations_done(), 0u) << "EM ran while the panel was hidden";
  ASSERT_TRUE(window.show_panel("shallow_rmm"));
  ASSERT_TRUE(wait_until([&] { return panel->iterations_done() >= 10 && !panel->running(); }, 120000))
      << "hard EM did not finish its 10 iterations; done " << panel->iterations_done();
  pump(600);
  const rmm::Trained& trained = *panel->trained();
  for (size_t i = 1; i < trained.history.size(); ++i)
    EXPECT_GE(trained.history[i].log_likelihood, trained.history[i - 1].log_likelihood - 1e-6) << "iteration " << i + 1;
  // Ten classes: chance is 0.1; the README measures 0.687 on Fashion-MNIST (supervised, ±2, the
  // panel's defaults) and 0.915 on synthetic.
  EXPECT_GT(trained.history.back().test_accuracy, 0.6);
  for (const char* region : {"shallow_rmm.templates", "shallow_rmm.assignments", "shallow_rmm.likelihood"}) {
    ASSERT_TRUE(panel->regions().count(region)) << region << " not drawn";
    EXPECT_GT(region_stddev(panel, region), 5.0) << region << " is uniform";
  }
  const QImage shot = window.screenshot().toImage();
  const std::string folder = std::string(DRMM_BIN_DIR) + "/../test-output";
  std::filesystem::create_directories(folder);
  shot.save(QString::fromStdString(folder + "/shallow_rmm.png"));
  if (const char* extra = std::getenv("DRMM_GUI_SHOTS")) {
    std::filesystem::create_directories(extra);
    shot.save(QString::fromStdString(std::string(extra) + "/shallow_rmm.png"));
  }
}

}  // namespace
}  // namespace drmm::ui
