#pragma once
// The shared base of every panel (DESIGN.md §4): a widget whose picture is a GL window with its
// own Dear ImGui context, its own font atlas and its own ImGui OpenGL3 renderer, fed by the
// Qt→ImGui input bridge. A panel subclass only implements draw(); the host decides when a frame
// is worth painting: when a snapshot changes what the panel shows (view_key()), for a few frames
// after input, or continuously while the panel animates. Between those, nothing is painted or
// uploaded.
//
// ImGui draws straight into a QOpenGLWindow embedded in the widget (createWindowContainer), not
// into a QOpenGLWidget: a QOpenGLWidget draws into a framebuffer object that Qt then composes with
// the window's raster backing store and swaps, and on llvmpipe that composition is the frame's
// cost (~30 ns a pixel: 7 ms for a 555×464 panel whose ImGui drawing takes 0.4 ms). The embedded
// window's frame is its drawing and one swap (~1 ms for the same panel). The window takes no
// keyboard focus: keys go to this widget, so the main window's shortcuts keep working.
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <QElapsedTimer>
#include <QImage>
#include <QOpenGLExtraFunctions>
#include <QString>
#include <QStringList>
#include <QWidget>

#include "core/train/snapshot.h"
#include "ui/image_atlas.h"
#include "ui/imgui_input_bridge.h"
#include "ui/imgui_rect.h"
#include "ui/panel_layout.h"
#include "ui/texture_cache.h"

struct ImGuiContext;
class QWindow;

namespace drmm::ui {

class FrameStats;
class PanelSurface;
class SessionController;

class ImGuiPanelHost : public QWidget, protected QOpenGLExtraFunctions {
  Q_OBJECT
 public:
  ImGuiPanelHost(const QString& title, SessionController* session, FrameStats* stats, QWidget* parent = nullptr);
  ~ImGuiPanelHost() override;

  QString title() const { return title_; }
  // What the panel shows and which paper equation it comes from (Help ▸ Guide and the "?" mark).
  virtual QString help_text() const = 0;

  // The newest snapshot; the panel repaints only if it changes what the panel shows.
  void set_snapshot(std::shared_ptr<const Snapshot> snapshot);
  int64_t shown_step() const { return snapshot_ ? snapshot_->step : -1; }  // of the snapshot it draws
  // Whether the next tick of the window's frame clock should repaint this panel.
  bool wants_frame() const;
  // Whether a person is interacting with the panel (input waiting for a frame): served first.
  bool has_input() const { return input_.has_pending_input() || frames_requested_ > 0; }
  // Request `frames` repaints (input, a state change outside the snapshot such as new probes).
  void request_frames(int frames = 2);
  // Paints the panel's GL window at the next event-loop pass (the window's frame clock calls it).
  void paint_soon();
  // The panel's last frame, as it is on screen.
  QImage grabFramebuffer();
  // The embedded GL window that receives the screen's pointer events (the GUI tests click it).
  QWindow* gl_window() const;
  // Text and spacing scale (View ▸ Zoom, for projectors): the font is rebuilt at that size, so it
  // stays sharp, and the style's sizes are scaled with it. Applied at the next frame.
  void set_ui_scale(float scale);

  // Exports: formats the panel can write ("png", "csv") and the writer (throws drmm::Error).
  virtual QStringList export_formats() const { return {"png"}; }
  virtual void write_export(const QString& path, const QString& format) = 0;

  // Named rectangles of the last frame in widget pixels (the GUI test checks these regions of
  // the screenshot for content).
  const std::map<std::string, PanelRect>& regions() const { return regions_; }
  // Whether the panel shows a picture that evolves without end (a running gradient ascent) and
  // has shown it: such a panel always wants frames, so a screenshot must not wait for it to settle.
  virtual bool evolving() const { return false; }

 signals:
  // A panel asked (from inside a frame) to export: the window opens the file dialog afterwards,
  // never inside paintGL.
  void export_requested(const QString& format);

 protected:
  // Draws the panel's content inside a full-widget ImGui window; `snapshot` is never null.
  virtual void draw(const Snapshot& snapshot) = 0;
  // Whether the panel needs a frame every tick (e.g. live curves while training).
  virtual bool animating() const { return false; }
  // What of the snapshot the panel shows, as a key: a new snapshot whose key equals the drawn one
  // causes no frame. The default, the version, suits panels that show every snapshot's metrics;
  // picture panels key on their pictures' content (the trainer republishes unchanged pictures
  // with each metrics update). Panels that do not draw from snapshots return a constant.
  virtual uint64_t view_key(const Snapshot& snapshot) { return snapshot.version; }
  // The GL resources of the subclass beyond the texture cache; called with the context current.
  virtual void release_gl() {}

  TextureCache& textures() { return textures_; }
  SessionController* session() const { return session_; }
  const std::shared_ptr<const Snapshot>& snapshot_ptr() const { return snapshot_; }
  void record_region(const std::string& name, ImVec2 min, ImVec2 max) { regions_[name] = {min, max}; }
  // The "?" help marker and the export buttons every panel has in its top line.
  void draw_header_tools();
  // The top line of a panel whose header is one text: shortened to the panel's width when it is
  // longer (whole on hover), then the header tools (beside it, or below when it leaves no room).
  void draw_header(const std::string& text);
  // The panel as it is on screen (the PNG export of panels whose pictures are drawn, not
  // computed images).
  RgbaImage screen_image();

  bool event(QEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void keyReleaseEvent(QKeyEvent* event) override;
  void focusOutEvent(QFocusEvent* event) override;
  void leaveEvent(QEvent* event) override;

 private:
  friend class PanelSurface;
  void initialize_gl();  // the surface's initializeGL and paintGL, with its context current
  void paint_gl();
  void cleanup_gl();
  void apply_ui_scale();  // in paintGL, with the context current
  void apply_cursor();
  bool imgui_wants_keyboard() const;

  QString title_;
  SessionController* session_;
  FrameStats* stats_;
  PanelSurface* surface_ = nullptr;  // owned by its container, a child of this widget
  ImGuiContext* imgui_ = nullptr;
  bool renderer_ready_ = false;
  ImGuiInputBridge input_;
  TextureCache textures_;
  QElapsedTimer frame_clock_;
  std::shared_ptr<const Snapshot> snapshot_;
  uint64_t view_key_ = 0, drawn_key_ = ~uint64_t(0);
  int frames_requested_ = 1;
  std::map<std::string, PanelRect> regions_;
  int last_cursor_ = -2;
  ImVec4 clear_color_{0.06f, 0.06f, 0.06f, 1.0f};
  float ui_scale_ = 1.0f, applied_ui_scale_ = 1.0f;
  QMetaObject::Connection context_cleanup_;
};

}  // namespace drmm::ui
