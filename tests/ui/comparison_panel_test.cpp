// The DRMM vs CNN panel in the real window under Xvfb: with the CNN twin on (--compare-cnn), both
// runs train, the twin on L_H alone; the panel draws both accuracy curves, the three image
// columns (I, the DRMM's Î, the CNN's Î) and both rendering paths, and the DRMM renders the test
// images far better than the CNN. A reset gives a fresh twin, turning the mode off retires it,
// and the panel then says how to start it. DRMM_GUI_SHOTS names a folder for comparison.png.
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <string>

#include <QImage>
#include <gtest/gtest.h>

#include "core/train/training_session.h"
#include "tests/ui/xvfb_test_support.h"
#include "ui/main_window.h"
#include "ui/panels/comparison_panel.h"
#include "ui/session_controller.h"

namespace drmm::ui {
namespace {

using test::pump;
using test::region_stddev;
using test::rerun_under_xvfb;
using test::step_of;
using test::StudioUnderTest;
using test::wait_until;

double mean_r(const RunView& view) {
  return view.r.empty() ? 0 : std::accumulate(view.r.begin(), view.r.end(), 0.0) / double(view.r.size());
}

void save_shot(MainWindow& window, const char* name) {
  const QImage shot = window.screenshot().toImage();
  const std::string folder = std::string(DRMM_BIN_DIR) + "/../test-output";
  std::filesystem::create_directories(folder);
  shot.save(QString::fromStdString(folder + "/" + name));
  if (const char* extra = std::getenv("DRMM_GUI_SHOTS")) {
    std::filesystem::create_directories(extra);
    shot.save(QString::fromStdString(std::string(extra) + "/" + name));
  }
}

TEST(CompareStudio, BothRunsTrainAndThePanelShowsTheirCurvesRenderingsAndPaths) {
  if (rerun_under_xvfb("CompareStudio.BothRunsTrainAndThePanelShowsTheirCurvesRenderingsAndPaths")) return;
  StudioUnderTest studio([](StudioOptions& o) {
    o.config.dataset = "synthetic";
    o.config.epochs = 10;
    o.config.test_every = 20;  // two points on each curve by step 40
    o.config.test_limit = 200;
    o.config.render_limit = 100;
    o.compare_cnn = true;
  });
  MainWindow& window = studio.window();
  auto* panel = window.findChild<ComparisonPanel*>("comparison");
  auto* session = window.findChild<SessionController*>();
  ASSERT_NE(panel, nullptr);
  ASSERT_NE(session, nullptr);
  std::shared_ptr<TrainingSession> twin = session->cnn_twin_session();
  ASSERT_NE(twin, nullptr) << "--compare-cnn started no twin";
  EXPECT_EQ(twin->config().seed, session->config().seed);
  EXPECT_EQ(twin->config().alpha.rc, 0.0f);
  EXPECT_EQ(twin->config().alpha.kl, 0.0f);
  EXPECT_EQ(twin->config().alpha.nn, 0.0f);
  ASSERT_TRUE(window.show_panel("comparison"));

  constexpr int64_t kSteps = 45;
  session->start(kSteps);
  ASSERT_TRUE(wait_until([&] { return step_of(*session) >= kSteps && twin->latest()->step >= kSteps; }, 300000))
      << "DRMM at step " << step_of(*session) << ", CNN at step " << twin->latest()->step;
  ASSERT_TRUE(wait_until(
      [&] {
        const RunView* d = panel->view(ComparisonPanel::kDrmm);
        const RunView* c = panel->view(ComparisonPanel::kCnn);
        return d && c && d->step >= kSteps && c->step >= kSteps && panel->accuracy_points(ComparisonPanel::kCnn) >= 2;
      },
      60000))
      << "the panel did not render both runs at their last step";
  pump(800);
  EXPECT_FALSE(panel->shows_hint());
  EXPECT_GE(panel->accuracy_points(ComparisonPanel::kDrmm), 2u);
  EXPECT_GE(panel->accuracy_points(ComparisonPanel::kCnn), 2u);
  EXPECT_EQ(twin->latest()->history.back().loss_rc, 0.0) << "the twin trains a reconstruction";
  for (const char* region : {"comparison.curves", "comparison.inputs", "comparison.drmm_renderings",
                             "comparison.cnn_renderings", "comparison.drmm_path", "comparison.cnn_path"}) {
    ASSERT_TRUE(panel->regions().count(region)) << region << " not drawn";
    EXPECT_GT(region_stddev(panel, region), 5.0) << region << " is uniform";
  }
  // The same test images on both sides; the DRMM learned to render them, the CNN did not.
  const RunView& drmm = *panel->view(ComparisonPanel::kDrmm);
  const RunView& cnn = *panel->view(ComparisonPanel::kCnn);
  ASSERT_EQ(drmm.inputs.size(), cnn.inputs.size());
  EXPECT_EQ(drmm.inputs.front().data, cnn.inputs.front().data);
  EXPECT_GT(mean_r(drmm), mean_r(cnn) + 0.2) << "DRMM r " << mean_r(drmm) << ", CNN r " << mean_r(cnn);
  save_shot(window, "comparison.png");

  // A new run gets a fresh twin; the old one is retired, not kept alive by the panel.
  std::weak_ptr<TrainingSession> old_twin = twin;
  twin.reset();
  session->reset();
  const std::shared_ptr<TrainingSession> fresh = session->cnn_twin_session();
  ASSERT_NE(fresh, nullptr);
  EXPECT_NE(fresh.get(), old_twin.lock().get());
  EXPECT_EQ(fresh->latest()->step, 0);
  pump(500);
  ASSERT_TRUE(wait_until([&] { return old_twin.expired(); }, 30000)) << "the replaced twin still exists";

  session->set_compare_cnn(false);
  EXPECT_EQ(session->cnn_twin_session(), nullptr);
  ASSERT_TRUE(wait_until([&] { return panel->shows_hint(); }, 10000));
  pump(300);
  EXPECT_GT(region_stddev(panel, "comparison.hint"), 5.0);
}

TEST(CompareStudio, WithTheTwinOffThePanelSaysHowToStartIt) {
  if (rerun_under_xvfb("CompareStudio.WithTheTwinOffThePanelSaysHowToStartIt")) return;
  StudioUnderTest studio([](StudioOptions& o) { o.config.dataset = "synthetic"; });
  MainWindow& window = studio.window();
  auto* panel = window.findChild<ComparisonPanel*>("comparison");
  auto* session = window.findChild<SessionController*>();
  ASSERT_NE(panel, nullptr);
  EXPECT_EQ(session->cnn_twin_session(), nullptr);
  ASSERT_TRUE(window.show_panel("comparison"));
  ASSERT_TRUE(wait_until([&] { return panel->shows_hint() && panel->regions().count("comparison.hint"); }, 20000));
  pump(300);
  EXPECT_GT(region_stddev(panel, "comparison.hint"), 5.0) << "the hint is not drawn";
  EXPECT_FALSE(panel->regions().count("comparison.curves"));
  save_shot(window, "comparison_off.png");
}

}  // namespace
}  // namespace drmm::ui
