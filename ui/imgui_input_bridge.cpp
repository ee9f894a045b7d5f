#include "ui/imgui_input_bridge.h"

#include <algorithm>
#include <cfloat>

#include <imgui.h>

namespace drmm::ui {

void ImGuiInputBridge::configure(ImGuiIO& io) {
  io.IniFilename = nullptr;  // the window layout persists in QSettings, not in imgui.ini files
  io.LogFilename = nullptr;
  io.BackendPlatformName = "drmm_qt_bridge";
  // Our KeysDown[] slots are the ImGuiKey_ values themselves (see key_index()).
  for (int k = 0; k < ImGuiKey_COUNT; ++k) io.KeyMap[k] = k;
}

int ImGuiInputBridge::key_index(int qt_key) {
  switch (qt_key) {
    case Qt::Key_Tab: return ImGuiKey_Tab;
    case Qt::Key_Left: return ImGuiKey_LeftArrow;
    case Qt::Key_Right: return ImGuiKey_RightArrow;
    case Qt::Key_Up: return ImGuiKey_UpArrow;
    case Qt::Key_Down: return ImGuiKey_DownArrow;
    case Qt::Key_PageUp: return ImGuiKey_PageUp;
    case Qt::Key_PageDown: return ImGuiKey_PageDown;
    case Qt::Key_Home: return ImGuiKey_Home;
    case Qt::Key_End: return ImGuiKey_End;
    case Qt::Key_Insert: return ImGuiKey_Insert;
    case Qt::Key_Delete: return ImGuiKey_Delete;
    case Qt::Key_Backspace: return ImGuiKey_Backspace;
    case Qt::Key_Space: return ImGuiKey_Space;
    case Qt::Key_Return: return ImGuiKey_Enter;
    case Qt::Key_Enter: return ImGuiKey_KeyPadEnter;
    case Qt::Key_Escape: return ImGuiKey_Escape;
    case Qt::Key_A: return ImGuiKey_A;
    case Qt::Key_C: return ImGuiKey_C;
    case Qt::Key_V: return ImGuiKey_V;
    case Qt::Key_X: return ImGuiKey_X;
    case Qt::Key_Y: return ImGuiKey_Y;
    case Qt::Key_Z: return ImGuiKey_Z;
    default: return -1;
  }
}

int ImGuiInputBridge::mouse_index(Qt::MouseButton button) {
  switch (button) {
    case Qt::LeftButton: return ImGuiMouseButton_Left;
    case Qt::RightButton: return ImGuiMouseButton_Right;
    case Qt::MiddleButton: return ImGuiMouseButton_Middle;
    case Qt::BackButton: return 3;
    case Qt::ForwardButton: return 4;
    default: return -1;
  }
}

void ImGuiInputBridge::mouse_moved(QPointF position) {
  mouse_ = position;
  mouse_inside_ = true;
  pending_ = true;
}

void ImGuiInputBridge::mouse_button(Qt::MouseButton button, bool down) {
  const int i = mouse_index(button);
  if (i < 0) return;
  transitions_.push_back({kKeys + i, down});
}

void ImGuiInputBridge::mouse_left() {
  mouse_inside_ = false;
  pending_ = true;
}

void ImGuiInputBridge::wheel(float horizontal_steps, float vertical_steps) {
  wheel_x_ += horizontal_steps;
  wheel_y_ += vertical_steps;
  pending_ = true;
}

void ImGuiInputBridge::modifiers(Qt::KeyboardModifiers modifiers) {
  ctrl_ = modifiers.testFlag(Qt::ControlModifier);
  shift_ = modifiers.testFlag(Qt::ShiftModifier);
  alt_ = modifiers.testFlag(Qt::AltModifier);
  super_ = modifiers.testFlag(Qt::MetaModifier);
}

void ImGuiInputBridge::key(int qt_key, Qt::KeyboardModifiers mods, bool down) {
  modifiers(mods);
  const int i = key_index(qt_key);
  if (i >= 0) transitions_.push_back({i, down});
  pending_ = true;
}

void ImGuiInputBridge::text(const std::string& utf8) {
  // Control characters (Tab, Return, Backspace) arrive as keys; ImGui must not insert them as text.
  for (char c : utf8)
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) text_ += c;
  pending_ = true;
}

void ImGuiInputBridge::focus_lost() {
  transitions_.clear();
  down_.reset();
  ctrl_ = shift_ = alt_ = super_ = false;
  pending_ = true;
}

void ImGuiInputBridge::begin_frame(ImGuiIO& io, QSize logical_size, double device_pixel_ratio,
                                   double seconds_since_last_frame) {
  io.DisplaySize = ImVec2(float(std::max(logical_size.width(), 1)), float(std::max(logical_size.height(), 1)));
  io.DisplayFramebufferScale = ImVec2(float(device_pixel_ratio), float(device_pixel_ratio));
  // ImGui asserts on a zero time step; a panel idle for minutes must not make animations jump either.
  io.DeltaTime = float(std::clamp(seconds_since_last_frame, 1e-4, 0.1));
  io.MousePos = mouse_inside_ ? ImVec2(float(mouse_.x()), float(mouse_.y())) : ImVec2(-FLT_MAX, -FLT_MAX);
  // Transitions in order, at most one per slot: a second change of the same button or key (the
  // release of a click, the next press of a double click) waits for the next frame.
  std::bitset<kKeys + kMouseButtons> changed;
  while (!transitions_.empty()) {
    const Transition t = transitions_.front();
    if (changed[size_t(t.slot)]) break;
    if (down_[size_t(t.slot)] != t.down) {
      down_[size_t(t.slot)] = t.down;
      changed[size_t(t.slot)] = true;
    }
    transitions_.pop_front();
  }
  for (int i = 0; i < kMouseButtons; ++i) io.MouseDown[i] = down_[size_t(kKeys + i)];
  io.MouseWheel += wheel_y_;
  io.MouseWheelH += wheel_x_;
  wheel_x_ = wheel_y_ = 0;
  for (int i = 0; i < ImGuiKey_COUNT; ++i) io.KeysDown[i] = down_[size_t(i)];
  io.KeyCtrl = ctrl_;
  io.KeyShift = shift_;
  io.KeyAlt = alt_;
  io.KeySuper = super_;
  if (!text_.empty()) io.AddInputCharactersUTF8(text_.c_str());
  text_.clear();
  pending_ = false;
}

}  // namespace drmm::ui
