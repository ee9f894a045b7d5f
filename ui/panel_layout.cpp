#include "ui/panel_layout.h"

#include <algorithm>
#include <cmath>

namespace drmm::ui {

float ui_scale() { return ImGui::GetFontSize() / kBaseFontPixels; }

ImVec2 picture_size(int width, int height, float magnification) {
  const float m = magnification * ui_scale();
  return ImVec2(std::floor(float(width) * m), std::floor(float(height) * m));
}

float magnification_near(int width, float target) { return std::max(1.0f, std::floor(target / float(std::max(width, 1)))); }

float content_right() { return ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x; }

void same_line_if_fits(float width, float right) {
  const float spacing = ImGui::GetStyle().ItemSpacing.x;
  if (ImGui::GetItemRectMax().x + spacing + width <= right) ImGui::SameLine();
}

void next_item_in_row(float width, const char* label, float right) {
  const float label_w = label != nullptr ? ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize(label, nullptr, true).x : 0;
  same_line_if_fits(width + label_w, right);
  ImGui::SetNextItemWidth(width);
}

float button_width(const char* label) {
  return ImGui::CalcTextSize(label, nullptr, true).x + 2 * ImGui::GetStyle().FramePadding.x;
}

float combo_width(const char* longest) { return button_width(longest) + ImGui::GetFrameHeight(); }

float checkbox_width(const char* label) {
  return ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize(label, nullptr, true).x;
}

std::string elide_to_width(const std::string& text, float width) {
  if (ImGui::CalcTextSize(text.c_str()).x <= width) return text;
  std::string shown = text;
  while (!shown.empty()) {
    shown.pop_back();
    while (!shown.empty() && (static_cast<unsigned char>(shown.back()) & 0xC0) == 0x80) shown.pop_back();
    if (ImGui::CalcTextSize((shown + "…").c_str()).x <= width) return shown + "…";
  }
  return shown;
}

void text_elided(const std::string& text, float width, ImU32 color) {
  const std::string shown = elide_to_width(text, width);
  if (color != 0) ImGui::PushStyleColor(ImGuiCol_Text, color);
  ImGui::TextUnformatted(shown.c_str());
  if (color != 0) ImGui::PopStyleColor();
  if (shown != text && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", text.c_str());
}

void text_pieces(std::initializer_list<std::string> pieces) {
  bool first = true;
  for (const std::string& piece : pieces) {
    if (piece.empty()) continue;
    if (!first) same_line_if_fits(ImGui::CalcTextSize(piece.c_str()).x);
    ImGui::TextUnformatted(piece.c_str());
    first = false;
  }
}

void text_wrapped(const std::string& text, float right, ImU32 color) {
  ImGui::PushTextWrapPos(right - ImGui::GetWindowPos().x);
  if (color != 0) ImGui::PushStyleColor(ImGuiCol_Text, color);
  ImGui::TextUnformatted(text.c_str());
  if (color != 0) ImGui::PopStyleColor();
  ImGui::PopTextWrapPos();
}

}  // namespace drmm::ui
