#include "ui/gl_setup.h"

#include <QCoreApplication>
#include <QSurfaceFormat>

namespace drmm::ui {

void configure_opengl_before_qapplication() {
  QSurfaceFormat format;
  format.setVersion(3, 3);
  format.setProfile(QSurfaceFormat::CoreProfile);
  format.setDepthBufferSize(0);  // ImGui draws 2-D only; no depth or stencil to clear per frame
  format.setStencilBufferSize(0);
  QSurfaceFormat::setDefaultFormat(format);
  QCoreApplication::setAttribute(Qt::AA_ShareOpenGLContexts);
  // Panels are native child windows (ui/imgui_panel_host.h); their siblings must stay non-native.
  QCoreApplication::setAttribute(Qt::AA_DontCreateNativeWidgetSiblings);
}

}  // namespace drmm::ui
