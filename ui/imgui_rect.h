#pragma once
// A rectangle in a panel's ImGui coordinates (logical pixels from the panel's top-left);
// imgui_internal.h's ImRect is not public API, so the panels use this one.
#include <imgui.h>

namespace drmm::ui {

struct PanelRect {
  ImVec2 min{0, 0}, max{0, 0};
  float width() const { return max.x - min.x; }
  float height() const { return max.y - min.y; }
  bool contains(ImVec2 p) const { return p.x >= min.x && p.y >= min.y && p.x < max.x && p.y < max.y; }
};

}  // namespace drmm::ui
