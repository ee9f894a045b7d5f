// Pictures follow View ▸ Zoom (ui/tile_grid.h, ui/panel_layout.h): in an ImGui frame whose font is
// built at a zoom, as ImGuiPanelHost builds it, tiles and fixed-size pictures are that much larger,
// and a grid that fills its room may grow that much further. No GL: only the layout is computed.
#include "ui/tile_grid.h"

#include <gtest/gtest.h>

#include "tests/ui/imgui_frame.h"
#include "ui/panel_layout.h"

namespace drmm::ui {
namespace {

using test::FrameAtZoom;

TEST(TileGrid, TilesAtAFixedScaleFollowTheZoom) {
  for (const float zoom : {1.0f, 1.5f, 2.0f, 2.5f}) {
    const FrameAtZoom frame(zoom);
    EXPECT_FLOAT_EQ(ui_scale(), zoom);
    // The dataset browser at 2×: 28-pixel images are 56 pixels at 100 %.
    const GridLayout layout = grid_at_scale(28, 28, 2, ImVec2(1000, 600), 4);
    EXPECT_FLOAT_EQ(layout.tile.x, 56 * zoom) << "zoom " << zoom;
    EXPECT_FLOAT_EQ(layout.tile.y, 56 * zoom) << "zoom " << zoom;
    EXPECT_EQ(layout.columns, int(1000 / (56 * zoom + 4))) << "fewer, larger tiles per page";
    EXPECT_FLOAT_EQ(picture_size(28, 14, 5).x, 140 * zoom);
    EXPECT_FLOAT_EQ(picture_size(28, 14, 5).y, 70 * zoom);
  }
}

TEST(TileGrid, GridsThatFillTheirRoomMayGrowWithTheZoom) {
  // Four 28-pixel images in a room far larger than they need: the largest scale (8× at 100 %)
  // bounds them, and it grows with the zoom.
  for (const float zoom : {1.0f, 2.0f}) {
    const FrameAtZoom frame(zoom);
    const GridLayout fitted = fit_grid(4, 28, 28, ImVec2(2000, 2000), 2);
    EXPECT_FLOAT_EQ(fitted.tile.x, 28 * 8 * zoom) << "zoom " << zoom;
    const GridLayout columns = grid_with_columns(4, 4, 28, 28, ImVec2(4000, 4000), 2, 0, 6);
    EXPECT_FLOAT_EQ(columns.tile.x, 28 * 6 * zoom) << "zoom " << zoom;
  }
  // A room that is the limit stays the limit at any zoom: the tiles never overflow it.
  const FrameAtZoom frame(2.5f);
  const GridLayout tight = fit_grid(16, 28, 28, ImVec2(240, 240), 2);
  EXPECT_LE(float(tight.columns) * tight.cell.x, 240);
  EXPECT_LE(float(tight.rows) * tight.cell.y, 240);
}

}  // namespace
}  // namespace drmm::ui
