#pragma once
// Helpers for tests that drive the real main window in-process: re-running under Xvfb when
// there is no display (ctest has no X server), and pumping Qt events until a condition holds.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>

#include <QApplication>
#include <QCoreApplication>
#include <QImage>
#include <QMouseEvent>
#include <gtest/gtest.h>

#include "ui/gl_setup.h"
#include "ui/imgui_panel_host.h"
#include "ui/main_window.h"
#include "ui/session_controller.h"
#include "ui/studio_options.h"

namespace drmm::ui::test {

// Without a display the test runs itself again under xvfb-run; returns true when the caller
// must stop (the nested run did the work, or it could not run).
inline bool rerun_under_xvfb(const char* test_name) {
  if (std::getenv("DISPLAY") != nullptr) return false;
  const std::string command = "DRMM_UI_TEST_NESTED=1 xvfb-run -a -s '-screen 0 1400x900x24' /proc/" +
                              std::to_string(::getpid()) + "/exe --gtest_filter='" + test_name + "' 2>&1";
  if (std::getenv("DRMM_UI_TEST_NESTED") != nullptr || std::system("command -v xvfb-run > /dev/null 2>&1") != 0) {
    ADD_FAILURE() << "no display and no xvfb-run";
    return true;
  }
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return true;
}

// Processes Qt events until `done` holds or `timeout_ms` pass; returns whether it held.
inline bool wait_until(const std::function<bool()>& done, int timeout_ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    if (done()) return true;
  }
  return false;
}

// The step of the run's newest snapshot (−1 before the first).
inline int64_t step_of(const SessionController& session) {
  const auto snapshot = session.latest();
  return snapshot ? snapshot->step : -1;
}

inline void pump(int ms) {
  wait_until([] { return false; }, ms);
}

inline void mouse(QWidget* widget, QEvent::Type type, QPointF at, Qt::MouseButton button, Qt::MouseButtons buttons) {
  QMouseEvent event(type, at, widget->mapToGlobal(at), button, buttons, Qt::NoModifier);
  QCoreApplication::sendEvent(widget, &event);
}

// The luminance spread of a region of the panel's last frame: a flat fill has none.
inline double region_stddev(ImGuiPanelHost* panel, const std::string& region) {
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

// The real main window, shown, with a reproducible configuration: no saved settings, and the
// trainer on one thread as in the app.
class StudioUnderTest {
 public:
  // `adjust` changes the test window's options (a folder to watch, a dataset) before it opens.
  explicit StudioUnderTest(const std::function<void(StudioOptions&)>& adjust = {})
      : app_((configure_opengl_before_qapplication(), argc_), argv_), window_(options(adjust)) {
    window_.show();
  }
  MainWindow& window() { return window_; }

 private:
  static StudioOptions options(const std::function<void(StudioOptions&)>& adjust) {
    StudioOptions o;
    o.use_settings = false;
    o.config.threads = 1;
    if (adjust) adjust(o);
    return o;
  }
  int argc_ = 1;
  char name_[16] = "drmm_ui_tests";
  char* argv_[2] = {name_, nullptr};
  QApplication app_;
  MainWindow window_;
};

}  // namespace drmm::ui::test
