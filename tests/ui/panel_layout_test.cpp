// The layout helpers the panels share (ui/panel_layout.h), in a headless ImGui frame: rows of
// controls wrap only when the next one would pass the right edge, and text is shortened to fit,
// whole characters and "…", at any zoom.
#include "ui/panel_layout.h"

#include <string>

#include <gtest/gtest.h>

#include "tests/ui/imgui_frame.h"

namespace drmm::ui {
namespace {

using test::FrameAtZoom;

// An ImGui window `width` pixels wide at the top left, for the items of one test.
class Window {
 public:
  explicit Window(float width) {
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(ImVec2(width, 600));
    ImGui::Begin("##test", nullptr, ImGuiWindowFlags_NoDecoration);
  }
  ~Window() { ImGui::End(); }
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;
};

TEST(PanelLayout, ARowWrapsOnlyWhenTheNextControlWouldPassTheEdge) {
  for (const float zoom : {1.0f, 2.0f}) {
    const FrameAtZoom frame(zoom);
    const Window window(scaled(300));
    ImGui::Button("first");
    const float first_y = ImGui::GetItemRectMin().y;
    same_line_if_fits(button_width("second"));
    ImGui::Button("second");
    EXPECT_FLOAT_EQ(ImGui::GetItemRectMin().y, first_y) << "room left: same line, zoom " << zoom;
    const char* wide = "a button far too wide for what is left of the row";
    same_line_if_fits(button_width(wide));
    ImGui::Button(wide);
    EXPECT_GT(ImGui::GetItemRectMin().y, first_y) << "no room: next line, zoom " << zoom;
    // A field with its label: both must fit, and the field gets the width asked for.
    next_item_in_row(scaled(120), "label");
    float value = 0.5f;
    ImGui::SliderFloat("label", &value, 0, 1);
    // The item is the field and its label.
    EXPECT_FLOAT_EQ(ImGui::GetItemRectSize().x,
                    scaled(120) + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize("label").x);
    EXPECT_LE(ImGui::GetItemRectMax().x, content_right());
  }
}

TEST(PanelLayout, ElidedTextFitsAndKeepsWholeCharacters) {
  const FrameAtZoom frame(1.5f);
  const std::string text = "32 first-layer, 32 deepest templates — Γ⁽¹⁾ and αβγ";
  EXPECT_EQ(elide_to_width(text, 10000), text) << "text that fits is left alone";
  for (const float width : {40.0f, 90.0f, 160.0f}) {
    const std::string shown = elide_to_width(text, width);
    EXPECT_LE(ImGui::CalcTextSize(shown.c_str()).x, width) << shown;
    ASSERT_GE(shown.size(), std::string("…").size());
    EXPECT_EQ(shown.substr(shown.size() - std::string("…").size()), "…") << shown;
    // Every byte before the ellipsis belongs to a whole UTF-8 character of the text's start.
    const std::string kept = shown.substr(0, shown.size() - std::string("…").size());
    EXPECT_EQ(text.compare(0, kept.size(), kept), 0) << shown;
    EXPECT_TRUE(kept.size() == text.size() || (static_cast<unsigned char>(text[kept.size()]) & 0xC0) != 0x80) << shown;
  }
}

}  // namespace
}  // namespace drmm::ui
