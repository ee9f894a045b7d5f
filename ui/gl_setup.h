#pragma once
// What must happen before QApplication exists for the panels to work (DESIGN.md §4): every
// panel renders with OpenGL 3.3 core (ImGui's renderer is initialised with "#version 330 core"),
// and contexts are shared so that a floated dock, whose panel gets a new context, keeps working.
// drmm-studio's main() and the in-process GUI tests both call it.
namespace drmm::ui {

void configure_opengl_before_qapplication();

}  // namespace drmm::ui
