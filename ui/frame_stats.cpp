#include "ui/frame_stats.h"

#include <algorithm>
#include <cstdio>

#include "ui/texture_cache.h"

namespace drmm::ui {

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

void FrameStats::window_update_begin() {
  painting_ = true;  // restarts: an update request that composed nothing must not stretch the next frame
  paint_start_ = Clock::now();
  frame_paint_ms_ = 0;
  frame_panels_ = 0;
}

void FrameStats::paint_begin() {
  panel_start_ = Clock::now();
  if (painting_) return;
  painting_ = true;
  paint_start_ = panel_start_;
  frame_paint_ms_ = 0;
  frame_panels_ = 0;
}

void FrameStats::paint_end() {
  frame_paint_ms_ += std::chrono::duration<double, std::milli>(Clock::now() - panel_start_).count();
  ++frame_panels_;
}

void FrameStats::frame_presented(bool animating) {
  const Clock::time_point now = Clock::now();
  // Every QOpenGLWidget of the window emits frameSwapped for the same composition; only the
  // first one after a paint (or after a present) is a new frame.
  if (!painting_ && have_present_ && now - last_present_ < std::chrono::microseconds(500)) return;
  if (painting_) {
    work_ms_.push_back(std::chrono::duration<double, std::milli>(now - paint_start_).count());
    if (frame_panels_ > 0) paint_ms_.push_back(frame_paint_ms_);
    painting_ = false;
  }
  if (have_present_ && animating && last_was_animating_)
    interval_ms_.push_back(std::chrono::duration<double, std::milli>(now - last_present_).count());
  last_present_ = now;
  have_present_ = true;
  last_was_animating_ = animating;
}

std::string FrameStats::report() const {
  const Percentiles work = frame_work(), interval = presented_interval(), paint = panel_paint();
  char text[512];
  std::snprintf(text, sizeof text,
                "frame-stats: frame work (panel paint start → composition done): median %.2f ms, p99 %.2f ms, "
                "max %.2f ms over %zu frames\n"
                "frame-stats: presented-frame interval while training: median %.2f ms, p99 %.2f ms, max %.2f ms "
                "over %zu intervals\n"
                "frame-stats: of which panels painting (ImGui + GL): median %.2f ms, p99 %.2f ms\n"
                "frame-stats: texture uploads %llu\n",
                work.median_ms, work.p99_ms, work.max_ms, work.count, interval.median_ms, interval.p99_ms,
                interval.max_ms, interval.count, paint.median_ms, paint.p99_ms, static_cast<unsigned long long>(TextureCache::total_uploads()));
  return text;
}

}  // namespace drmm::ui
