#pragma once
// A headless ImGui frame for tests of layout code: no window system and no GL, only an ImGui
// context whose font atlas is built (as a renderer would) at a zoom of the 100 % size.
#include <imgui.h>

#include "ui/panel_layout.h"

namespace drmm::ui::test {

// A headless ImGui frame with the font built at `zoom` × the 100 % size.
class FrameAtZoom {
 public:
  explicit FrameAtZoom(float zoom) : context_(ImGui::CreateContext()) {
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    io.DisplaySize = ImVec2(1920, 1080);
    ImFontConfig config;
    config.SizePixels = kBaseFontPixels * zoom;
    io.Fonts->AddFontDefault(&config);
    unsigned char* pixels = nullptr;
    int width = 0, height = 0;
    io.Fonts->GetTexDataAsRGBA32(&pixels, &width, &height);  // builds the atlas, as a renderer would
    ImGui::NewFrame();
  }
  ~FrameAtZoom() {
    ImGui::EndFrame();
    ImGui::DestroyContext(context_);
  }
  FrameAtZoom(const FrameAtZoom&) = delete;
  FrameAtZoom& operator=(const FrameAtZoom&) = delete;

 private:
  ImGuiContext* context_;
};

}  // namespace drmm::ui::test
