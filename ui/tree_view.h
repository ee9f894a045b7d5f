#pragma once
// The geometry of the Decision trees panel, kept apart from ImGui and GL so tests can check it:
// where each node of an E-DRMM tree sits in the node-link diagram, the zoom/pan transform from
// that layout to the panel, and the brush of the 28×28 drawing canvas.
#include <span>
#include <vector>

#include "core/tree/oblique_tree.h"

namespace drmm::ui {

// Node positions in layout units: x in leaf slots (leaf i of the depth-first order at i + 0.5,
// an internal node halfway between its first and last child), y = depth + 0.5. Two nodes of one
// depth are therefore at least one slot apart, and every child is one level below its parent.
struct TreeLayout {
  std::vector<float> x, y;  // one per node
  float width = 0;          // leaf slots: the layout spans [0, width] × [0, levels]
  int levels = 0;           // max depth + 1
};

// Throws drmm::Error when the nodes do not form a tree rooted at node 0 (a child range out of
// bounds or a child whose parent is another node).
TreeLayout layout_tree(std::span<const tree::TreeNode> nodes);

// Layout → panel pixels: screen = origin + offset + (x · zoom, y · zoom · level_factor), relative
// to the top-left of the drawing area.
struct TreeViewport {
  float zoom = 40;          // pixels per leaf slot
  float offset_x = 0, offset_y = 0;
  float level_factor = 1.5f;  // a level is this many slots tall (room for leaf bars and scores)

  float screen_x(float x) const { return offset_x + x * zoom; }
  float screen_y(float y) const { return offset_y + y * zoom * level_factor; }
  float layout_x(float sx) const { return (sx - offset_x) / zoom; }
  float layout_y(float sy) const { return (sy - offset_y) / (zoom * level_factor); }
};

inline constexpr float kMinZoom = 0.5f, kMaxZoom = 160.0f;

// The viewport that shows the whole layout centred in a `width` × `height` area (zoom at most
// `max_zoom`).
TreeViewport fit_viewport(const TreeLayout& layout, float width, float height, float max_zoom = 64.0f);
// Zooms by `factor` (clamped to [kMinZoom, kMaxZoom]) keeping the layout point under
// (cursor_x, cursor_y) where it is.
void zoom_at(TreeViewport& view, float cursor_x, float cursor_y, float factor);
// Centres the view on layout point (x, y) without changing the zoom.
void center_on(TreeViewport& view, float x, float y, float width, float height);

// Paints (or erases) a stroke from (x0, y0) to (x1, y1), in pixel units with (0, 0) the
// top-left corner of pixel 0, into a one-channel `width` × `height` image with values in [0, 1].
// The brush is round, ~2.5 pixels wide with soft edges, like a pen stroke in MNIST digits.
// Returns whether any value changed.
// `radius` (pixels) is where the brush fades out; the default suits 28×28 digits.
bool paint_stroke(std::vector<float>& image, int width, int height, float x0, float y0, float x1, float y1,
                  bool erase, float radius = 1.6f);

}  // namespace drmm::ui
