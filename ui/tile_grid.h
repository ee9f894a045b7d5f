#pragma once
// Grids of same-sized images drawn from one atlas texture (filters, dataset pages): the layout
// that fits a panel, and the drawing with hover/click feedback, shared by the picture panels.
#include <functional>
#include <string>

#include <imgui.h>

#include "ui/image_atlas.h"
#include "ui/imgui_rect.h"
#include "ui/panel_layout.h"
#include "ui/texture_cache.h"

namespace drmm::ui {

struct GridLayout {
  int columns = 1, rows = 1;
  ImVec2 tile{0, 0};  // the image's size on screen
  ImVec2 cell{0, 0};  // tile plus caption plus spacing
};

// Pictures follow View ▸ Zoom: a scale (and a largest scale) is the magnification at 100 % zoom,
// multiplied by the zoom of the frame (ui_scale()), as the text is.

// The largest tiles (whole multiples of the image size when they are at least that big) that lay
// out `count` images of `image_w`×`image_h` inside `avail`, each with `caption_h` below it.
GridLayout fit_grid(int count, int image_w, int image_h, ImVec2 avail, float spacing, float caption_h = 0,
                    float max_scale = 8.0f);

// How many cells of `image_w`×`image_h` at `scale` fit in `avail` (the dataset browser's page size).
GridLayout grid_at_scale(int image_w, int image_h, float scale, ImVec2 avail, float spacing, float caption_h = 0);

// The largest tiles that lay out `count` images in exactly `columns` columns inside `avail`
// (rows = classes in the Samples panel), whole multiples of the image size when at least 1×.
GridLayout grid_with_columns(int count, int columns, int image_w, int image_h, ImVec2 avail, float spacing,
                             float caption_h = 0, float max_scale = 8.0f);

struct GridEvents {
  int hovered = -1;
  int clicked = -1;
  PanelRect rect;  // where the grid was drawn
};

// Draws tiles [0, count) of `atlas` in `layout`'s grid at the current cursor. `decorate(i, min, max)`
// adds per-tile drawing (captions, borders) after the image.
GridEvents draw_tile_grid(const char* id, const Texture& texture, const ImageAtlas& atlas, int count,
                          const GridLayout& layout,
                          const std::function<void(int, ImVec2, ImVec2)>& decorate = {});

}  // namespace drmm::ui
