// The Qt→ImGui bridge: ImGui 1.86 samples input once per frame, so every press and release of a
// fast click, a double click or a key tap must reach some frame, in order.
#include "ui/imgui_input_bridge.h"

#include <gtest/gtest.h>
#include <imgui.h>

namespace drmm::ui {
namespace {

class InputBridge : public ::testing::Test {
 protected:
  void SetUp() override {
    context_ = ImGui::CreateContext();
    ImGui::SetCurrentContext(context_);
    ImGuiInputBridge::configure(ImGui::GetIO());
  }
  void TearDown() override { ImGui::DestroyContext(context_); }
  ImGuiIO& io() { return ImGui::GetIO(); }
  void frame() { bridge_.begin_frame(io(), QSize(200, 100), 2.0, 1.0 / 60); }
  ImGuiContext* context_ = nullptr;
  ImGuiInputBridge bridge_;
};

TEST_F(InputBridge, ConfiguresNoIniFileAndIdentityKeyMap) {
  EXPECT_EQ(io().IniFilename, nullptr);
  EXPECT_EQ(io().KeyMap[ImGuiKey_Enter], ImGuiKey_Enter);
}

TEST_F(InputBridge, ClickBetweenFramesIsSeenForOneFrame) {
  bridge_.mouse_moved(QPointF(10, 20));
  bridge_.mouse_button(Qt::LeftButton, true);
  bridge_.mouse_button(Qt::LeftButton, false);
  EXPECT_TRUE(bridge_.has_pending_input());
  frame();
  EXPECT_TRUE(io().MouseDown[0]);
  EXPECT_EQ(io().MousePos.x, 10.0f);
  EXPECT_TRUE(bridge_.has_pending_input());  // one more frame to show the release
  frame();
  EXPECT_FALSE(io().MouseDown[0]);
  EXPECT_FALSE(bridge_.has_pending_input());
}

TEST_F(InputBridge, DoubleClickBetweenFramesIsTwoClicks) {
  for (int i = 0; i < 2; ++i) {
    bridge_.mouse_button(Qt::LeftButton, true);
    bridge_.mouse_button(Qt::LeftButton, false);
  }
  bool expected[] = {true, false, true, false};
  for (bool down : expected) {
    frame();
    EXPECT_EQ(io().MouseDown[0], down);
  }
}

TEST_F(InputBridge, OtherButtonsAndKeysWaitTheirTurn) {
  // Order is kept: the right press comes after the left click, whose release needs a frame.
  bridge_.mouse_button(Qt::LeftButton, true);
  bridge_.mouse_button(Qt::LeftButton, false);
  bridge_.mouse_button(Qt::RightButton, true);
  frame();
  EXPECT_TRUE(io().MouseDown[0]);
  EXPECT_FALSE(io().MouseDown[1]);
  frame();
  EXPECT_FALSE(io().MouseDown[0]);
  EXPECT_TRUE(io().MouseDown[1]);
}

TEST_F(InputBridge, HeldButtonStaysDown) {
  bridge_.mouse_button(Qt::RightButton, true);
  frame();
  frame();
  EXPECT_TRUE(io().MouseDown[1]);
}

TEST_F(InputBridge, KeyTapAndModifiers) {
  bridge_.key(Qt::Key_Backspace, Qt::ControlModifier, true);
  bridge_.key(Qt::Key_Backspace, Qt::ControlModifier, false);
  frame();
  EXPECT_TRUE(io().KeysDown[ImGuiKey_Backspace]);
  EXPECT_TRUE(io().KeyCtrl);
  frame();
  EXPECT_FALSE(io().KeysDown[ImGuiKey_Backspace]);
  EXPECT_EQ(ImGuiInputBridge::key_index(Qt::Key_F5), -1);
}

TEST_F(InputBridge, GeometryWheelAndLeaving) {
  bridge_.wheel(0, -2);
  frame();
  EXPECT_EQ(io().DisplaySize.x, 200.0f);
  EXPECT_EQ(io().DisplayFramebufferScale.x, 2.0f);
  EXPECT_EQ(io().MouseWheel, -2.0f);
  bridge_.mouse_left();
  frame();
  EXPECT_LT(io().MousePos.x, -1e30f);  // "no mouse" for ImGui
}

TEST_F(InputBridge, FocusLossReleasesEverything) {
  bridge_.key(Qt::Key_A, Qt::ShiftModifier, true);
  bridge_.mouse_button(Qt::LeftButton, true);
  frame();
  bridge_.focus_lost();
  frame();
  EXPECT_FALSE(io().KeysDown[ImGuiKey_A]);
  EXPECT_FALSE(io().MouseDown[0]);
  EXPECT_FALSE(io().KeyShift);
}

}  // namespace
}  // namespace drmm::ui
