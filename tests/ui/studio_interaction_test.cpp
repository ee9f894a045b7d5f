// The real main window driven in-process under Xvfb: mouse events go through Qt, the Qt→ImGui
// bridge and an ImGui frame to the panel's code, at the rectangles the panel recorded. A press
// and its release are sent back to back, with no frame between them — exactly the click that
// ImGui 1.86 would lose without the bridge keeping the press for one frame.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <string>

#include <QApplication>
#include <QMouseEvent>
#include <QTest>
#include <QWindow>
#include <gtest/gtest.h>

#include "core/util/png_io.h"
#include "tests/core/dataset_test_files.h"
#include "tests/ui/xvfb_test_support.h"
#include "ui/gl_setup.h"
#include "ui/imgui_panel_host.h"
#include "ui/main_window.h"
#include "ui/session_controller.h"

namespace drmm::ui {
namespace {

using test::pump;
using test::StudioUnderTest;
using drmm::test::TempDir;
using test::rerun_under_xvfb;
using test::wait_until;

void click(QWidget* widget, QPointF at) {
  const QPointF global = widget->mapToGlobal(at);
  QMouseEvent move(QEvent::MouseMove, at, global, Qt::NoButton, Qt::NoButton, Qt::NoModifier);
  QMouseEvent press(QEvent::MouseButtonPress, at, global, Qt::LeftButton, Qt::LeftButton, Qt::NoModifier);
  QMouseEvent release(QEvent::MouseButtonRelease, at, global, Qt::LeftButton, Qt::NoButton, Qt::NoModifier);
  QCoreApplication::sendEvent(widget, &move);
  QCoreApplication::sendEvent(widget, &press);
  QCoreApplication::sendEvent(widget, &release);
}

TEST(StudioInteraction, ClickingADatasetImageTogglesItAsAProbe) {
  if (rerun_under_xvfb("StudioInteraction.ClickingADatasetImageTogglesItAsAProbe")) return;
  StudioUnderTest studio;
  MainWindow& window = studio.window();

  auto* browser = window.findChild<ImGuiPanelHost*>("dataset_browser");
  auto* session = window.findChild<SessionController*>();
  ASSERT_NE(browser, nullptr);
  ASSERT_NE(session, nullptr);
  // The browser has drawn a page of images and the default probes (one image per class) are set.
  ASSERT_TRUE(wait_until([&] { return browser->regions().count("dataset_browser.grid") && !session->probes().empty(); }, 60000))
      << "the dataset browser never showed its grid";
  const PanelRect grid = browser->regions().at("dataset_browser.grid");
  // Image 0 is the first image of its class, so it starts as a probe; the first tile shows it.
  ASSERT_NE(std::find(session->probes().begin(), session->probes().end(), size_t(0)), session->probes().end());
  const QPointF first_tile(grid.min.x + 10, grid.min.y + 10);
  const auto is_probe = [&] {
    return std::find(session->probes().begin(), session->probes().end(), size_t(0)) != session->probes().end();
  };

  click(browser, first_tile);
  EXPECT_TRUE(wait_until([&] { return !is_probe(); }, 5000)) << "a click did not remove the probe";
  click(browser, first_tile);
  EXPECT_TRUE(wait_until(is_probe, 5000)) << "a second click did not add it back";
  window.close();
}

// The panels whose pictures are drawn, not computed images (curves, the tree), export what is
// on screen: a PNG of the panel's size with more than one color in it.
TEST(StudioInteraction, DrawnPanelsExportThemselvesAsShown) {
  if (rerun_under_xvfb("StudioInteraction.DrawnPanelsExportThemselvesAsShown")) return;
  StudioUnderTest studio;
  MainWindow& window = studio.window();
  TempDir dir;
  for (const char* name : {"training", "decision_tree"}) {
    SCOPED_TRACE(name);
    auto* panel = window.findChild<ImGuiPanelHost*>(name);
    ASSERT_NE(panel, nullptr);
    ASSERT_TRUE(wait_until([&] { return !panel->regions().empty(); }, 60000)) << "the panel never drew";
    const std::string path = dir / (std::string(name) + ".png");
    panel->write_export(QString::fromStdString(path), "png");
    const Image8 image = read_png(path);
    const qreal dpr = panel->devicePixelRatioF();
    EXPECT_EQ(image.width, int(panel->width() * dpr));
    EXPECT_EQ(image.height, int(panel->height() * dpr));
    ASSERT_EQ(image.channels, 4);
    EXPECT_NE(std::adjacent_find(image.pixels.begin(), image.pixels.end(), std::not_equal_to<>()), image.pixels.end());
  }
  window.close();
}

// A panel's picture is an embedded GL window (ui/imgui_panel_host.h) that takes no keyboard focus:
// a click into it must give the panel the focus of its window and make that window active (there
// is no window manager here to do it), so that keys go to the main window and its shortcuts apply
// (without activation X hands keys to the GL window under the pointer and F6 does nothing).
TEST(StudioInteraction, AClickIntoAPanelActivatesItsWindowAndFocusesThePanel) {
  if (rerun_under_xvfb("StudioInteraction.AClickIntoAPanelActivatesItsWindowAndFocusesThePanel")) return;
  StudioUnderTest studio;
  MainWindow& window = studio.window();
  auto* training = window.findChild<ImGuiPanelHost*>("training");
  ASSERT_NE(training, nullptr);
  ASSERT_TRUE(wait_until([&] { return !training->regions().empty(); }, 60000)) << "the panel never drew";
  // The bottom edge of the panel: below its plots, where a click hits no control.
  const QPoint empty_spot(training->width() / 2, training->height() - 3);
  QTest::mouseClick(training->gl_window(), Qt::LeftButton, Qt::NoModifier, empty_spot);
  ASSERT_TRUE(wait_until([&] { return QGuiApplication::focusWindow() == window.windowHandle(); }, 5000))
      << "the click did not activate the window";
  EXPECT_TRUE(training->hasFocus());
  EXPECT_EQ(QApplication::focusWidget(), training);
  window.close();
}

}  // namespace
}  // namespace drmm::ui
