#pragma once
// A rendering path (core/model/rendering_path.h) drawn as a layered network: one row of cells per
// level, top level first, one cell per channel coloured by its contribution to Î, and the
// channels of the strongest units joined across consecutive levels. Shared by the Rendering paths
// panel (which adds edits, class usage and tooltips on top) and the DRMM-vs-CNN comparison (two
// paths side by side, read only).
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <imgui.h>

#include "core/model/rendering_path.h"
#include "ui/imgui_rect.h"

namespace drmm::ui {

inline constexpr ImU32 kStrongPathColor = IM_COL32(255, 210, 60, 255);

// "conv1 32×5×5 full" → "conv1".
std::string short_level_name(const std::string& name);
ImU32 lerp_color(ImVec4 a, ImVec4 b, float t);  // t clamped to [0, 1]
// A channel's share of its level's largest |contribution| (−1 … 1) as a colour: orange when it
// adds to Î, blue when it takes away.
ImU32 contribution_color(float share);
size_t channel_units_on(const PathLevel& level, int channel);  // the channel's units that are on
float largest_abs(const std::vector<float>& values);           // at least 1e-12

// The channels the strongest paths run through: per level those of the strongest units (marked)
// and the level's `per_level` strongest channels besides (the strongest units often sit in two
// or three levels only), each with its contribution.
struct StrongChannels {
  std::vector<std::map<int, float>> strong;  // per level: channel → contribution
  std::vector<std::set<int>> marked;         // per level: the channels of the strongest units
  std::vector<float> level_max;              // per level: the largest |contribution| in `strong`
};
StrongChannels strong_channels(const RenderingPath& path, const std::vector<PathUnit>& strongest, size_t per_level);

// Where each level's row and each channel's cell lie: rows of `row_h`, the top level first (the
// rendering flows down the screen towards the pixels), cells centred in the columns right of the
// labels so that the joining lines read as a tree. `band_h` is the room under each row's cells
// (the Rendering paths panel's class-usage strips); the lines start below it.
struct NetworkLayout {
  const RenderingPath* path = nullptr;
  ImVec2 origin{0, 0};
  float row_h = 0, cell_h = 0, band_h = 0, cells_x = 0, cells_w = 0;

  size_t row_of(size_t level) const { return path->levels.size() - 1 - level; }
  float cell_width(size_t level) const;
  void cell(size_t level, int channel, ImVec2& p0, ImVec2& p1) const;
};
// The layout of `path` in `size` at `origin` with a label column `label_w` wide; rows are at
// least `min_row_h` high (the network then runs past `size`).
NetworkLayout network_layout(const RenderingPath& path, ImVec2 origin, ImVec2 size, float label_w, float min_row_h);

// The lines joining each level's strong channels to the next level's: thick and yellow between
// two marked channels, thin and faint otherwise; a line's weight is the geometric mean of its
// ends' contributions.
void draw_strong_links(ImDrawList* draw, const StrongChannels& channels, const NetworkLayout& layout);
// One channel's cell: filled with its contribution colour when a unit of it is on (an outline
// when none is), outlined in yellow when `marked`.
void draw_channel_cell(ImDrawList* draw, const PathLevel& level, int channel, float level_largest, bool marked,
                       ImVec2 p0, ImVec2 p1);

// The whole network, read only, at the cursor in `size` (labels: the levels' short names):
// cells, strong channels and their links. Returns the rectangle of the cells.
PanelRect draw_path_network(const RenderingPath& path, const std::vector<PathUnit>& strongest, size_t per_level,
                            ImVec2 size);

}  // namespace drmm::ui
