#include "core/analysis/nuisance_probe_plot.h"

#include <algorithm>
#include <cmath>

namespace drmm::analysis {
namespace {

constexpr int kPanelWidth = 360, kPanelHeight = 260, kMargin = 24;
constexpr double kLowest = -0.2, kHighest = 1.0;

struct Canvas {
  Image8 image;
  void put(int x, int y, std::array<uint8_t, 3> c) {
    if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
    std::copy(c.begin(), c.end(), image.pixels.begin() + (size_t(y) * size_t(image.width) + size_t(x)) * 3);
  }
  // A line two pixels thick; `dash` > 0 leaves every other run of `dash` pixels out.
  void line(double x0, double y0, double x1, double y1, std::array<uint8_t, 3> c, int dash = 0) {
    const int steps = int(std::max(std::abs(x1 - x0), std::abs(y1 - y0))) + 1;
    for (int s = 0; s <= steps; ++s) {
      if (dash > 0 && (s / dash) % 2 == 1) continue;
      const double f = double(s) / steps;
      const int x = int(std::lround(x0 + f * (x1 - x0))), y = int(std::lround(y0 + f * (y1 - y0)));
      put(x, y, c), put(x + 1, y, c), put(x, y + 1, c), put(x + 1, y + 1, c);
    }
  }
};

std::vector<std::string> target_names(const std::vector<std::vector<ProbeScore>>& tables) {
  std::vector<std::string> names;
  for (const auto& table : tables)
    for (const ProbeScore& s : table)
      if (std::find(names.begin(), names.end(), s.target) == names.end()) names.push_back(s.target);
  return names;
}

void draw_panel(Canvas& canvas, int left, const std::vector<ProbeScore>& table, const std::vector<std::string>& names) {
  const int top = kMargin, width = kPanelWidth - 2 * kMargin, height = kPanelHeight - 2 * kMargin;
  size_t levels = 1;
  for (const ProbeScore& s : table) levels = std::max(levels, s.level + 1);
  const auto x_of = [&](size_t level) { return left + kMargin + (levels > 1 ? double(level) * width / double(levels - 1) : 0.0); };
  const auto y_of = [&](double v) { return top + (kHighest - std::clamp(v, kLowest, kHighest)) * height / (kHighest - kLowest); };
  for (int g = -1; g <= 5; ++g) {
    const uint8_t shade = g == 0 ? 120 : 215;  // the zero line darker: chance for R²
    canvas.line(left + kMargin, y_of(0.2 * g), left + kMargin + width, y_of(0.2 * g), {shade, shade, shade});
  }
  for (size_t t = 0; t < names.size(); ++t) {
    std::vector<const ProbeScore*> points;
    for (const ProbeScore& s : table)
      if (s.target == names[t]) points.push_back(&s);
    for (size_t i = 0; i + 1 < points.size(); ++i) {
      canvas.line(x_of(points[i]->level), y_of(points[i]->score), x_of(points[i + 1]->level), y_of(points[i + 1]->score),
                  probe_target_colour(t));
      if (points[i]->discrete)
        canvas.line(x_of(points[i]->level), y_of(points[i]->chance), x_of(points[i + 1]->level),
                    y_of(points[i + 1]->chance), probe_target_colour(t), 4);
    }
  }
}

}  // namespace

std::array<uint8_t, 3> probe_target_colour(size_t t) {
  static const std::array<std::array<uint8_t, 3>, 10> palette = {{{31, 119, 180}, {255, 127, 14}, {44, 160, 44},
                                                                 {214, 39, 40}, {148, 103, 189}, {140, 86, 75},
                                                                 {227, 119, 194}, {127, 127, 127}, {188, 189, 34},
                                                                 {23, 190, 207}}};
  return palette[t % palette.size()];
}

Image8 plot_probe_tables(const std::vector<std::vector<ProbeScore>>& tables) {
  Canvas canvas;
  canvas.image.width = kPanelWidth * int(std::max<size_t>(1, tables.size()));
  canvas.image.height = kPanelHeight;
  canvas.image.channels = 3;
  canvas.image.pixels.assign(size_t(canvas.image.width) * size_t(canvas.image.height) * 3, 255);
  const std::vector<std::string> names = target_names(tables);
  for (size_t m = 0; m < tables.size(); ++m) draw_panel(canvas, int(m) * kPanelWidth, tables[m], names);
  return canvas.image;
}

}  // namespace drmm::analysis
