#include "ui/tile_grid.h"

#include <algorithm>
#include <cmath>

namespace drmm::ui {
namespace {

float snap_scale(float scale) { return scale >= 1.0f ? std::floor(scale) : scale; }

}  // namespace

GridLayout fit_grid(int count, int image_w, int image_h, ImVec2 avail, float spacing, float caption_h,
                    float max_scale) {
  GridLayout best;
  if (count <= 0 || image_w <= 0 || image_h <= 0) return best;
  max_scale *= ui_scale();
  float best_scale = -1;
  for (int columns = 1; columns <= count; ++columns) {
    const int rows = (count + columns - 1) / columns;
    const float by_width = (avail.x - spacing * float(columns)) / float(columns) / float(image_w);
    const float by_height = (avail.y - (spacing + caption_h) * float(rows)) / float(rows) / float(image_h);
    const float scale = std::min({by_width, by_height, max_scale});
    if (scale > best_scale) {
      best_scale = scale;
      best.columns = columns;
      best.rows = rows;
    }
  }
  const float scale = std::max(snap_scale(best_scale), 0.25f);
  best.tile = ImVec2(float(image_w) * scale, float(image_h) * scale);
  best.cell = ImVec2(best.tile.x + spacing, best.tile.y + caption_h + spacing);
  return best;
}

GridLayout grid_with_columns(int count, int columns, int image_w, int image_h, ImVec2 avail, float spacing,
                             float caption_h, float max_scale) {
  GridLayout layout;
  if (count <= 0 || columns <= 0 || image_w <= 0 || image_h <= 0) return layout;
  layout.columns = columns;
  layout.rows = (count + columns - 1) / columns;
  max_scale *= ui_scale();
  const float by_width = (avail.x - spacing * float(columns)) / float(columns) / float(image_w);
  const float by_height = (avail.y - (spacing + caption_h) * float(layout.rows)) / float(layout.rows) / float(image_h);
  // Whole multiples keep pixels square and sharp, unless that would waste more than a quarter of
  // the room (1.9× would snap to 1×: a grid of many columns would stay tiny).
  const float fit = std::min({by_width, by_height, max_scale});
  const float snapped = snap_scale(fit);
  const float scale = std::max(snapped >= 0.75f * fit ? snapped : fit, 0.25f);
  layout.tile = ImVec2(std::floor(float(image_w) * scale), std::floor(float(image_h) * scale));
  layout.cell = ImVec2(layout.tile.x + spacing, layout.tile.y + caption_h + spacing);
  return layout;
}

GridLayout grid_at_scale(int image_w, int image_h, float scale, ImVec2 avail, float spacing, float caption_h) {
  GridLayout layout;
  layout.tile = picture_size(image_w, image_h, scale);
  layout.cell = ImVec2(layout.tile.x + spacing, layout.tile.y + caption_h + spacing);
  layout.columns = std::max(1, int(avail.x / std::max(layout.cell.x, 1.0f)));
  layout.rows = std::max(1, int(avail.y / std::max(layout.cell.y, 1.0f)));
  return layout;
}

GridEvents draw_tile_grid(const char* id, const Texture& texture, const ImageAtlas& atlas, int count,
                          const GridLayout& layout, const std::function<void(int, ImVec2, ImVec2)>& decorate) {
  GridEvents events;
  count = std::min(count, int(atlas.tiles.size()));
  const int rows = count > 0 ? (count + layout.columns - 1) / layout.columns : 0;
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const ImVec2 size(float(layout.columns) * layout.cell.x, float(rows) * layout.cell.y);
  events.rect = {origin, ImVec2(origin.x + size.x, origin.y + size.y)};
  // One invisible button for the whole grid: cheaper than an ImGui item per tile, and the tile
  // under the mouse follows from the position.
  ImGui::InvisibleButton(id, ImVec2(std::max(size.x, 1.0f), std::max(size.y, 1.0f)),
                         ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
  const bool clicked = ImGui::IsItemClicked(ImGuiMouseButton_Left);
  if (ImGui::IsItemHovered()) {
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    const int col = int((mouse.x - origin.x) / layout.cell.x), row = int((mouse.y - origin.y) / layout.cell.y);
    const int i = row * layout.columns + col;
    if (col >= 0 && col < layout.columns && i >= 0 && i < count) {
      events.hovered = i;
      if (clicked) events.clicked = i;
    }
  }
  ImDrawList* draw = ImGui::GetWindowDrawList();
  for (int i = 0; i < count; ++i) {
    const AtlasTile& t = atlas.tiles[size_t(i)];
    const ImVec2 p0(origin.x + float(i % layout.columns) * layout.cell.x, origin.y + float(i / layout.columns) * layout.cell.y);
    const ImVec2 p1(p0.x + layout.tile.x, p0.y + layout.tile.y);
    draw->AddImage(texture.imgui_id(), p0, p1, ImVec2(t.u0, t.v0), ImVec2(t.u1, t.v1));
    if (i == events.hovered) draw->AddRect(ImVec2(p0.x - 1, p0.y - 1), ImVec2(p1.x + 1, p1.y + 1), IM_COL32(255, 255, 255, 200));
    if (decorate) decorate(i, p0, p1);
  }
  return events;
}

}  // namespace drmm::ui
