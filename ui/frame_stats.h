#pragma once
// The two figures issue 6 sets targets for, measured on the GUI thread:
//  - frame work: from the start of the window's repaint (before the first panel paints) to the end of the
//    window's composition (QOpenGLWidget::frameSwapped: the top-level window has composed every
//    panel's texture and returned from swapBuffers);
//  - presented interval: the time between two presented frames, counted only while the window is
//    animating (training runs), because an idle window presents nothing on purpose.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace drmm::ui {

struct Percentiles {
  size_t count = 0;
  double median_ms = 0, p99_ms = 0, max_ms = 0;
};
Percentiles percentiles(std::vector<double> samples_ms);

class FrameStats {
 public:
  using Clock = std::chrono::steady_clock;

  // The window starts a repaint (QEvent::UpdateRequest on the top-level window): the frame's work
  // starts here, before any panel paints, so status-bar-only frames are measured too.
  void window_update_begin();
  void paint_begin();                 // every panel's paintGL calls this; the first of a frame counts
  void paint_end();                   // every panel's paintGL ends with this: the panels' share of a frame
  void frame_presented(bool animating);  // every panel's frameSwapped; duplicates of one composition are merged

  Percentiles frame_work() const { return percentiles(work_ms_); }
  Percentiles presented_interval() const { return percentiles(interval_ms_); }
  Percentiles panel_paint() const { return percentiles(paint_ms_); }
  std::string report() const;  // two lines, for --frame-stats

 private:
  bool painting_ = false;
  Clock::time_point paint_start_{};
  Clock::time_point last_present_{};
  bool have_present_ = false;
  bool last_was_animating_ = false;
  Clock::time_point panel_start_{};
  double frame_paint_ms_ = 0;
  int frame_panels_ = 0;
  std::vector<double> work_ms_, interval_ms_, paint_ms_;
};

}  // namespace drmm::ui
