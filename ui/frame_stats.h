#pragma once
// The two figures the studio has targets for, measured on the GUI thread:
//  - frame work: one repaint of one window — a panel's GL window, or the main window's widgets
//    (toolbar, status bar, timeline) — from the moment Qt starts it (its QEvent::UpdateRequest or
//    Expose) to the moment it returns, painted and swapped (QOpenGLWindow::frameSwapped fires
//    inside it);
//  - presented interval: the time between two repaints that presented something, counted only
//    while training runs, because an idle window presents nothing on purpose.
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

  void set_animating(bool animating);  // whether training runs (intervals are counted only then)
  void frame_begin();                  // a window starts a repaint
  void frame_end();                    // the repaint returned
  void paint_begin();                  // a panel's paintGL starts
  void paint_end();                    // … and ends: the panels' share of the frame
  void frame_presented();              // a repaint reached the screen (frameSwapped)

  Percentiles frame_work() const { return percentiles(work_ms_); }
  Percentiles presented_interval() const { return percentiles(interval_ms_); }
  Percentiles panel_paint() const { return percentiles(paint_ms_); }
  std::string report() const;  // a few lines, for --frame-stats

 private:
  bool in_frame_ = false;
  Clock::time_point frame_start_{}, panel_start_{}, last_present_{};
  bool presented_ = false, have_present_ = false, last_was_animating_ = false, animating_ = false;
  double frame_paint_ms_ = 0;
  int frame_panels_ = 0;
  std::vector<double> work_ms_, interval_ms_, paint_ms_;
};

}  // namespace drmm::ui
