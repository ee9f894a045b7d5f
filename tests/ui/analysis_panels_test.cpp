// The panels that analyse the live model (Rendering paths, Samples, Activity maximization) in the
// real window under Xvfb: after some training each draws real pictures, a right click on the
// network re-renders Î without a channel, a click shows a channel's units and a click on one unit
// re-renders Î without it (and the edit outlives re-inference), the per-class statistics arrive
// and show a class's channel usage, and gradient ascent advances while the model trains.
// DRMM_ANALYSIS_STEPS sets the training steps (default 60); DRMM_GUI_SHOTS names a folder for
// paths.png, paths_units.png, samples.png and am.png (always written to <build>/test-output/ too).
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
using test::region_stddev;
using test::rerun_under_xvfb;
using test::StudioUnderTest;
using test::wait_until;

void click(QWidget* widget, QPointF at, Qt::MouseButton button) {
  mouse(widget, QEvent::MouseMove, at, Qt::NoButton, Qt::NoButton);
  pump(100);
  mouse(widget, QEvent::MouseButtonPress, at, button, button);
  pump(60);
  mouse(widget, QEvent::MouseButtonRelease, at, button, Qt::NoButton);
}

// The centre of channel `channel` of path level `level` in the network: one row per level, top
// level first, each row's cells centred, at most 22 pixels wide.
QPointF channel_cell(RenderingPathsPanel* paths, size_t level, int channel) {
  const PanelRect network = paths->regions().at("rendering_paths.network");
  const RenderingPath& path = *paths->path();
  const int channels = path.levels[level].channels;
  const float cell_w = std::min(network.width() / float(channels), 22.0f);
  const float row_h = network.height() / float(path.levels.size());
  return QPointF(network.min.x + 0.5f * (network.width() - cell_w * float(channels)) + (float(channel) + 0.5f) * cell_w,
                 network.min.y + (float(path.levels.size() - 1 - level) + 0.5f) * row_h);
}

int strongest_channel(const PathLevel& level) {
  return int(std::max_element(level.channel_contribution.begin(), level.channel_contribution.end()) -
             level.channel_contribution.begin());
}

void raise(MainWindow& window, ImGuiPanelHost* panel) {
  EXPECT_TRUE(window.show_panel(panel->objectName()));
  pump(300);
}

void save_shot(MainWindow& window, const std::string& name) {
  const std::string folder = std::string(DRMM_BIN_DIR) + "/../test-output";
  std::filesystem::create_directories(folder);
  const QImage shot = window.screenshot().toImage();
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
  // A right click on the top level's strongest channel switches it off.
  const size_t top = paths->path()->levels.size() - 1;
  click(paths, channel_cell(paths, top, strongest_channel(paths->path()->levels[top])), Qt::RightButton);
  EXPECT_TRUE(wait_until([&] { return paths->edited() != before; }, 20000)) << "Î was not re-rendered without the channel";
  EXPECT_EQ(paths->selected_channel().second, -1) << "a right click only switches";
  pump(1500);  // the hovered channel's own rendering shows in the tooltip
  EXPECT_GT(region_stddev(paths, "rendering_paths.images"), 5.0);
  EXPECT_GT(region_stddev(paths, "rendering_paths.network"), 5.0);
  EXPECT_GT(region_stddev(paths, "rendering_paths.overlap"), 5.0);
  save_shot(window, "paths.png");

  // The class usage: the image's class by default; a click on the heat map's row c, column d
  // compares c with d.
  ASSERT_TRUE(paths->regions().count("rendering_paths.usage")) << "no class usage";
  const PanelRect overlap = paths->regions().at("rendering_paths.overlap");
  const int classes = int(session->latest()->class_names.size());  // the heat map is classes × classes
  ASSERT_GT(classes, 1);
  const float heat_cell = overlap.width() / float(classes);
  const int usage = paths->path()->rendered_class, contrast = (usage + 1) % classes;
  click(paths, QPointF(overlap.min.x + (float(contrast) + 0.5f) * heat_cell, overlap.min.y + (float(usage) + 0.5f) * heat_cell),
        Qt::LeftButton);
  EXPECT_TRUE(wait_until([&] { return paths->usage_classes() == std::make_pair(usage, contrast); }, 5000));

  // A click on conv1's strongest channel shows its units; a click on its strongest unit switches
  // that unit alone off and Î is re-rendered without it.
  const PathLevel& bottom = paths->path()->levels.front();
  const int channel = strongest_channel(bottom);
  click(paths, channel_cell(paths, 0, channel), Qt::LeftButton);
  ASSERT_TRUE(wait_until([&] { return paths->selected_channel() == std::make_pair(size_t(0), channel) &&
                                      paths->regions().count("rendering_paths.units"); }, 5000))
      << "no unit map";
  size_t unit = bottom.unit(channel, 0, 0);
  for (int y = 0; y < bottom.height; ++y)
    for (int x = 0; x < bottom.width; ++x)
      if (bottom.contribution[bottom.unit(channel, y, x)] > bottom.contribution[unit]) unit = bottom.unit(channel, y, x);
  ASSERT_GT(bottom.on[unit], 0.5f);
  const int unit_y = int(unit % (size_t(bottom.height) * size_t(bottom.width))) / bottom.width;
  const int unit_x = int(unit % size_t(bottom.width));
  const PanelRect units = paths->regions().at("rendering_paths.units");
  const float unit_cell = units.width() / float(bottom.width);
  pump(300);
  const std::vector<float> before_unit = paths->edited();
  click(paths, QPointF(units.min.x + (float(unit_x) + 0.5f) * unit_cell, units.min.y + (float(unit_y) + 0.5f) * unit_cell),
        Qt::LeftButton);
  EXPECT_TRUE(wait_until([&] { return paths->unit_off(0, unit) && paths->edited() != before_unit; }, 20000))
      << "Î was not re-rendered without the unit";
  EXPECT_FALSE(paths->unit_off(0, unit == 0 ? 1 : unit - 1)) << "one unit only";
  pump(1500);  // the hovered unit's own rendering shows in the tooltip
  EXPECT_GT(region_stddev(paths, "rendering_paths.units"), 5.0);
  EXPECT_GT(region_stddev(paths, "rendering_paths.usage"), 5.0);
  save_shot(window, "paths_units.png");

  // One more batch: a new path with the new weights, and the unit is still off.
  const RenderingPath* old_path = paths->path();
  session->step_once();
  EXPECT_TRUE(wait_until([&] { return paths->path() != old_path; }, 30000)) << "no re-inference";
  EXPECT_TRUE(paths->unit_off(0, unit));
  EXPECT_EQ(paths->selected_channel(), std::make_pair(size_t(0), channel));
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
