#include "ui/frame_stats.h"

#include <algorithm>
#include <cstdio>

#include "ui/texture_cache.h"

namespace drmm::ui {
namespace {
double ms_between(FrameStats::Clock::time_point a, FrameStats::Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}
}  // namespace

Percentiles percentiles(std::vector<double> samples) {
  Percentiles p;
  p.count = samples.size();
  if (samples.empty()) return p;
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) { return samples[std::min(samples.size() - 1, size_t(q * double(samples.size() - 1) + 0.5))]; };
  p.median_ms = at(0.5);
  p.p99_ms = at(0.99);
  p.max_ms = samples.back();
  return p;
}

void FrameStats::set_animating(bool animating) { animating_ = animating; }

void FrameStats::frame_begin() {
  in_frame_ = true;
  presented_ = false;
  frame_start_ = Clock::now();
  frame_paint_ms_ = 0;
  frame_panels_ = 0;
}

void FrameStats::paint_begin() { panel_start_ = Clock::now(); }

void FrameStats::paint_end() {
  frame_paint_ms_ += ms_between(panel_start_, Clock::now());
  ++frame_panels_;
}

void FrameStats::frame_presented() { presented_ = true; }

void FrameStats::frame_end() {
  if (!in_frame_) return;
  in_frame_ = false;
  if (!presented_ && frame_panels_ == 0) return;  // nothing changed on screen: not a frame
  const Clock::time_point now = Clock::now();
  work_ms_.push_back(ms_between(frame_start_, now));
  if (frame_panels_ > 0) paint_ms_.push_back(frame_paint_ms_);
  if (have_present_ && animating_ && last_was_animating_) interval_ms_.push_back(ms_between(last_present_, now));
  last_present_ = now;
  have_present_ = true;
  last_was_animating_ = animating_;
}

std::string FrameStats::report() const {
  const Percentiles work = frame_work(), interval = presented_interval(), paint = panel_paint();
  char text[768];
  std::snprintf(text, sizeof text,
                "frame-stats: frame work (a window's repaint start → swapped): median %.2f ms, p99 %.2f ms, "
                "max %.2f ms over %zu frames\n"
                "frame-stats: presented-frame interval while training: median %.2f ms, p99 %.2f ms, max %.2f ms "
                "over %zu intervals\n"
                "frame-stats: of which panels painting (ImGui + GL calls): median %.2f ms, p99 %.2f ms\n"
                "frame-stats: texture uploads %llu\n",
                work.median_ms, work.p99_ms, work.max_ms, work.count, interval.median_ms, interval.p99_ms,
                interval.max_ms, interval.count, paint.median_ms, paint.p99_ms,
                static_cast<unsigned long long>(TextureCache::total_uploads()));
  return text;
}

}  // namespace drmm::ui
