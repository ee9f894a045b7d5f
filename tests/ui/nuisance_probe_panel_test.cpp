// The Nuisance decoding panel in the real window under Xvfb, on a run training on the synthetic
// shapes: hidden, it never probes; raised, it probes the live model off the GUI thread (one score
// per level and target, the class decoded far above chance) and draws the plot; compared with a
// checkpoint of the same weights, it probes that too and finds the same scores. DRMM_GUI_SHOTS
// names a folder for nuisance_probe.png (the cursor over the plot, showing its tooltip).
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <utility>

#include <QImage>
#include <gtest/gtest.h>

#include "tests/ui/xvfb_test_support.h"
#include "ui/main_window.h"
#include "ui/panels/nuisance_probe_panel.h"
#include "ui/session_controller.h"

namespace drmm::ui {
namespace {

using test::pump;
using test::region_stddev;
using test::rerun_under_xvfb;
using test::step_of;
using test::StudioUnderTest;
using test::wait_until;

void save_shot(MainWindow& window) {
  const QImage shot = window.screenshot().toImage();
  const std::string folder = std::string(DRMM_BIN_DIR) + "/../test-output";
  std::filesystem::create_directories(folder);
  shot.save(QString::fromStdString(folder + "/nuisance_probe.png"));
  if (const char* extra = std::getenv("DRMM_GUI_SHOTS")) {
    std::filesystem::create_directories(extra);
    shot.save(QString::fromStdString(std::string(extra) + "/nuisance_probe.png"));
  }
}

TEST(NuisanceProbePanel, ProbesTheLiveModelOnceShownAndACheckpointOfItAlike) {
  if (rerun_under_xvfb("NuisanceProbePanel.ProbesTheLiveModelOnceShownAndACheckpointOfItAlike")) return;
  StudioUnderTest studio([](StudioOptions& o) { o.config.dataset = "synthetic"; });
  MainWindow& window = studio.window();
  auto* panel = window.findChild<NuisanceProbePanel*>("nuisance_probe");
  auto* session = window.findChild<SessionController*>();
  ASSERT_NE(panel, nullptr);
  ASSERT_NE(session, nullptr);

  session->start();
  ASSERT_TRUE(wait_until([&] { return step_of(*session) >= 40; }, 300000)) << "training did not reach step 40";
  session->pause();
  pump(500);
  EXPECT_EQ(panel->runs_done(), 0u) << "probed while the panel was hidden";
  EXPECT_FALSE(panel->busy()) << "probing while the panel was hidden";

  ASSERT_TRUE(window.show_panel("nuisance_probe"));
  ASSERT_TRUE(wait_until([&] { return panel->runs_done() == 1 && !panel->busy(); }, 120000)) << "no probe after raising the panel";
  pump(600);
  ASSERT_EQ(panel->error(), "");
  const analysis::SyntheticProbe& live = *panel->live();
  EXPECT_EQ(live.dataset, "synthetic");
  EXPECT_EQ(live.images, 1500u);
  // tiny: the pixels, conv1, pool1, conv2, pool2 and the class layer's input; the class and six nuisances.
  std::set<std::pair<size_t, std::string>> seen;
  double best_class = 0, chance = 1;
  for (const analysis::ProbeScore& s : live.scores) {
    EXPECT_TRUE(seen.insert({s.level, s.target}).second) << s.level_name << " " << s.target << " twice";
    if (s.target == "class") best_class = std::max(best_class, s.score), chance = s.chance;
  }
  EXPECT_EQ(seen.size(), 6u * 7u);
  EXPECT_LT(chance, 0.2);  // ten balanced classes
  EXPECT_GT(best_class, chance + 0.6) << "the class is not decoded far above chance at any level";
  ASSERT_TRUE(panel->regions().count("nuisance_probe.plot")) << "no plot";
  EXPECT_GT(region_stddev(panel, "nuisance_probe.plot"), 5.0) << "the plot is uniform";

  // A checkpoint of the paused run's weights: the same levels, the same scores, dashed in the same plot.
  const std::filesystem::path checkpoint = std::filesystem::path(DRMM_BIN_DIR) / ".." / "test-output" / "nuisance_probe" / "run.drmm";
  std::filesystem::create_directories(checkpoint.parent_path());
  session->save_checkpoint(QString::fromStdString(checkpoint.string()));
  ASSERT_TRUE(wait_until([&] { return !session->saving(); }, 60000));
  panel->compare_with(QString::fromStdString(checkpoint.string()));
  ASSERT_TRUE(wait_until([&] { return panel->runs_done() == 2 && !panel->busy(); }, 180000)) << "no probe of the checkpoint";
  pump(600);
  ASSERT_NE(panel->comparison(), nullptr) << panel->error();
  EXPECT_EQ(panel->comparison()->label, "run");
  const std::vector<analysis::ProbeScore>& theirs = panel->comparison()->probe.scores;
  ASSERT_EQ(theirs.size(), panel->live()->scores.size());
  for (size_t i = 0; i < theirs.size(); ++i)  // another backend's thread count: sums in another order
    EXPECT_NEAR(theirs[i].score, panel->live()->scores[i].score, 1e-3) << theirs[i].level_name << " " << theirs[i].target;
  EXPECT_FALSE(panel->regions().count("nuisance_probe.compared")) << "the same levels belong in one plot";
  // The shot with the cursor over the plot: its tooltip lists every score at that level.
  const PanelRect plot = panel->regions().at("nuisance_probe.plot");
  test::mouse(panel, QEvent::MouseMove, QPointF(plot.min.x + plot.width() * 0.45, plot.min.y + plot.height() * 0.5), Qt::NoButton,
              Qt::NoButton);
  pump(800);
  save_shot(window);
}

}  // namespace
}  // namespace drmm::ui
