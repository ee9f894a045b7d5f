#include "ui/imgui_panel_host.h"

#include <algorithm>

#include <QCoreApplication>
#include <QCursor>
#include <QFileInfo>
#include <QImage>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QOpenGLWindow>
#include <QVBoxLayout>
#include <QWheelEvent>

#include <imgui.h>
#include <imgui_impl_opengl3.h>

#include "ui/frame_stats.h"

namespace drmm::ui {
namespace {

// The help texts and labels use Greek letters and a few math signs (α, Γ, Î, ℓ, ‖, →), which
// ImGui's built-in ASCII font lacks. DejaVu Sans comes with Debian's fontconfig; without it the
// built-in font is used and those signs show as '?'.
void load_font(ImGuiIO& io, float pixels) {
  static const ImWchar ranges[] = {
      0x0020, 0x00FF,  // Basic Latin, Latin-1 (Î, ², ·)
      0x0100, 0x017F,  // Latin Extended-A (ĉ, the predicted class)
      0x0370, 0x03FF,  // Greek (α, Γ, μ, π)
      0x2010, 0x205E,  // punctuation (‖, –, …)
      0x2070, 0x209F,  // super- and subscripts
      0x2100, 0x214F,  // letterlike (ℓ)
      0x2190, 0x21FF,  // arrows
      0x2200, 0x22FF,  // math operators
      0x25A0, 0x25FF,  // geometric shapes (▸)
      0,
  };
  const char* const candidates[] = {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"};
  for (const char* path : candidates) {
    if (QFileInfo::exists(QString::fromUtf8(path)) && io.Fonts->AddFontFromFileTTF(path, pixels, nullptr, ranges)) return;
  }
  ImFontConfig config;
  config.SizePixels = pixels;
  io.Fonts->AddFontDefault(&config);
}

// The panels' look: ImGui's dark style with square windows, at `scale`.
void apply_style(float scale) {
  ImGuiStyle& style = ImGui::GetStyle();
  style = ImGuiStyle();
  ImGui::StyleColorsDark(&style);
  style.WindowRounding = 0;
  style.WindowBorderSize = 0;
  style.FrameRounding = 2;
  style.ScaleAllSizes(scale);
}

}  // namespace

// The GL window a panel draws into (see the header): it paints through its host and hands its
// pointer input to the host's handlers, so a panel sees the same events whether they come from
// the screen or from a test that sends them to the widget.
class PanelSurface final : public QOpenGLWindow {
 public:
  PanelSurface(ImGuiPanelHost* host, FrameStats* stats) : host_(host), stats_(stats) {
    setFlag(Qt::WindowDoesNotAcceptFocus);
  }

 protected:
  void initializeGL() override { host_->initialize_gl(); }
  void paintGL() override { host_->paint_gl(); }

  bool event(QEvent* event) override {
    switch (event->type()) {
      case QEvent::UpdateRequest:
      case QEvent::Expose:
        return painted(event);
      case QEvent::MouseButtonPress:
        // A click into a panel activates its window, as a window manager does on a click: keys
        // then go to the focused widget (the host, below) and the window's shortcuts apply.
        // Without an active window X hands keys to the window under the pointer, this one.
        host_->window()->activateWindow();
        QCoreApplication::sendEvent(host_, event);
        return true;
      case QEvent::KeyPress:
      case QEvent::KeyRelease:
      case QEvent::MouseButtonRelease:
      case QEvent::MouseButtonDblClick:
      case QEvent::MouseMove:
      case QEvent::Wheel:
      case QEvent::Leave:
        QCoreApplication::sendEvent(host_, event);
        return true;
      default:
        return QOpenGLWindow::event(event);
    }
  }

 private:
  // Both repaint the window (an update, or the window shown or resized): each is one frame.
  bool painted(QEvent* event) {
    if (stats_ != nullptr) stats_->frame_begin();
    const bool handled = QOpenGLWindow::event(event);
    if (stats_ != nullptr) stats_->frame_end();
    return handled;
  }

  ImGuiPanelHost* host_;
  FrameStats* stats_;
};

ImGuiPanelHost::ImGuiPanelHost(const QString& title, SessionController* session, FrameStats* stats, QWidget* parent)
    : QWidget(parent), title_(title), session_(session), stats_(stats) {
  setMouseTracking(true);         // hover feedback without a pressed button
  setFocusPolicy(Qt::StrongFocus);  // keys reach the panel after a click into it
  setMinimumSize(160, 120);
  surface_ = new PanelSurface(this, stats);
  connect(surface_, &QOpenGLWindow::frameSwapped, this, [this] {
    if (stats_ != nullptr) stats_->frame_presented();
  });
  // configure_opengl_before_qapplication() sets Qt::AA_DontCreateNativeWidgetSiblings, without
  // which Qt makes every sibling of the native container native too.
  QWidget* container = QWidget::createWindowContainer(surface_, this);
  container->setFocusPolicy(Qt::NoFocus);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(container);
  // One context per panel (DESIGN.md §4): sharing a font atlas breaks when a renderer restarts.
  imgui_ = ImGui::CreateContext();
  ImGui::SetCurrentContext(imgui_);
  ImGuiIO& io = ImGui::GetIO();
  ImGuiInputBridge::configure(io);
  io.BackendFlags |= ImGuiBackendFlags_HasMouseCursors;
  load_font(io, kBaseFontPixels);
  apply_style(1.0f);
  // paintGL clears to this color; ImGui then skips the full-panel background quad, one of the
  // few things whose cost grows with the panel's area on a software rasteriser.
  ImGuiStyle& style = ImGui::GetStyle();
  clear_color_ = style.Colors[ImGuiCol_WindowBg];
  style.Colors[ImGuiCol_WindowBg].w = 0.0f;
}

void ImGuiPanelHost::set_ui_scale(float scale) {
  ui_scale_ = scale;
  request_frames();
}

void ImGuiPanelHost::apply_ui_scale() {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  load_font(io, kBaseFontPixels * ui_scale_);
  apply_style(ui_scale_);
  ImGui::GetStyle().Colors[ImGuiCol_WindowBg].w = 0.0f;
  if (renderer_ready_) {
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
  }
  applied_ui_scale_ = ui_scale_;
}

ImGuiPanelHost::~ImGuiPanelHost() {
  // The connection must go first: the surface, destroyed after this body with its container,
  // destroys the context, whose signal would otherwise call into this half-destroyed object.
  disconnect(context_cleanup_);
  cleanup_gl();
  ImGui::DestroyContext(imgui_);
}

void ImGuiPanelHost::initialize_gl() {
  // Runs again if the window's context is ever recreated: the old context's cleanup (connected
  // below) has already shut the renderer down.
  disconnect(context_cleanup_);
  initializeOpenGLFunctions();
  textures_.attach(this);
  context_cleanup_ = connect(surface_->context(), &QOpenGLContext::aboutToBeDestroyed, this, [this] { cleanup_gl(); },
                             Qt::DirectConnection);
  ImGui::SetCurrentContext(imgui_);
  ImGui_ImplOpenGL3_Init("#version 330 core");
  renderer_ready_ = true;
  request_frames();
}

void ImGuiPanelHost::cleanup_gl() {
  if (!renderer_ready_) return;
  surface_->makeCurrent();
  ImGui::SetCurrentContext(imgui_);
  textures_.release();
  release_gl();
  ImGui_ImplOpenGL3_Shutdown();
  renderer_ready_ = false;
  surface_->doneCurrent();
}

void ImGuiPanelHost::set_snapshot(std::shared_ptr<const Snapshot> snapshot) {
  // A panel that draws only on input or its own jobs still needs one frame when a run's first
  // snapshot arrives (or a new run starts from none): it draws "waiting for the model" without one.
  if (snapshot && (!snapshot_ || snapshot->version != snapshot_->version))
    view_key_ = view_key(*snapshot) * 2 + (snapshot->version > 0 ? 1 : 0);
  snapshot_ = std::move(snapshot);
}

bool ImGuiPanelHost::wants_frame() const {
  // A dock behind another in a tab group stays isVisible() but has no visible region: it must
  // neither paint nor (for the analysis panels) ask the run for work.
  if (!isVisible() || visibleRegion().isEmpty()) return false;
  if (frames_requested_ > 0 || input_.has_pending_input() || animating()) return true;
  return view_key_ != drawn_key_;
}

void ImGuiPanelHost::request_frames(int frames) { frames_requested_ = std::max(frames_requested_, frames); }

void ImGuiPanelHost::paint_soon() { surface_->update(); }

QWindow* ImGuiPanelHost::gl_window() const { return surface_; }

QImage ImGuiPanelHost::grabFramebuffer() {
  // A frame drawn for the picture and read back before any swap: after a swap the window's back
  // buffer holds nothing defined. The screen shows it at the next repaint.
  if (!renderer_ready_ || !surface_->isExposed()) return {};
  surface_->makeCurrent();
  paint_gl();
  const qreal dpr = surface_->devicePixelRatio();
  QImage image(int(surface_->width() * dpr), int(surface_->height() * dpr), QImage::Format_RGBA8888);
  glPixelStorei(GL_PACK_ALIGNMENT, 4);
  glReadPixels(0, 0, image.width(), image.height(), GL_RGBA, GL_UNSIGNED_BYTE, image.bits());
  // GL's rows start at the bottom; the window's alpha is not part of the picture.
  image = image.mirrored().convertToFormat(QImage::Format_RGBX8888);
  image.setDevicePixelRatio(dpr);
  return image;
}

void ImGuiPanelHost::paint_gl() {
  if (stats_ != nullptr) stats_->paint_begin();
  static const Snapshot empty_snapshot;
  const std::shared_ptr<const Snapshot> snapshot = snapshot_;  // held for the whole frame
  const Snapshot& shown = snapshot ? *snapshot : empty_snapshot;

  ImGui::SetCurrentContext(imgui_);
  if (ui_scale_ != applied_ui_scale_) apply_ui_scale();
  ImGuiIO& io = ImGui::GetIO();
  const double dt = frame_clock_.isValid() ? double(frame_clock_.nsecsElapsed()) * 1e-9 : 1.0 / 60.0;
  frame_clock_.restart();
  input_.begin_frame(io, surface_->size(), surface_->devicePixelRatio(), dt);
  ImGui_ImplOpenGL3_NewFrame();
  ImGui::NewFrame();
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(io.DisplaySize);
  // A scrollbar, not clipping, when the content is taller than the panel (a small dock at a large
  // zoom: pictures, plots and labels keep a readable size).
  constexpr ImGuiWindowFlags flags = ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                                     ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                                     ImGuiWindowFlags_NoBringToFrontOnFocus;
  ImGui::Begin("##panel", nullptr, flags);
  regions_.clear();
  draw(shown);
  ImGui::End();
  ImGui::Render();

  const qreal dpr = surface_->devicePixelRatio();
  glViewport(0, 0, int(surface_->width() * dpr), int(surface_->height() * dpr));
  glClearColor(clear_color_.x, clear_color_.y, clear_color_.z, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());

  drawn_key_ = view_key_;
  if (frames_requested_ > 0) --frames_requested_;
  apply_cursor();
  if (stats_ != nullptr) stats_->paint_end();
}

void ImGuiPanelHost::draw_header_tools() {
  const QStringList formats = export_formats();
  const ImGuiStyle& style = ImGui::GetStyle();
  float width = ImGui::CalcTextSize("(?)").x;
  for (const QString& format : formats)
    width += style.ItemSpacing.x + ImGui::CalcTextSize(format.toUpper().toUtf8().constData()).x + style.FramePadding.x * 2;
  // Right-aligned on the header's line, or right-aligned below it when the header text would
  // run under them (a narrow panel).
  const float tools_x = std::max(ImGui::GetWindowContentRegionMax().x - width, ImGui::GetCursorPosX());
  const float header_end = ImGui::GetItemRectMax().x - ImGui::GetWindowPos().x;
  if (header_end + style.ItemSpacing.x <= tools_x)
    ImGui::SameLine(tools_x);
  else
    ImGui::SetCursorPosX(tools_x);
  for (const QString& format : formats) {
    const QByteArray label = format.toUpper().toUtf8();
    if (ImGui::SmallButton(label.constData())) {
      // The file dialog runs its own event loop: open it after this frame, never inside paintGL.
      QMetaObject::invokeMethod(this, [this, format] { emit export_requested(format); }, Qt::QueuedConnection);
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Export this panel as %s", label.constData());
    ImGui::SameLine();
  }
  ImGui::TextDisabled("(?)");
  if (ImGui::IsItemHovered()) {
    const QByteArray help = help_text().toUtf8();
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 36.0f);
    ImGui::TextUnformatted(help.constData());
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
}

void ImGuiPanelHost::draw_header(const std::string& text) {
  text_elided(text, ImGui::GetContentRegionAvail().x);
  draw_header_tools();
}

RgbaImage ImGuiPanelHost::screen_image() {
  const QImage shot = grabFramebuffer().convertToFormat(QImage::Format_RGBA8888);
  RgbaImage image;
  image.width = shot.width();
  image.height = shot.height();
  image.pixels.resize(size_t(image.width) * size_t(image.height) * 4);
  for (int y = 0; y < image.height; ++y)
    std::copy_n(shot.constScanLine(y), size_t(image.width) * 4, &image.pixels[size_t(y) * size_t(image.width) * 4]);
  return image;
}

void ImGuiPanelHost::apply_cursor() {
  const int cursor = ImGui::GetMouseCursor();
  if (cursor == last_cursor_) return;
  last_cursor_ = cursor;
  switch (cursor) {
    case ImGuiMouseCursor_TextInput: surface_->setCursor(Qt::IBeamCursor); break;
    case ImGuiMouseCursor_ResizeAll: surface_->setCursor(Qt::SizeAllCursor); break;
    case ImGuiMouseCursor_ResizeNS: surface_->setCursor(Qt::SizeVerCursor); break;
    case ImGuiMouseCursor_ResizeEW: surface_->setCursor(Qt::SizeHorCursor); break;
    case ImGuiMouseCursor_ResizeNESW: surface_->setCursor(Qt::SizeBDiagCursor); break;
    case ImGuiMouseCursor_ResizeNWSE: surface_->setCursor(Qt::SizeFDiagCursor); break;
    case ImGuiMouseCursor_Hand: surface_->setCursor(Qt::PointingHandCursor); break;
    case ImGuiMouseCursor_NotAllowed: surface_->setCursor(Qt::ForbiddenCursor); break;
    default: surface_->unsetCursor(); break;
  }
}

bool ImGuiPanelHost::imgui_wants_keyboard() const {
  ImGui::SetCurrentContext(imgui_);
  return ImGui::GetIO().WantTextInput;
}

bool ImGuiPanelHost::event(QEvent* event) {
  // While an ImGui text field is being edited, printable keys belong to it, not to window shortcuts.
  if (event->type() == QEvent::ShortcutOverride && imgui_wants_keyboard()) {
    const auto* key = static_cast<QKeyEvent*>(event);
    if (!key->text().isEmpty() && !(key->modifiers() & (Qt::ControlModifier | Qt::AltModifier))) {
      event->accept();
      return true;
    }
  }
  return QWidget::event(event);
}

void ImGuiPanelHost::mousePressEvent(QMouseEvent* event) {
  setFocus(Qt::MouseFocusReason);  // the surface takes no focus; its clicks give it to the panel
  input_.modifiers(event->modifiers());
  input_.mouse_moved(event->position());
  input_.mouse_button(event->button(), true);
  request_frames(3);
}

void ImGuiPanelHost::mouseReleaseEvent(QMouseEvent* event) {
  input_.mouse_moved(event->position());
  input_.mouse_button(event->button(), false);
  request_frames(3);
}

void ImGuiPanelHost::mouseDoubleClickEvent(QMouseEvent* event) {
  // Qt sends press, release, double-click, release; ImGui detects double clicks from timing itself.
  mousePressEvent(event);
}

void ImGuiPanelHost::mouseMoveEvent(QMouseEvent* event) {
  input_.mouse_moved(event->position());
  request_frames(2);
}

void ImGuiPanelHost::wheelEvent(QWheelEvent* event) {
  const QPoint steps = event->angleDelta();
  input_.wheel(float(steps.x()) / 120.0f, float(steps.y()) / 120.0f);
  request_frames(3);
  event->accept();
}

void ImGuiPanelHost::keyPressEvent(QKeyEvent* event) {
  input_.key(event->key(), event->modifiers(), true);
  input_.text(event->text().toStdString());
  request_frames(3);
  if (!imgui_wants_keyboard()) event->ignore();  // let the window see keys ImGui does not use
}

void ImGuiPanelHost::keyReleaseEvent(QKeyEvent* event) {
  input_.key(event->key(), event->modifiers(), false);
  request_frames(3);
  if (!imgui_wants_keyboard()) event->ignore();
}

void ImGuiPanelHost::focusOutEvent(QFocusEvent* event) {
  input_.focus_lost();
  request_frames(2);
  QWidget::focusOutEvent(event);
}

void ImGuiPanelHost::leaveEvent(QEvent* event) {
  input_.mouse_left();
  request_frames(2);
  QWidget::leaveEvent(event);
}

}  // namespace drmm::ui
