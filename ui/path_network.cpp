#include "ui/path_network.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace drmm::ui {

std::string short_level_name(const std::string& name) { return name.substr(0, name.find(' ')); }

ImU32 lerp_color(ImVec4 a, ImVec4 b, float t) {
  t = std::clamp(t, 0.0f, 1.0f);
  return ImGui::ColorConvertFloat4ToU32(ImVec4(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t, a.z + (b.z - a.z) * t, 1));
}

ImU32 contribution_color(float share) {
  const ImVec4 dark(0.16f, 0.16f, 0.19f, 1);
  // sqrt: the weak channels are the many, and they must still be told apart from the unused ones.
  // A unit's ⟨Î_u, Î⟩ is negative when it draws against the rest of the image: blue.
  if (share >= 0) return lerp_color(dark, ImVec4(1.0f, 0.72f, 0.25f, 1), std::sqrt(share));
  return lerp_color(dark, ImVec4(0.35f, 0.6f, 1.0f, 1), std::sqrt(-share));
}

size_t channel_units_on(const PathLevel& level, int channel) {
  const size_t area = size_t(level.height) * size_t(level.width);
  size_t on = 0;
  for (size_t i = size_t(channel) * area; i < size_t(channel + 1) * area && i < level.on.size(); ++i) on += level.on[i] > 0.5f;
  return on;
}

float largest_abs(const std::vector<float>& values) {
  float largest = 1e-12f;
  for (float v : values) largest = std::max(largest, std::abs(v));
  return largest;
}

StrongChannels strong_channels(const RenderingPath& path, const std::vector<PathUnit>& strongest, size_t per_level) {
  const size_t levels = path.levels.size();
  StrongChannels result{std::vector<std::map<int, float>>(levels), std::vector<std::set<int>>(levels),
                        std::vector<float>(levels, 1e-12f)};
  for (const PathUnit& u : strongest)
    if (u.level < levels) result.strong[u.level][u.channel] += u.contribution, result.marked[u.level].insert(u.channel);
  for (size_t l = 0; l < levels; ++l) {
    const std::vector<float>& cc = path.levels[l].channel_contribution;
    std::vector<int> order(cc.size());
    std::iota(order.begin(), order.end(), 0);
    const size_t top = std::min(per_level, order.size());
    std::partial_sort(order.begin(), order.begin() + long(top), order.end(),
                      [&](int a, int b) { return cc[size_t(a)] > cc[size_t(b)]; });
    for (size_t k = 0; k < top; ++k)
      if (cc[size_t(order[k])] > 0 && !result.strong[l].count(order[k])) result.strong[l][order[k]] = cc[size_t(order[k])];
    for (const auto& [c, v] : result.strong[l]) result.level_max[l] = std::max(result.level_max[l], std::abs(v));
  }
  return result;
}

float NetworkLayout::cell_width(size_t level) const {
  return std::min(cells_w / float(std::max(path->levels[level].channels, 1)), 22.0f);
}

void NetworkLayout::cell(size_t level, int channel, ImVec2& p0, ImVec2& p1) const {
  const int channels = std::max(path->levels[level].channels, 1);
  const float w = cell_width(level);
  const float x0 = cells_x + (cells_w - w * float(channels)) * 0.5f;
  const float y0 = origin.y + float(row_of(level)) * row_h + (row_h - cell_h - band_h) * 0.5f;
  p0 = ImVec2(x0 + float(channel) * w, y0);
  p1 = ImVec2(x0 + float(channel + 1) * w - (w >= 5 ? 1.0f : 0.0f), y0 + cell_h);
}

NetworkLayout network_layout(const RenderingPath& path, ImVec2 origin, ImVec2 size, float label_w, float min_row_h) {
  NetworkLayout layout;
  layout.path = &path;
  layout.origin = origin;
  layout.row_h = std::clamp(size.y / float(std::max<size_t>(path.levels.size(), 1)), min_row_h, std::max(min_row_h, 90.0f));
  layout.cell_h = std::clamp(layout.row_h * 0.42f, std::min(10.0f, layout.row_h * 0.6f), 30.0f);
  layout.cells_x = origin.x + label_w;
  layout.cells_w = std::max(size.x - label_w - 8, 40.0f);
  return layout;
}

void draw_strong_links(ImDrawList* draw, const StrongChannels& channels, const NetworkLayout& layout) {
  for (size_t l = 0; l + 1 < channels.strong.size(); ++l)
    for (const auto& [upper_c, upper_v] : channels.strong[l + 1])
      for (const auto& [lower_c, lower_v] : channels.strong[l]) {
        ImVec2 a0, a1, b0, b1;
        layout.cell(l + 1, upper_c, a0, a1);
        layout.cell(l, lower_c, b0, b1);
        const float weight = std::clamp(
            std::sqrt(std::abs(upper_v / channels.level_max[l + 1] * lower_v / channels.level_max[l])), 0.0f, 1.0f);
        const bool both_strong = channels.marked[l + 1].count(upper_c) && channels.marked[l].count(lower_c);
        const ImU32 color = both_strong ? IM_COL32(255, 210, 60, int(90 + 165 * weight))
                                        : IM_COL32(200, 170, 110, int(25 + 110 * weight));
        draw->AddLine(ImVec2(0.5f * (a0.x + a1.x), a1.y + layout.band_h), ImVec2(0.5f * (b0.x + b1.x), b0.y), color,
                      both_strong ? 1.5f + 2.0f * weight : 1.0f);
      }
}

void draw_channel_cell(ImDrawList* draw, const PathLevel& level, int channel, float level_largest, bool marked,
                       ImVec2 p0, ImVec2 p1) {
  const float share =
      size_t(channel) < level.channel_contribution.size() ? level.channel_contribution[size_t(channel)] / level_largest : 0.0f;
  if (channel_units_on(level, channel) > 0) draw->AddRectFilled(p0, p1, contribution_color(share));
  else draw->AddRect(p0, p1, IM_COL32(60, 60, 68, 255));
  if (marked) draw->AddRect(ImVec2(p0.x - 1, p0.y - 1), ImVec2(p1.x + 1, p1.y + 1), kStrongPathColor, 0, 0, 2.0f);
}

PanelRect draw_path_network(const RenderingPath& path, const std::vector<PathUnit>& strongest, size_t per_level,
                            ImVec2 size) {
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  float label_w = 0;
  for (const PathLevel& level : path.levels)
    label_w = std::max(label_w, ImGui::CalcTextSize(short_level_name(level.name).c_str()).x);
  const NetworkLayout layout = network_layout(path, origin, size, label_w + 8, ImGui::GetTextLineHeight());
  const StrongChannels channels = strong_channels(path, strongest, per_level);
  ImDrawList* draw = ImGui::GetWindowDrawList();
  draw_strong_links(draw, channels, layout);
  const float line_h = ImGui::GetTextLineHeight();
  for (size_t l = 0; l < path.levels.size(); ++l) {
    const PathLevel& level = path.levels[l];
    const float largest = largest_abs(level.channel_contribution);
    for (int c = 0; c < level.channels; ++c) {
      ImVec2 p0, p1;
      layout.cell(l, c, p0, p1);
      draw_channel_cell(draw, level, c, largest, channels.marked[l].count(c) > 0, p0, p1);
    }
    const float y = origin.y + float(layout.row_of(l)) * layout.row_h + (layout.row_h - line_h) * 0.5f;
    draw->AddText(ImVec2(origin.x, y), IM_COL32(200, 200, 200, 255), short_level_name(level.name).c_str());
  }
  const float height = layout.row_h * float(path.levels.size());
  ImGui::Dummy(ImVec2(size.x, height));
  return {ImVec2(layout.cells_x, origin.y), ImVec2(layout.cells_x + layout.cells_w, origin.y + height)};
}

}  // namespace drmm::ui
