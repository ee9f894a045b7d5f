#include "ui/tree_view.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/util/error.h"

namespace drmm::ui {

TreeLayout layout_tree(std::span<const tree::TreeNode> nodes) {
  TreeLayout layout;
  const size_t n = nodes.size();
  layout.x.assign(n, 0.0f);
  layout.y.assign(n, 0.0f);
  if (n == 0) return layout;
  // Depth first, children in order, without recursion (trees may be 1000 levels deep).
  // `visited` guards against a malformed tree that would loop.
  std::vector<uint8_t> visited(n, 0);
  struct Frame {
    int node;
    bool expanded;
  };
  std::vector<Frame> stack{{0, false}};
  float next_slot = 0;
  int depth = 0;
  while (!stack.empty()) {
    const Frame frame = stack.back();
    stack.pop_back();
    const tree::TreeNode& node = nodes[size_t(frame.node)];
    const int node_depth = int(node.depth);
    if (frame.expanded) {  // all children placed: centre over them
      const int first = node.first_child, last = first + int(node.num_children) - 1;
      layout.x[size_t(frame.node)] = 0.5f * (layout.x[size_t(first)] + layout.x[size_t(last)]);
      continue;
    }
    if (visited[size_t(frame.node)]++) throw Error("layout_tree: node " + std::to_string(frame.node) + " is reached twice");
    layout.y[size_t(frame.node)] = float(node_depth) + 0.5f;
    depth = std::max(depth, node_depth);
    if (node.is_leaf()) {
      layout.x[size_t(frame.node)] = next_slot + 0.5f;
      next_slot += 1;
      continue;
    }
    if (node.first_child <= 0 || size_t(node.first_child) + node.num_children > n)
      throw Error("layout_tree: node " + std::to_string(frame.node) + " has children outside the tree");
    stack.push_back({frame.node, true});
    for (int g = int(node.num_children) - 1; g >= 0; --g) {  // pushed in reverse: child 0 is placed first
      const int child = node.first_child + g;
      if (nodes[size_t(child)].parent != frame.node)
        throw Error("layout_tree: node " + std::to_string(child) + " does not name node " + std::to_string(frame.node) +
                    " as its parent");
      stack.push_back({child, false});
    }
  }
  layout.width = next_slot;
  layout.levels = depth + 1;
  return layout;
}

TreeViewport fit_viewport(const TreeLayout& layout, float width, float height, float max_zoom) {
  TreeViewport view;
  const float w = std::max(layout.width, 1.0f), h = std::max(float(layout.levels), 1.0f) * view.level_factor;
  view.zoom = std::clamp(std::min(width / w, height / h), kMinZoom, std::max(kMinZoom, max_zoom));
  view.offset_x = 0.5f * (width - w * view.zoom);
  view.offset_y = 0.5f * (height - h * view.zoom);
  return view;
}

void zoom_at(TreeViewport& view, float cursor_x, float cursor_y, float factor) {
  const float x = view.layout_x(cursor_x), y = view.layout_y(cursor_y);
  view.zoom = std::clamp(view.zoom * factor, kMinZoom, kMaxZoom);
  view.offset_x = cursor_x - x * view.zoom;
  view.offset_y = cursor_y - y * view.zoom * view.level_factor;
}

void center_on(TreeViewport& view, float x, float y, float width, float height) {
  view.offset_x = 0.5f * width - x * view.zoom;
  view.offset_y = 0.5f * height - y * view.zoom * view.level_factor;
}

bool paint_stroke(std::vector<float>& image, int width, int height, float x0, float y0, float x1, float y1, bool erase,
                  float radius) {
  if (image.size() != size_t(width) * size_t(height)) return false;
  const float kRadius = std::max(radius, 0.5f);  // full strength within radius − 1 px of the stroke, none beyond radius
  bool changed = false;
  const int px0 = std::max(0, int(std::floor(std::min(x0, x1) - kRadius)));
  const int px1 = std::min(width - 1, int(std::ceil(std::max(x0, x1) + kRadius)));
  const int py0 = std::max(0, int(std::floor(std::min(y0, y1) - kRadius)));
  const int py1 = std::min(height - 1, int(std::ceil(std::max(y0, y1) + kRadius)));
  const float dx = x1 - x0, dy = y1 - y0, length2 = dx * dx + dy * dy;
  for (int py = py0; py <= py1; ++py)
    for (int px = px0; px <= px1; ++px) {
      // Distance from the pixel's centre to the segment.
      const float cx = float(px) + 0.5f, cy = float(py) + 0.5f;
      const float t = length2 > 0 ? std::clamp(((cx - x0) * dx + (cy - y0) * dy) / length2, 0.0f, 1.0f) : 0.0f;
      const float ex = cx - (x0 + t * dx), ey = cy - (y0 + t * dy);
      const float strength = std::clamp(kRadius - std::sqrt(ex * ex + ey * ey), 0.0f, 1.0f);
      if (strength <= 0) continue;
      float& v = image[size_t(py) * size_t(width) + size_t(px)];
      const float next = erase ? std::min(v, 1.0f - strength) : std::max(v, strength);
      if (next != v) v = next, changed = true;
    }
  return changed;
}

}  // namespace drmm::ui
