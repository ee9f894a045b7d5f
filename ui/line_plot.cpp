#include "ui/line_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>

#include "ui/panel_layout.h"

namespace drmm::ui {
namespace {

double to_axis(double y, bool symlog_y) { return symlog_y ? symlog(y) : y; }

// Round tick spacing (1, 2 or 5 times a power of ten) giving about `count` ticks over `span`.
double nice_step(double span, int count) {
  const double raw = span / std::max(count, 1);
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  const double unit = raw / power;
  return power * (unit < 1.5 ? 1.0 : unit < 3.5 ? 2.0 : unit < 7.5 ? 5.0 : 10.0);
}

void format_value(char* text, size_t size, double v) {
  if (v == 0) v = 0;  // −0 (the symlog axis's middle) reads as 0
  const double a = std::abs(v);
  if (a != 0 && (a < 1e-3 || a >= 1e5)) std::snprintf(text, size, "%.2e", v);
  else std::snprintf(text, size, "%.4g", v);
}

// A polyline drawn as dashes `dash` pixels long with gaps as long, the pattern running on
// across the vertices so short segments still show gaps.
void add_dashed_polyline(ImDrawList* draw, const std::vector<ImVec2>& points, ImU32 color, float thickness, float dash) {
  float walked = 0;  // along the whole line
  for (size_t i = 1; i < points.size(); ++i) {
    const ImVec2 a = points[i - 1], b = points[i];
    const float length = std::hypot(b.x - a.x, b.y - a.y);
    for (float s = 0; s < length;) {
      const float phase = std::fmod(walked + s, 2 * dash);
      const float run = std::min(length - s, (phase < dash ? dash : 2 * dash) - phase);
      if (phase < dash) {
        const float t0 = s / length, t1 = (s + run) / length;
        draw->AddLine(ImVec2(a.x + (b.x - a.x) * t0, a.y + (b.y - a.y) * t0), ImVec2(a.x + (b.x - a.x) * t1, a.y + (b.y - a.y) * t1),
                      color, thickness);
      }
      s += run;
    }
    walked += length;
  }
}

// Names under a categorical axis, centred on their ticks: every name when they fit side by side
// with a gap, else every second, third … so none overlaps its neighbour.
void draw_x_names(ImDrawList* draw, const std::vector<std::string>& names, const std::function<float(double)>& px,
                  const PanelRect& area, const PanelRect& frame, ImU32 color, ImU32 grid) {
  float widest = 0;
  for (const std::string& name : names) widest = std::max(widest, ImGui::CalcTextSize(name.c_str()).x);
  const float spacing = names.size() > 1 ? px(1) - px(0) : area.width();
  const size_t stride = size_t(std::max(1.0f, std::ceil((widest + scaled(8)) / std::max(spacing, 1.0f))));
  for (size_t i = 0; i < names.size(); ++i) {
    const float sx = px(double(i));
    draw->AddLine(ImVec2(sx, area.min.y), ImVec2(sx, area.max.y), grid);
    if (i % stride != 0) continue;
    const float w = ImGui::CalcTextSize(names[i].c_str()).x;
    draw->AddText(ImVec2(std::clamp(sx - w * 0.5f, frame.min.x + 2, frame.max.x - w - 2), area.max.y + 2), color, names[i].c_str());
  }
}

// The point of `s` at x, or the last one before it; null for an empty series or, on a categorical
// axis (`exact`), when the series has no point at that name.
const double* value_at(const PlotSeries& s, double x, bool exact) {
  if (s.x.empty()) return nullptr;
  const auto it = std::lower_bound(s.x.begin(), s.x.end(), x);
  if (exact) return it != s.x.end() && *it == x ? &s.y[size_t(it - s.x.begin())] : nullptr;
  return &s.y[it == s.x.end() ? s.x.size() - 1 : size_t(it - s.x.begin())];
}

}  // namespace

double symlog(double y) {
  const double a = std::abs(y);
  return a <= kSymlogLinear ? y / kSymlogLinear : std::copysign(1 + std::log10(a / kSymlogLinear), y);
}

double symlog_inverse(double a) {
  const double m = std::abs(a);
  return m <= 1 ? a * kSymlogLinear : std::copysign(kSymlogLinear * std::pow(10.0, m - 1), a);
}

PlotSeries decimate(const PlotSeries& series, int buckets) {
  const size_t n = std::min(series.x.size(), series.y.size());
  if (buckets <= 0 || n <= size_t(buckets) * 3) return series;
  PlotSeries out{series.name, series.color, {}, {}, series.dashed};
  out.x.reserve(size_t(buckets) * 3 + 1);
  out.y.reserve(size_t(buckets) * 3 + 1);
  const double x0 = series.x.front(), x1 = series.x[n - 1];
  const double width = (x1 - x0) / buckets;
  size_t i = 0;
  for (int b = 0; b < buckets && i < n; ++b) {
    const double end = b + 1 == buckets ? std::numeric_limits<double>::infinity() : x0 + width * (b + 1);
    size_t lo = i, hi = i;
    const size_t first = i;
    for (; i < n && series.x[i] <= end; ++i) {
      if (series.y[i] < series.y[lo]) lo = i;
      if (series.y[i] > series.y[hi]) hi = i;
    }
    if (i == first) continue;  // an empty bucket (x has a gap)
    size_t picks[3] = {first, std::min(lo, hi), std::max(lo, hi)};
    size_t last = n;  // the previous pick, so a point is never emitted twice
    for (size_t p : picks) {
      if (p == last) continue;
      out.x.push_back(series.x[p]);
      out.y.push_back(series.y[p]);
      last = p;
    }
  }
  if (out.x.back() != series.x[n - 1]) {  // always end on the newest value
    out.x.push_back(series.x[n - 1]);
    out.y.push_back(series.y[n - 1]);
  }
  return out;
}

PlotRange plot_range(std::span<const PlotSeries> series, const PlotOptions& options) {
  PlotRange r{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
              std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  for (const PlotSeries& s : series) {
    const size_t n = std::min(s.x.size(), s.y.size());
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(s.y[i])) continue;
      r.x0 = std::min(r.x0, s.x[i]);
      r.x1 = std::max(r.x1, s.x[i]);
      const double y = to_axis(s.y[i], options.symlog_y);
      r.y0 = std::min(r.y0, y);
      r.y1 = std::max(r.y1, y);
    }
  }
  if (!options.x_names.empty()) r.x0 = -0.5, r.x1 = double(options.x_names.size()) - 0.5;
  if (!(r.x0 <= r.x1)) r.x0 = 0, r.x1 = 1;
  if (r.x1 - r.x0 < 1e-12) r.x1 = r.x0 + 1;
  if (options.fixed_y) {
    r.y0 = to_axis(options.y_min, options.symlog_y);
    r.y1 = to_axis(options.y_max, options.symlog_y);
  } else if (!(r.y0 <= r.y1)) {
    r.y0 = 0, r.y1 = 1;
  } else {
    const double pad = std::max((r.y1 - r.y0) * 0.05, options.symlog_y ? 0.05 : 1e-9);
    r.y0 -= pad;
    r.y1 += pad;
  }
  return r;
}

float line_plot_min_height() { return 2 * ImGui::GetTextLineHeight() + 8 + scaled(26); }

PanelRect draw_line_plot(const char* id, ImVec2 size, std::span<const PlotSeries> series,
                         const PlotOptions& options) {
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  // Margins and the smallest plot follow the zoom (the text in them does); a plot always keeps
  // some height for its curves between the title and the x labels.
  const float line_h = ImGui::GetTextLineHeight();
  size.x = std::max(size.x, scaled(60));  // a plot needs a real width (ImGui 1.86 draws nothing for −1)
  // The legend's column must end inside the plot too, not run into the plot below.
  size.y = std::max({size.y, line_plot_min_height(), float(series.size() + 1) * line_h + 8});
  ImGui::InvisibleButton(id, size);
  const bool hovered = ImGui::IsItemHovered();
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const PanelRect frame{origin, ImVec2(origin.x + size.x, origin.y + size.y)};
  // Room for tick labels on the left, the title above, and the legend in a column on the right,
  // outside the data (a legend inside hides the curves' ends, where the news is).
  float legend_w = 0;
  for (const PlotSeries& s : series) legend_w = std::max(legend_w, ImGui::CalcTextSize(s.name.c_str()).x);
  legend_w = legend_w > 0 ? legend_w + scaled(22) : 6;
  const PanelRect area{ImVec2(frame.min.x + scaled(52), frame.min.y + line_h + 4),
                       ImVec2(frame.max.x - legend_w, frame.max.y - line_h - 4)};
  // No background fill: on a software rasteriser a filled rectangle costs per pixel, and the
  // panel's clear color already is the plot's background.
  draw->AddText(ImVec2(frame.min.x + 6, frame.min.y + 2), IM_COL32(220, 220, 220, 255), options.title);
  if (area.width() < 10 || area.height() < 10) return frame;

  const PlotRange r = plot_range(series, options);
  auto px = [&](double x) { return float(area.min.x + (x - r.x0) / (r.x1 - r.x0) * area.width()); };
  auto py = [&](double y) { return float(area.max.y - (y - r.y0) / (r.y1 - r.y0) * area.height()); };

  // Grid and tick labels.
  char text[32];
  const ImU32 grid = IM_COL32(70, 74, 82, 255), label = IM_COL32(160, 165, 175, 255);
  // Symlog ticks at whole decades, at most about six of them.
  // As many labels as fit one above the other with room between them.
  const int y_labels = std::clamp(int(area.height() / (line_h * 1.6f)), 1, 6);
  double y_step = options.symlog_y ? std::max(1.0, std::ceil((r.y1 - r.y0) / y_labels))
                                   : nice_step(r.y1 - r.y0, std::min(y_labels, 4));
  // nice_step rounds to 1, 2 or 5 × 10^k and may give more intervals than fit: the next nice
  // step up until they do.
  while (!options.symlog_y && (r.y1 - r.y0) / y_step > std::max(1, y_labels - 1) + 1e-9) {
    const double power = std::pow(10.0, std::floor(std::log10(y_step) + 1e-9)), unit = y_step / power;
    y_step = power * (unit < 1.5 ? 2.0 : unit < 3.5 ? 5.0 : 10.0);
  }
  for (double y = std::ceil(r.y0 / y_step) * y_step; y <= r.y1 + 1e-12; y += y_step) {
    const float sy = py(y);
    draw->AddLine(ImVec2(area.min.x, sy), ImVec2(area.max.x, sy), grid);
    format_value(text, sizeof text, options.symlog_y ? symlog_inverse(y) : y);
    // Kept inside the plot's height so the top label never runs into the title.
    draw->AddText(ImVec2(frame.min.x + 4, std::clamp(sy - line_h * 0.5f, area.min.y - 2, area.max.y - line_h + 2)), label, text);
  }
  if (!options.x_names.empty()) {
    draw_x_names(draw, options.x_names, px, area, frame, label, grid);
  } else {
    const double x_step = nice_step(r.x1 - r.x0, std::max(2, int(area.width() / scaled(90))));
    for (double x = std::ceil(r.x0 / x_step) * x_step; x <= r.x1 + 1e-9; x += x_step) {
      const float sx = px(x);
      draw->AddLine(ImVec2(sx, area.min.y), ImVec2(sx, area.max.y), grid);
      format_value(text, sizeof text, x);
      const float w = ImGui::CalcTextSize(text).x;  // centred on its tick, never past the frame
      draw->AddText(ImVec2(std::min(sx - w * 0.5f, frame.max.x - w - 2), area.max.y + 2), label, text);
    }
  }
  draw->AddRect(area.min, area.max, IM_COL32(110, 115, 125, 255));

  // Series.
  std::vector<ImVec2> points;
  draw->PushClipRect(area.min, area.max, true);
  for (const PlotSeries& s : series) {
    points.clear();
    const size_t n = std::min(s.x.size(), s.y.size());
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(s.y[i])) continue;
      points.emplace_back(px(s.x[i]), py(to_axis(s.y[i], options.symlog_y)));
    }
    if (points.size() == 1) draw->AddCircleFilled(points[0], 2.5f, s.color);
    else if (s.dashed) add_dashed_polyline(draw, points, s.color, 1.5f, scaled(5));
    else if (points.size() > 1) draw->AddPolyline(points.data(), int(points.size()), s.color, ImDrawFlags_None, 1.5f);
  }
  draw->PopClipRect();

  // Legend, in its column right of the plot.
  float legend_y = area.min.y + 1;
  for (const PlotSeries& s : series) {
    const ImVec2 at(area.max.x + scaled(18), legend_y);
    const float y0 = at.y + line_h * 0.35f, y1 = at.y + line_h * 0.65f;
    if (s.dashed) {  // two dashes: the swatch says which curves are dashed
      draw->AddRectFilled(ImVec2(at.x - scaled(14), y0), ImVec2(at.x - scaled(10), y1), s.color);
      draw->AddRectFilled(ImVec2(at.x - scaled(7), y0), ImVec2(at.x - scaled(3), y1), s.color);
    } else {
      draw->AddRectFilled(ImVec2(at.x - scaled(12), y0), ImVec2(at.x - scaled(4), y1), s.color);
    }
    draw->AddText(at, s.color, s.name.c_str());
    legend_y += line_h;
  }

  // Cursor read-out: the value of every series at the hovered x.
  if (hovered) {
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    if (mouse.x >= area.min.x && mouse.x <= area.max.x) {
      const bool named = !options.x_names.empty();
      double x = r.x0 + (mouse.x - area.min.x) / area.width() * (r.x1 - r.x0);
      if (named) x = std::clamp(std::round(x), 0.0, double(options.x_names.size() - 1));  // the nearest name
      const float cursor = named ? px(x) : mouse.x;
      draw->AddLine(ImVec2(cursor, area.min.y), ImVec2(cursor, area.max.y), IM_COL32(255, 255, 255, 90));
      ImGui::BeginTooltip();
      format_value(text, sizeof text, x);
      ImGui::Text("%s %s", options.x_label, named ? options.x_names[size_t(x)].c_str() : text);
      for (const PlotSeries& s : series) {
        const double* y = value_at(s, x, named);
        if (!y) continue;
        format_value(text, sizeof text, *y);
        ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(s.color), "%s: %s", s.name.c_str(), text);
      }
      ImGui::EndTooltip();
    }
  }
  return frame;
}

}  // namespace drmm::ui
