#pragma once
// Curves drawn with ImDrawList (DESIGN.md §4: ImGui 1.86's PlotLines cannot draw several series,
// a log axis or a legend, and Qt Charts is GPL-only). Series are decimated once per snapshot,
// so a frame draws at most two points per pixel column however long the run is.
#include <span>
#include <string>
#include <vector>

#include <imgui.h>

#include "ui/imgui_rect.h"

namespace drmm::ui {

struct PlotSeries {
  std::string name;
  ImU32 color = IM_COL32(255, 255, 255, 255);
  std::vector<double> x, y;  // same length; x increasing
  bool dashed = false;       // a second model's curve beside the first's solid one
};

struct PlotOptions {
  const char* title = "";
  const char* x_label = "step";
  // Losses span decades, and L_KL with the authors' sign (so the total L too) goes negative: a
  // symmetric log axis (symlog below) keeps every term and its sign readable.
  bool symlog_y = false;
  bool fixed_y = false;          // use [y_min, y_max] instead of the data's range
  double y_min = 0, y_max = 1;
  // A categorical x axis: x = 0, 1, … are named x_names[0], x_names[1], … (the levels of a
  // network); the cursor snaps to the nearest name. Empty: a numeric axis.
  std::vector<std::string> x_names = {};
};

// Keeps, for each of `buckets` equal x-ranges, the first, smallest and largest points, so a
// spike in a long run is still visible after decimation. Returns the series unchanged when it
// is short enough.
PlotSeries decimate(const PlotSeries& series, int buckets);

// The symmetric log axis: linear within ±kSymlogLinear, one unit per decade beyond, sign kept
// (y = ±kSymlogLinear·10^(|a|−1) for |a| ≥ 1). Public for tests.
inline constexpr double kSymlogLinear = 1e-3;
double symlog(double y);
double symlog_inverse(double a);

// The data range the plot will show (on the symlog axis if asked; with x_names, half a name's
// spacing beyond the first and the last, so their labels fit); public for tests.
struct PlotRange {
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
};
PlotRange plot_range(std::span<const PlotSeries> series, const PlotOptions& options);

// Reserves `size` in the current ImGui window and draws axes, series, legend and, under the
// mouse, a vertical cursor with every series' value there. Returns the rectangle it drew in.
PanelRect draw_line_plot(const char* id, ImVec2 size, std::span<const PlotSeries> series, const PlotOptions& options);
// The least height draw_line_plot gives a plot in the current font: title, x labels and room for
// the curves between them (a smaller size is enlarged to it).
float line_plot_min_height();

}  // namespace drmm::ui
