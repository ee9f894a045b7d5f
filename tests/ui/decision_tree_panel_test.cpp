// The Decision trees panel in the real window under Xvfb: a forest is trained on a worker thread
// when the data arrives, a drag on the drawing canvas paints and routes the drawing, a click in
// the dataset browser routes that image, and the wheel zooms the tree; floated and docked again
// (a new GL context), the tree keeps its view.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include <QApplication>
#include <QDockWidget>
#include <QImage>
#include <QScreen>
#include <QMouseEvent>
#include <QWheelEvent>
#include <gtest/gtest.h>

#include "tests/ui/xvfb_test_support.h"
#include "ui/gl_setup.h"
#include "ui/main_window.h"
#include "ui/panels/decision_tree_panel.h"
#include "ui/session_controller.h"

namespace drmm::ui {
namespace {

using test::mouse;
using test::pump;
using test::StudioUnderTest;
using test::rerun_under_xvfb;
using test::wait_until;

// How many pixels of `rect` on the screen (what the X server shows, not a fresh render) are not
// the tree canvas's background: the nodes and edges drawn there.
int drawn_pixels(DecisionTreePanel* panel, const PanelRect& rect) {
  const QPoint origin = panel->mapToGlobal(QPoint(0, 0));
  const QImage shot = QGuiApplication::primaryScreen()
                          ->grabWindow(0, origin.x(), origin.y(), panel->width(), panel->height())
                          .toImage()
                          .convertToFormat(QImage::Format_RGB32);
  const QColor background(22, 22, 27);
  int drawn = 0;
  for (int y = int(rect.min.y) + 1; y < int(rect.max.y) - 1 && y < shot.height(); ++y)
    for (int x = int(rect.min.x) + 1; x < int(rect.max.x) - 1 && x < shot.width(); ++x)
      drawn += QColor(shot.pixel(x, y)) != background ? 1 : 0;
  return drawn;
}

TEST(DecisionTreePanel, KeepsItsViewWhenDockedAgainAndShowsTheTreeItsSliderPicks) {
  if (rerun_under_xvfb("DecisionTreePanel.KeepsItsViewWhenDockedAgainAndShowsTheTreeItsSliderPicks")) return;
  StudioUnderTest studio;
  MainWindow& window = studio.window();
  auto* panel = window.findChild<DecisionTreePanel*>("decision_tree");
  auto* dock = window.findChild<QDockWidget*>("dock_decision_tree");
  ASSERT_NE(panel, nullptr);
  ASSERT_NE(dock, nullptr);
  ASSERT_TRUE(wait_until([&] { return panel->regions().count("decision_tree.tree") && !panel->path().empty(); }, 120000))
      << "no trained tree on screen";
  pump(300);
  const TreeViewport view = panel->view();
  const int drawn = drawn_pixels(panel, panel->regions().at("decision_tree.tree"));
  ASSERT_GT(drawn, 200) << "the tree is not drawn before docking";

  // Floating the dock and docking it again re-parents the panel: Qt gives it a new GL context.
  dock->setFloating(true);
  pump(500);
  dock->setFloating(false);
  pump(800);
  const TreeViewport kept = panel->view();
  EXPECT_FLOAT_EQ(kept.zoom, view.zoom);
  EXPECT_FLOAT_EQ(kept.offset_x, view.offset_x);
  EXPECT_FLOAT_EQ(kept.offset_y, view.offset_y);
  ASSERT_TRUE(panel->regions().count("decision_tree.tree"));
  EXPECT_GT(drawn_pixels(panel, panel->regions().at("decision_tree.tree")), drawn / 2)
      << "the tree is blank after docking again";

  // Dragging the tree slider to the last tree shows that tree (its overview), not a canvas the
  // drag panned off screen.
  const PanelRect slider = panel->regions().at("decision_tree.tree_index");
  const float y = 0.5f * (slider.min.y + slider.max.y);
  mouse(panel, QEvent::MouseMove, QPointF(slider.min.x + 4, y), Qt::NoButton, Qt::NoButton);
  pump(60);
  mouse(panel, QEvent::MouseButtonPress, QPointF(slider.min.x + 4, y), Qt::LeftButton, Qt::LeftButton);
  pump(80);
  for (float x = slider.min.x + 4; x <= slider.max.x + 40; x += 8) {
    mouse(panel, QEvent::MouseMove, QPointF(x, y + 0.5f * (x - slider.min.x)), Qt::NoButton, Qt::LeftButton);
    pump(40);
  }
  mouse(panel, QEvent::MouseButtonRelease, QPointF(slider.max.x + 40, y), Qt::LeftButton, Qt::NoButton);
  pump(800);
  EXPECT_GT(drawn_pixels(panel, panel->regions().at("decision_tree.tree")), drawn / 4)
      << "the tree is blank after choosing another tree";
  window.close();
}

TEST(DecisionTreePanel, TrainsDrawsRoutesAndZooms) {
  if (rerun_under_xvfb("DecisionTreePanel.TrainsDrawsRoutesAndZooms")) return;
  StudioUnderTest studio;
  MainWindow& window = studio.window();

  auto* panel = window.findChild<DecisionTreePanel*>("decision_tree");
  auto* browser = window.findChild<ImGuiPanelHost*>("dataset_browser");
  auto* session = window.findChild<SessionController*>();
  ASSERT_NE(panel, nullptr);
  ASSERT_NE(browser, nullptr);
  // The forest trains by itself once the data is there; then the tree, the canvas and a path show.
  ASSERT_TRUE(wait_until([&] {
    return panel->regions().count("decision_tree.tree") && panel->regions().count("decision_tree.drawing") &&
           !panel->path().empty();
  }, 120000)) << "no trained tree on screen";
  EXPECT_FALSE(panel->showing_drawing());
  EXPECT_EQ(panel->current_probe(), session->probes().front());

  // A left drag across the canvas paints a stroke, and the drawing becomes the routed input.
  const PanelRect canvas = panel->regions().at("decision_tree.drawing");
  const float y = 0.5f * (canvas.min.y + canvas.max.y);
  mouse(panel, QEvent::MouseMove, QPointF(canvas.min.x + 8, y), Qt::NoButton, Qt::NoButton);
  mouse(panel, QEvent::MouseButtonPress, QPointF(canvas.min.x + 8, y), Qt::LeftButton, Qt::LeftButton);
  pump(80);
  for (float x = canvas.min.x + 8; x < canvas.max.x - 8; x += 10) {
    mouse(panel, QEvent::MouseMove, QPointF(x, y), Qt::NoButton, Qt::LeftButton);
    pump(40);
  }
  mouse(panel, QEvent::MouseButtonRelease, QPointF(canvas.max.x - 8, y), Qt::LeftButton, Qt::NoButton);
  EXPECT_TRUE(wait_until([&] { return panel->showing_drawing() && panel->drawing_ink() > 10; }, 5000))
      << "ink " << panel->drawing_ink();
  EXPECT_TRUE(wait_until([&] { return !panel->path().empty(); }, 5000));

  // A click on an image of the browser that is not a probe yet routes that image.
  const PanelRect grid = browser->regions().at("dataset_browser.grid");
  // Tiles are 28 × 2 pixels with 4 between them; image 2 is not among the default probes (the first
  // image of each class).
  const QPointF third_tile(grid.min.x + 2 * 60 + 20, grid.min.y + 20);
  mouse(browser, QEvent::MouseMove, third_tile, Qt::NoButton, Qt::NoButton);
  mouse(browser, QEvent::MouseButtonPress, third_tile, Qt::LeftButton, Qt::LeftButton);
  mouse(browser, QEvent::MouseButtonRelease, third_tile, Qt::LeftButton, Qt::NoButton);
  const auto is_probe = [&] { return std::find(session->probes().begin(), session->probes().end(), size_t(2)) != session->probes().end(); };
  ASSERT_FALSE(is_probe());
  ASSERT_TRUE(wait_until(is_probe, 5000)) << "the click did not add image 2 to the probes";
  EXPECT_FALSE(panel->showing_drawing());
  EXPECT_EQ(panel->current_probe(), size_t(2));

  // The wheel over the tree zooms it.
  const PanelRect tree = panel->regions().at("decision_tree.tree");
  const QPointF centre(0.5f * (tree.min.x + tree.max.x), 0.5f * (tree.min.y + tree.max.y));
  const float zoom = panel->zoom();
  mouse(panel, QEvent::MouseMove, centre, Qt::NoButton, Qt::NoButton);
  pump(60);
  QWheelEvent wheel(centre, panel->mapToGlobal(centre), QPoint(), QPoint(0, 120), Qt::NoButton, Qt::NoModifier,
                    Qt::NoScrollPhase, false);
  QCoreApplication::sendEvent(panel, &wheel);
  EXPECT_TRUE(wait_until([&] { return panel->zoom() > zoom * 1.1f; }, 5000)) << panel->zoom() << " vs " << zoom;

  // A forest on the model's features at conv2 (level 2 of the tiny preset), taken from the run,
  // routes the current image through those features once the session has computed them. On a
  // loaded 2-core machine (other tests running beside it) this took over two minutes once.
  // The run's model must exist first (the session builds it below the GUI's priority, which on a
  // busy machine can take longer than the pixel forest above); before that the panel says so.
  ASSERT_TRUE(wait_until([&] { return !session->latest()->level_names.empty(); }, 120000)) << "the model never loaded";
  panel->train_on_level(2);
  EXPECT_TRUE(wait_until([&] { return panel->forest_level() == 2 && !panel->training() && !panel->path().empty(); },
                         400000))
      << "no forest on model features";
  pump(300);
  std::filesystem::create_directories(std::string(DRMM_BIN_DIR) + "/../test-output");
  window.screenshot().save(QString::fromStdString(std::string(DRMM_BIN_DIR) + "/../test-output/decision_tree_features.png"));
  window.close();
}

}  // namespace
}  // namespace drmm::ui
