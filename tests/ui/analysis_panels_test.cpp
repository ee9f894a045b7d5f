// The panels that analyse the live model (Rendering paths, Samples, Activity maximization) in the
// real window under Xvfb: after some training each draws real pictures, a click on the network
// re-renders Î without a channel, the per-class statistics arrive, and gradient ascent advances
// while the model trains. DRMM_ANALYSIS_STEPS sets the training steps (default 60);
// DRMM_GUI_SHOTS names a folder for paths.png, samples.png and am.png (always written to
// <build>/test-output/ too).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <QImage>
#include <gtest/gtest.h>

#include "tests/ui/xvfb_test_support.h"
#include "ui/main_window.h"
#include "ui/panels/activity_max_panel.h"
#include "ui/panels/rendering_paths_panel.h"
#include "ui/panels/samples_panel.h"
#include "ui/session_controller.h"

namespace drmm::ui {
namespace {

using test::mouse;
using test::pump;
using test::rerun_under_xvfb;
using test::StudioUnderTest;
using test::wait_until;

// The luminance spread of a region of the panel's last frame: a flat fill has none.
double region_stddev(ImGuiPanelHost* panel, const std::string& region) {
  if (!panel->regions().count(region)) return 0;
  const PanelRect r = panel->regions().at(region);
  const QImage image = panel->grabFramebuffer().convertToFormat(QImage::Format_RGB32);
  const qreal dpr = panel->devicePixelRatioF();
  double sum = 0, sum2 = 0;
  size_t n = 0;
  for (int y = int(r.min.y * dpr); y < int(r.max.y * dpr) && y < image.height(); ++y)
    for (int x = int(r.min.x * dpr); x < int(r.max.x * dpr) && x < image.width(); ++x) {
      const QRgb c = image.pixel(std::max(x, 0), std::max(y, 0));
      const double v = 0.299 * qRed(c) + 0.587 * qGreen(c) + 0.114 * qBlue(c);
      sum += v, sum2 += v * v, ++n;
    }
  if (n == 0) return 0;
  const double mean = sum / double(n);
  return std::sqrt(std::max(0.0, sum2 / double(n) - mean * mean));
}

void raise(MainWindow& window, ImGuiPanelHost* panel) {
  EXPECT_TRUE(window.show_panel(panel->objectName()));
  pump(300);
}

void save_shot(MainWindow& window, const std::string& name) {
  const std::string folder = std::string(DRMM_BIN_DIR) + "/../test-output";
  std::filesystem::create_directories(folder);
  const QImage shot = window.grab().toImage();
  shot.save(QString::fromStdString(folder + "/analysis_" + name));
  if (const char* extra = std::getenv("DRMM_GUI_SHOTS")) {
    std::filesystem::create_directories(extra);
    shot.save(QString::fromStdString(std::string(extra) + "/" + name));
  }
}

TEST(AnalysisPanels, FollowTheLiveModel) {
  if (rerun_under_xvfb("AnalysisPanels.FollowTheLiveModel")) return;
  StudioUnderTest studio;
  MainWindow& window = studio.window();
  auto* session = window.findChild<SessionController*>();
  auto* paths = window.findChild<RenderingPathsPanel*>("rendering_paths");
  auto* samples = window.findChild<SamplesPanel*>("samples");
  auto* activity = window.findChild<ActivityMaxPanel*>("activity_max");
  ASSERT_NE(session, nullptr);
  ASSERT_NE(paths, nullptr);
  ASSERT_NE(samples, nullptr);
  ASSERT_NE(activity, nullptr);
  const long long steps = std::getenv("DRMM_ANALYSIS_STEPS") ? std::atoll(std::getenv("DRMM_ANALYSIS_STEPS")) : 60;

  session->start();
  ASSERT_TRUE(wait_until([&] { return session->latest()->step >= steps; }, 400000)) << "training did not reach " << steps;

  // Rendering paths: the path of the first probe, then the statistics, then an edit by a click.
  raise(window, paths);
  ASSERT_TRUE(wait_until([&] { return paths->path() != nullptr && paths->regions().count("rendering_paths.network"); }, 60000))
      << "no path on screen";
  EXPECT_EQ(paths->image_index(), session->probes().front());
  paths->compute_statistics();
  ASSERT_TRUE(wait_until([&] { return paths->has_statistics(); }, 120000)) << "no per-class statistics";
  session->pause();
  pump(1500);  // the last snapshot's path arrives
  const std::vector<float> before = paths->edited();
  ASSERT_FALSE(before.empty());
  // A click on the top level's strongest channel switches it off. The network draws one row per
  // level, top level first, each row's cells centred, at most 22 pixels wide.
  const PanelRect network = paths->regions().at("rendering_paths.network");
  const PathLevel& top = paths->path()->levels.back();
  const int strongest = int(std::max_element(top.channel_contribution.begin(), top.channel_contribution.end()) -
                            top.channel_contribution.begin());
  const float cell_w = std::min(network.width() / float(top.channels), 22.0f);
  const float row_h = network.height() / float(paths->path()->levels.size());
  const QPointF at(network.min.x + 0.5f * (network.width() - cell_w * float(top.channels)) + (float(strongest) + 0.5f) * cell_w,
                   network.min.y + 0.5f * row_h);
  mouse(paths, QEvent::MouseMove, at, Qt::NoButton, Qt::NoButton);
  pump(100);
  mouse(paths, QEvent::MouseButtonPress, at, Qt::LeftButton, Qt::LeftButton);
  pump(60);
  mouse(paths, QEvent::MouseButtonRelease, at, Qt::LeftButton, Qt::NoButton);
  EXPECT_TRUE(wait_until([&] { return paths->edited() != before; }, 20000)) << "Î was not re-rendered without the channel";
  pump(1500);  // the hovered channel's own rendering shows in the tooltip
  EXPECT_GT(region_stddev(paths, "rendering_paths.images"), 5.0);
  EXPECT_GT(region_stddev(paths, "rendering_paths.network"), 5.0);
  EXPECT_GT(region_stddev(paths, "rendering_paths.overlap"), 5.0);
  save_shot(window, "paths.png");
  mouse(paths, QEvent::MouseMove, QPointF(5, 5), Qt::NoButton, Qt::NoButton);

  // Samples: every class, marked, while training goes on.
  session->start();
  raise(window, samples);
  ASSERT_TRUE(wait_until([&] { return samples->sample_count() > 0 && samples->regions().count("samples.render_like"); }, 60000))
      << "no samples on screen";
  pump(2500);  // at least one refresh with the training model
  EXPECT_GT(region_stddev(samples, "samples.grid"), 5.0);
  EXPECT_GT(region_stddev(samples, "samples.render_like"), 5.0);
  std::printf("samples classified as their class: %.0f %%\n", 100 * samples->classified_rate());
  save_shot(window, "samples.png");

  // Activity maximization: the closed form of every class, and gradient ascent that advances
  // while the model trains.
  raise(window, activity);
  ASSERT_TRUE(wait_until([&] { return activity->closed_form_count() > 0; }, 60000)) << "no closed-form images";
  activity->set_running(true);
  pump(6000);
  EXPECT_GT(activity->ascent_steps(), 20);
  EXPECT_GT(activity->steps_per_second(), 1.0);
  std::printf("gradient ascent while training: %d steps, %.0f steps/s, training at step %lld\n",
              activity->ascent_steps(), activity->steps_per_second(), static_cast<long long>(session->latest()->step));
  EXPECT_GT(region_stddev(activity, "activity_max.closed_form"), 5.0);
  EXPECT_GT(region_stddev(activity, "activity_max.ascent"), 5.0);
  save_shot(window, "am.png");
  // Closing with a chunk in flight: the panel's destructor waits for it.
  window.close();
}

}  // namespace
}  // namespace drmm::ui
