#pragma once
// The Qt side of the GUI (DESIGN.md §4): menus, toolbar, status bar, the panels' docks, file
// dialogs, shortcuts and QSettings; and the frame clock that hands the newest snapshot to the
// panels and repaints only those that need it.
#include <memory>
#include <vector>

#include <QElapsedTimer>
#include <QFont>
#include <QMainWindow>
#include <QTimer>

#include "core/train/snapshot.h"
#include "ui/frame_stats.h"
#include "ui/studio_options.h"

class QAction;
class QDockWidget;
class QLabel;
class QPushButton;
class QSlider;
class QProgressBar;

namespace drmm::ui {

class ImGuiPanelHost;
class SessionController;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(StudioOptions options);
  // Brings a panel's dock (by the panel's objectName) to the front of its tab group and gives
  // the group most of its column (--raise; the GUI tests). Returns whether the panel exists.
  bool show_panel(const QString& name);
  ~MainWindow() override;

  const FrameStats& frame_stats() const { return stats_; }
  // The window as it is on screen: its widgets with every docked panel's GL picture in place
  // (QWidget::grab() leaves the panels' embedded GL windows out).
  QPixmap screenshot();
  int exit_code() const { return exit_code_; }

 protected:
  void closeEvent(QCloseEvent* event) override;
  bool event(QEvent* event) override;

 private:
  void create_actions();
  void create_docks();
  void create_status_bar();
  void size_status_widgets();  // the status bar's fixed widths at the current zoom
  void create_timeline();
  void wait_for_the_run_to_stop();  // at quit: a busy dialog while the batch and the save finish
  void view_history_step(int64_t step);  // −1: live
  void refresh_timeline(const Snapshot& live);
  void restore_settings();
  void save_settings();
  void set_ui_scale(double scale);    // View ▸ Zoom: every panel and the window's widgets
  void step_ui_scale(int direction);  // +1 / −1: the next zoom step
  void tick();  // the frame clock
  void update_status(const Snapshot& snapshot);
  void update_actions(const Snapshot& snapshot);
  void drive_screenshot_hook(const Snapshot& snapshot);
  void start_command_line_run();  // --screenshot's N steps, or --demo's training
  void fail_screenshot(const char* why);
  void save_screenshot();

  void open_dataset_file();
  void open_dataset_folder();
  void open_architecture();
  void open_onnx_model();
  void import_onnx_model(const QString& path);  // no question asked (see open_onnx_model)
  void open_checkpoint();
  void watch_run_folder();
  void save_checkpoint();
  void continue_run(const QString& path);     // opens a checkpoint, a warning when it cannot
  bool confirm_discard(const QString& action);  // the session's discard guard: a dialog
  static QString autosave_path();             // where a closed window keeps unsaved training
  void offer_autosaved_run();
  void start_autosaving();
  void export_all();
  void export_panel(ImGuiPanelHost* panel, const QString& format);
  void show_guide();
  void show_about();
  void set_dataset(const QString& spec);

  StudioOptions options_;
  FrameStats stats_;
  SessionController* session_ = nullptr;
  std::vector<ImGuiPanelHost*> panels_;
  std::vector<QDockWidget*> docks_;
  QByteArray default_layout_;

  QAction* start_ = nullptr;
  QAction* pause_ = nullptr;
  QAction* step_ = nullptr;
  QAction* reset_ = nullptr;

  QLabel* run_label_ = nullptr;
  QProgressBar* epoch_progress_ = nullptr;
  QLabel* speed_label_ = nullptr;
  QLabel* backend_label_ = nullptr;
  QElapsedTimer status_clock_;
  bool status_running_ = false;  // the run state the status bar shows

  QTimer frame_timer_;
  uint64_t shown_version_ = ~uint64_t(0);
  QFont base_font_;        // the application font at zoom 1
  QSlider* timeline_ = nullptr;
  QPushButton* cancel_import_ = nullptr;  // in the status bar while an import runs
  QLabel* timeline_label_ = nullptr;
  std::vector<int64_t> timeline_steps_;  // the run's kept steps, as the slider's positions
  int64_t viewed_step_ = -1;             // the step the panels show; −1: live
  bool updating_timeline_ = false;
  double ui_scale_ = 1.0;
  size_t next_panel_ = 0;  // round robin of panel repaints
  bool served_input_last_ = false;

  // --screenshot state
  enum class HookPhase { Training, Settling, Done } hook_phase_ = HookPhase::Training;
  QElapsedTimer hook_clock_;
  int exit_code_ = 0;
  bool awaiting_import_ = false;  // --open FILE.onnx: the command line's run starts once it is imported

};

}  // namespace drmm::ui
