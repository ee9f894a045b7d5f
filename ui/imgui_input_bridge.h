#pragma once
// Qt input → Dear ImGui 1.86 (which has the old input API: MousePos, MouseDown[], KeysDown[],
// KeyMap[]; no event queue). ImGui samples input once per frame, so a click whose press and
// release both arrive between two frames would be lost, and so would the second click of a quick
// pair (ImGui would see one long press). The bridge queues button and key transitions and hands
// ImGui at most one transition per button or key per frame, in order: every press and every
// release is seen by some frame. Events are buffered here and applied in begin_frame(), so the
// Qt handlers never need the ImGui context to be current.
#include <array>
#include <bitset>
#include <deque>
#include <string>

#include <QPointF>
#include <QSize>
#include <Qt>

struct ImGuiIO;

namespace drmm::ui {

class ImGuiInputBridge {
 public:
  static constexpr int kMouseButtons = 5;
  static constexpr int kKeys = 512;

  // Once per ImGui context: key map, backend name, no imgui.ini (DESIGN.md §4).
  static void configure(ImGuiIO& io);
  // The ImGui key index (an io.KeysDown[] slot) for a Qt key, or -1 when ImGui does not use it.
  static int key_index(int qt_key);
  static int mouse_index(Qt::MouseButton button);  // -1 for buttons ImGui does not know

  void mouse_moved(QPointF position);
  void mouse_button(Qt::MouseButton button, bool down);
  void mouse_left();  // the pointer left the panel: ImGui must stop showing hover
  void wheel(float horizontal_steps, float vertical_steps);
  void key(int qt_key, Qt::KeyboardModifiers modifiers, bool down);
  void modifiers(Qt::KeyboardModifiers modifiers);
  void text(const std::string& utf8);
  void focus_lost();  // release everything: a key released in another window never reaches us

  // Applies the buffered input and the panel's geometry to `io` for the frame about to start.
  void begin_frame(ImGuiIO& io, QSize logical_size, double device_pixel_ratio, double seconds_since_last_frame);
  // Whether input is waiting for a frame (the host schedules one).
  bool has_pending_input() const { return pending_ || !transitions_.empty(); }

 private:
  QPointF mouse_{-1e9, -1e9};
  bool mouse_inside_ = false;
  // A button or key going down or up; mouse buttons are slots kKeys + button.
  struct Transition {
    int slot;
    bool down;
  };
  std::deque<Transition> transitions_;
  std::bitset<kKeys + kMouseButtons> down_;  // the state ImGui has been given
  float wheel_x_ = 0, wheel_y_ = 0;
  bool ctrl_ = false, shift_ = false, alt_ = false, super_ = false;
  std::string text_;
  bool pending_ = false;
};

}  // namespace drmm::ui
