#pragma once
// The shared base of every panel (DESIGN.md §4): a QOpenGLWidget with its own Dear ImGui context,
// its own font atlas and its own ImGui OpenGL3 renderer, fed by the Qt→ImGui input bridge.
// A panel subclass only implements draw(); the host decides when a frame is worth painting:
// when a snapshot changes what the panel shows (view_key()), for a few frames after input, or
// continuously while the panel animates. Between those, nothing is painted or uploaded.
//
// Each panel is a native child window. On llvmpipe the cost of a frame is the pixels Qt composes
// (~30 ns each: every texture widget plus the raster backing store, blended): a non-native
// QOpenGLWidget makes every update of any panel recompose the whole 1400×900 window (~40 ms of
// CPU), a native one recomposes only its own rectangle.
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <QElapsedTimer>
#include <QOpenGLExtraFunctions>
#include <QOpenGLWidget>
#include <QString>
#include <QStringList>

#include "core/train/snapshot.h"
#include "ui/image_atlas.h"
#include "ui/imgui_input_bridge.h"
#include "ui/imgui_rect.h"
#include "ui/panel_layout.h"
#include "ui/texture_cache.h"

struct ImGuiContext;

namespace drmm::ui {

class FrameStats;
class SessionController;

class ImGuiPanelHost : public QOpenGLWidget, protected QOpenGLExtraFunctions {
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

  void initializeGL() override;
  void paintGL() override;
  void resizeGL(int, int) override {}

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
  void cleanup_gl();
  void apply_ui_scale();  // in paintGL, with the context current
  void apply_cursor();
  bool imgui_wants_keyboard() const;

  QString title_;
  SessionController* session_;
  FrameStats* stats_;
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
