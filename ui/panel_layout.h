#pragma once
// Layout helpers every panel shares, so that each lays out from a 1024×768 projector to a
// 1920×1080 screen and at every View ▸ Zoom without clipping or overlap: the zoom of the frame
// (fixed sizes are given at 100 % and scaled), rows of controls that wrap when the panel is narrow,
// and text that is shortened with "…" (the whole of it in a tooltip) where it cannot wrap.
#include <initializer_list>
#include <string>

#include <imgui.h>

namespace drmm::ui {

// The panels' font size at 100 % (ImGuiPanelHost rebuilds its font at this size × the zoom).
inline constexpr float kBaseFontPixels = 14.0f;

// The zoom of the current ImGui frame: its font size over the 100 % size.
float ui_scale();
// A size given in pixels at 100 % zoom, in pixels at the current zoom.
inline float scaled(float pixels) { return pixels * ui_scale(); }
// The size on screen of a `width`×`height` picture shown at `magnification` screen pixels per
// picture pixel at 100 % zoom (whole pixels).
ImVec2 picture_size(int width, int height, float magnification);
// The magnification, a whole number at least 1 at 100 % zoom, that shows a `width` pixels wide
// picture about `target` pixels (at 100 %) wide.
float magnification_near(int width, float target);

// The right edge, in screen pixels, of the current window's content.
float content_right();
// Before an item `width` pixels wide: keeps it on the line of the previous item when it fits
// left of `right` (screen x), else lets it start the next line.
void same_line_if_fits(float width, float right = content_right());
// Before a control whose field is `width` pixels wide, with `label` (or none) right of it:
// same_line_if_fits, and that field width.
void next_item_in_row(float width, const char* label = nullptr, float right = content_right());
// The width of a button (or small button) labelled `label`, of a combo whose longest entry is
// `longest`, and of a checkbox or radio button with `label`.
float button_width(const char* label);
float combo_width(const char* longest);
float checkbox_width(const char* label);

// `text` shortened with "…" to fit `width` pixels in the current font; whole UTF-8 characters only.
std::string elide_to_width(const std::string& text, float width);
// `text` as one line, shortened to `width` when it is longer (the whole text then shows on hover).
void text_elided(const std::string& text, float width, ImU32 color = 0);
// Figures of one line, each kept whole: the line wraps between them, never inside a number.
void text_pieces(std::initializer_list<std::string> pieces);
// `text` wrapped at `right` (screen x): a sentence in a column narrower than the panel.
void text_wrapped(const std::string& text, float right, ImU32 color = 0);

}  // namespace drmm::ui
