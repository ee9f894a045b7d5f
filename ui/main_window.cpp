#include "ui/main_window.h"

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDialog>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileInfo>
#include <QFontMetrics>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QKeySequence>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPainter>
#include <QPixmap>
#include <QProgressBar>
#include <QProgressDialog>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QSignalBlocker>
#include <QSlider>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTextBrowser>
#include <QThread>
#include <QToolBar>
#include <QVBoxLayout>

#include <imgui.h>

#include "core/model/model_spec.h"
#include "core/train/training_session.h"
#include "core/util/error.h"
#include "ui/file_dialogs.h"
#include "ui/imgui_panel_host.h"
#include "ui/panels/dataset_browser_panel.h"
#include "ui/panels/decision_tree_panel.h"
#include "ui/panels/filters_panel.h"
#include "ui/panels/activity_max_panel.h"
#include "ui/panels/comparison_panel.h"
#include "ui/panels/reconstructions_panel.h"
#include "ui/panels/nuisance_probe_panel.h"
#include "ui/panels/rendering_paths_panel.h"
#include "ui/panels/samples_panel.h"
#include "ui/panels/shallow_rmm_panel.h"
#include "ui/panels/training_panel.h"
#include "ui/session_controller.h"

namespace drmm::ui {
namespace {

// Bumped when the set of docks changes, so an old saved layout is not applied to new docks.
constexpr int kLayoutVersion = 4;
// The frame clock: display rate. Panels paint only when they have something new.
constexpr int kFrameIntervalMs = 16;
// Status-bar widgets are ordinary Qt widgets: on llvmpipe a change of one of them cost three
// window compositions, ~50 ms (measured with --frame-stats), and twice a second that was 4% of
// all frames, the whole p99. So they change twice a second only while idle; while training,
// the Training panel's status line and progress bar (drawn in GL) carry the live figures and
// the status bar follows every 5 s, and at once when a run starts or stops.
constexpr int kStatusIntervalMs = 500;
constexpr int kStatusIntervalTrainingMs = 5000;

QString run_text(const Snapshot& s) {
  return QStringLiteral("step %1 · epoch %2").arg(s.step).arg(s.epoch, 0, 'f', 2);
}

}  // namespace

MainWindow::MainWindow(StudioOptions options) : options_(std::move(options)) {
  setWindowTitle(tr("DRMM Studio"));
  setObjectName("main_window");
  setDockNestingEnabled(true);
  setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowNestedDocks | QMainWindow::AllowTabbedDocks);

  TrainConfig config = options_.config;
  if (options_.use_settings && !options_.config_from_command_line) {
    const QSettings settings;
    config.dataset = settings.value("run/dataset", QString::fromStdString(config.dataset)).toString().toStdString();
    config.preset = settings.value("run/preset", QString::fromStdString(config.preset)).toString().toStdString();
  }
  // The trainer gets one core and the GUI keeps the other (issue 6: frame targets on 2 cores).
  config.threads = 1;
  session_ = new SessionController(config, this);
  // Before the command line's run starts, so that the twin starts with it.
  if (options_.compare_cnn) session_->set_compare_cnn(true);
  connect(session_, &SessionController::checkpoint_saved, this, [this](const QString& path, const QString& error) {
    if (error.isEmpty()) statusBar()->showMessage(tr("Checkpoint saved: %1").arg(path), 5000);
    else QMessageBox::warning(this, tr("Save checkpoint"), error);
  });

  // A dataset or architecture that does not open leaves the run as it was (and is not remembered).
  connect(session_, &SessionController::config_refused, this, [this](const QString& error) {
    statusBar()->clearMessage();
    QMessageBox::warning(this, tr("Not opened"), tr("%1\n\nThe current run is unchanged.").arg(error));
  });
  connect(session_, &SessionController::import_progress, this, [this](int percent) {
    statusBar()->showMessage(tr("Importing: measuring the latent frequencies on the training images, %1 %").arg(percent));
  });
  connect(session_, &SessionController::model_imported, this,
          [this](const QString& path, const QString& notes, const QString& error) {
            if (cancel_import_) cancel_import_->hide();
            if (awaiting_import_) {
              awaiting_import_ = false;
              if (error.isEmpty()) start_command_line_run();
              else if (!options_.screenshot_path.isEmpty()) return fail_screenshot(qPrintable(error));
            }
            if (!error.isEmpty()) {
              statusBar()->clearMessage();
              QMessageBox::warning(this, tr("Open model"), error);
              return;
            }
            statusBar()->showMessage(tr("Imported %1. %2").arg(path, notes.section('\n', -1)), 15000);
          });

  base_font_ = QApplication::font();
  create_docks();
  create_actions();
  create_status_bar();
  create_timeline();
  // 1400×900, or the screen when it is smaller (a 1024×768 projector): never past its edges.
  const QRect screen_area = screen() ? screen()->availableGeometry() : QRect(0, 0, 1400, 900);
  resize(std::min(1400, screen_area.width()), std::min(900, screen_area.height()));
  default_layout_ = saveState(kLayoutVersion);
  if (options_.use_settings) restore_settings();
  if (options_.zoom_percent > 0) set_ui_scale(options_.zoom_percent / 100);

  frame_timer_.setTimerType(Qt::PreciseTimer);
  connect(&frame_timer_, &QTimer::timeout, this, &MainWindow::tick);
  frame_timer_.start(kFrameIntervalMs);
  status_clock_.start();
  hook_clock_.start();

  if (options_.use_settings) {
    session_->set_discard_guard([this](const QString& action) { return confirm_discard(action); });
    start_autosaving();
    if (!options_.demo && !options_.config_from_command_line) QTimer::singleShot(0, this, &MainWindow::offer_autosaved_run);
  }
  if (!options_.open_path.isEmpty())
    QTimer::singleShot(0, this, [this] {
      if (options_.open_path.endsWith(".onnx", Qt::CaseInsensitive)) import_onnx_model(options_.open_path);
      else continue_run(options_.open_path);
    });
  if (!options_.watch_folder.isEmpty()) session_->watch_folder(options_.watch_folder);
  // --screenshot and --demo train the model the command line opens: an ONNX import lands later.
  awaiting_import_ = options_.open_path.endsWith(".onnx", Qt::CaseInsensitive);
  if (!awaiting_import_) start_command_line_run();
  if (options_.exit_after_seconds > 0)
    QTimer::singleShot(int(options_.exit_after_seconds * 1000), this, &QWidget::close);
}

MainWindow::~MainWindow() {
  // Panels first (their GL cleanup needs the window), then the run (joins its threads).
  frame_timer_.stop();
  for (QDockWidget* dock : docks_) delete dock;
  docks_.clear();
  panels_.clear();
  delete session_;
  session_ = nullptr;
}

void MainWindow::create_docks() {
  auto* training = new TrainingPanel(session_, &stats_);
  auto* reconstructions = new ReconstructionsPanel(session_, &stats_);
  auto* filters = new FiltersPanel(session_, &stats_);
  auto* browser = new DatasetBrowserPanel(session_, &stats_);
  auto* trees = new DecisionTreePanel(session_, &stats_);
  auto* paths = new RenderingPathsPanel(session_, &stats_);
  auto* samples = new SamplesPanel(session_, &stats_);
  auto* activity = new ActivityMaxPanel(session_, &stats_);
  auto* shallow_rmm = new ShallowRmmPanel(session_, &stats_);
  auto* nuisance_probe = new NuisanceProbePanel(session_, &stats_);
  auto* comparison = new ComparisonPanel(session_, &stats_);
  panels_ = {training, reconstructions, filters, browser, trees, paths, samples, activity, shallow_rmm, nuisance_probe,
             comparison};
  for (ImGuiPanelHost* panel : panels_) {
    auto* dock = new QDockWidget(panel->title(), this);
    dock->setObjectName("dock_" + panel->objectName());  // saveState() keys the layout by it
    dock->setWidget(panel);
    docks_.push_back(dock);
    connect(panel, &ImGuiPanelHost::export_requested, this,
            [this, panel](const QString& format) { export_panel(panel, format); }, Qt::QueuedConnection);
  }
  // Left column: training (top) and the dataset (bottom); right: reconstructions over filters
  // and decision trees side by side.
  addDockWidget(Qt::LeftDockWidgetArea, docks_[0]);
  splitDockWidget(docks_[0], docks_[1], Qt::Horizontal);
  splitDockWidget(docks_[0], docks_[3], Qt::Vertical);
  splitDockWidget(docks_[1], docks_[2], Qt::Vertical);
  splitDockWidget(docks_[2], docks_[4], Qt::Horizontal);
  resizeDocks({docks_[0], docks_[1]}, {560, 840}, Qt::Horizontal);
  resizeDocks({docks_[0], docks_[3]}, {520, 330}, Qt::Vertical);
  resizeDocks({docks_[1], docks_[2]}, {470, 380}, Qt::Vertical);
  resizeDocks({docks_[2], docks_[4]}, {280, 560}, Qt::Horizontal);
  // The analyses of the live model (rendering paths, samples, activity maximization, shallow RMM,
  // nuisance decoding) are tabs behind the reconstructions: the largest dock, and a hidden panel
  // costs nothing (it neither paints nor asks the run for work).
  for (size_t i = 5; i < docks_.size(); ++i) tabifyDockWidget(docks_[1], docks_[i]);
  docks_[1]->raise();
  if (!options_.raise_panel.isEmpty() && !show_panel(options_.raise_panel))
    std::fprintf(stderr, "drmm-studio: --raise: no panel named %s\n", qPrintable(options_.raise_panel));
}

bool MainWindow::show_panel(const QString& name) {
  for (QDockWidget* dock : docks_) {
    if (dock->objectName() != "dock_" + name) continue;
    dock->show();
    dock->raise();
    // The reconstructions' tab group gets most of the right column: the analyses need room.
    if (!tabifiedDockWidgets(dock).isEmpty() || dock == docks_[1]) resizeDocks({docks_[1], docks_[2]}, {700, 150}, Qt::Vertical);
    return true;
  }
  return false;
}

void MainWindow::create_actions() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("Open &dataset file…"), QKeySequence::Open, this, &MainWindow::open_dataset_file);
  file->addAction(tr("Open dataset &folder…"), this, &MainWindow::open_dataset_folder);
  file->addAction(tr("Open &architecture…"), this, &MainWindow::open_architecture);
  file->addAction(tr("Open &model (ONNX)…"), this, &MainWindow::open_onnx_model);
  file->addAction(tr("Open &checkpoint…"), QKeySequence(tr("Ctrl+Shift+O")), this, &MainWindow::open_checkpoint);
  file->addAction(tr("&Watch run folder…"), this, &MainWindow::watch_run_folder);
  file->addAction(tr("&Save checkpoint…"), QKeySequence::Save, this, &MainWindow::save_checkpoint);
  file->addSeparator();
  QAction* export_action = file->addAction(tr("&Export all panels…"), QKeySequence(tr("Ctrl+E")), this, &MainWindow::export_all);
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  QMenu* train = menuBar()->addMenu(tr("&Train"));
  start_ = train->addAction(tr("&Start"), QKeySequence(Qt::Key_F5), session_, [this] { session_->start(); });
  pause_ = train->addAction(tr("&Pause"), QKeySequence(Qt::Key_F6), session_, &SessionController::pause);
  step_ = train->addAction(tr("Step one &batch"), QKeySequence(Qt::Key_F10), session_, &SessionController::step_once);
  train->addSeparator();
  reset_ = train->addAction(tr("&Reset"), QKeySequence(tr("Ctrl+Shift+R")), this, [this] {
    session_->after_confirming(tr("Reset starts a new run from fresh weights"), [this] { session_->reset(); });
  });
  start_->setToolTip(tr("Train continuously (F5)"));
  pause_->setToolTip(tr("Pause after the current batch (F6)"));
  step_->setToolTip(tr("Train exactly one batch, then pause (F10)"));
  reset_->setToolTip(tr("Start the run again from fresh weights (Ctrl+Shift+R)"));
  train->addSeparator();
  QAction* compare = train->addAction(tr("&Compare with a CNN (L_H only)"));
  compare->setCheckable(true);
  compare->setChecked(session_->compare_cnn());
  compare->setToolTip(tr("Train the same network on the cross-entropy alone beside this run, on the same data, "
                         "split, seed and batch order (the DRMM vs CNN panel)"));
  connect(compare, &QAction::toggled, this, [this](bool on) {
    session_->set_compare_cnn(on);
    if (on) show_panel("comparison");
  });
  connect(session_, &SessionController::compare_cnn_changed, compare, [this, compare] {
    const QSignalBlocker quiet(compare);  // the panel's button turned it on: no second toggle
    compare->setChecked(session_->compare_cnn());
  });

  QMenu* view = menuBar()->addMenu(tr("&View"));
  for (QDockWidget* dock : docks_) view->addAction(dock->toggleViewAction());
  view->addSeparator();
  view->addAction(tr("&Reset layout"), this, [this] {
    for (QDockWidget* dock : docks_) dock->setFloating(false);
    restoreState(default_layout_, kLayoutVersion);
  });
  view->addSeparator();
  view->addAction(tr("Zoom &in"), QKeySequence::ZoomIn, this, [this] { step_ui_scale(+1); });
  view->addAction(tr("Zoom &out"), QKeySequence::ZoomOut, this, [this] { step_ui_scale(-1); });
  view->addAction(tr("&Actual size"), QKeySequence(tr("Ctrl+0")), this, [this] { set_ui_scale(1.0); });

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&Guide to the panels"), QKeySequence::HelpContents, this, &MainWindow::show_guide);
  help->addAction(tr("&About DRMM Studio"), this, &MainWindow::show_about);

  QToolBar* toolbar = addToolBar(tr("Training"));
  toolbar->setObjectName("toolbar_training");
  toolbar->setToolButtonStyle(Qt::ToolButtonTextOnly);
  toolbar->addAction(start_);
  toolbar->addAction(pause_);
  toolbar->addAction(step_);
  toolbar->addAction(reset_);
  toolbar->addSeparator();
  toolbar->addAction(export_action);
}

// The run's history under the toolbar: drag to see every panel at a past step while training
// goes on (TrainingSession keeps the steps and their weights); Live returns to the newest.
void MainWindow::create_timeline() {
  addToolBarBreak();
  QToolBar* bar = addToolBar(tr("History"));
  bar->setObjectName("toolbar_history");
  bar->addWidget(new QLabel(tr(" History "), bar));
  timeline_ = new QSlider(Qt::Horizontal, bar);
  timeline_->setRange(0, 0);
  timeline_->setToolTip(tr("Drag to show every panel at an earlier step of this run; training goes on"));
  bar->addWidget(timeline_);
  timeline_label_ = new QLabel(bar);
  timeline_label_->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("step 000000 of 000000 ")));
  bar->addWidget(timeline_label_);
  QAction* live = bar->addAction(tr("Live"), this, [this] { view_history_step(-1); });
  live->setToolTip(tr("Back to the newest step"));
  connect(timeline_, &QSlider::valueChanged, this, [this](int index) {
    if (updating_timeline_ || index < 0 || size_t(index) >= timeline_steps_.size()) return;
    view_history_step(size_t(index) + 1 == timeline_steps_.size() ? -1 : timeline_steps_[size_t(index)]);
  });
  connect(session_, &SessionController::config_changed, this, [this] {
    timeline_steps_.clear();
    view_history_step(-1);
  });
}

void MainWindow::view_history_step(int64_t step) {
  viewed_step_ = step;
  if (const auto run = session_->training_session()) run->view_step(step);
  shown_version_ = ~uint64_t(0);  // the next tick hands the panels the snapshot of that step
  refresh_timeline(*session_->latest());
}

void MainWindow::refresh_timeline(const Snapshot& live) {
  const auto run = session_->training_session();
  std::vector<int64_t> steps = run ? run->history_steps() : std::vector<int64_t>{};
  updating_timeline_ = true;
  if (steps != timeline_steps_) {
    timeline_steps_ = std::move(steps);
    timeline_->setRange(0, std::max(0, int(timeline_steps_.size()) - 1));
  }
  if (viewed_step_ < 0) {
    timeline_->setValue(timeline_->maximum());
  } else {
    const auto at = std::upper_bound(timeline_steps_.begin(), timeline_steps_.end(), viewed_step_);
    timeline_->setValue(std::max(0, int(at - timeline_steps_.begin()) - 1));
  }
  updating_timeline_ = false;
  const QString text = viewed_step_ < 0 ? tr("live, step %1").arg(live.step)
                                        : tr("step %1 of %2").arg(viewed_step_).arg(live.step);
  if (timeline_label_->text() != text) timeline_label_->setText(text);
}

void MainWindow::create_status_bar() {
  // Fixed widths: a label that changes width relayouts (and repaints) the whole status bar.
  run_label_ = new QLabel(this);
  epoch_progress_ = new QProgressBar(this);
  epoch_progress_->setRange(0, 1000);
  epoch_progress_->setFormat(tr("epochs %p%"));
  speed_label_ = new QLabel(this);
  backend_label_ = new QLabel(this);
  size_status_widgets();
  statusBar()->addPermanentWidget(run_label_);
  statusBar()->addPermanentWidget(epoch_progress_);
  statusBar()->addPermanentWidget(speed_label_);
  statusBar()->addPermanentWidget(backend_label_);
}

void MainWindow::size_status_widgets() {
  // As wide as their longest text in the current font (View ▸ Zoom): the figures never run
  // together, and the widths stay fixed while the figures change.
  const QFontMetrics metrics(QApplication::font());
  const auto width_of = [&](const QString& text) { return metrics.horizontalAdvance(text) + metrics.averageCharWidth() * 2; };
  run_label_->setMinimumWidth(width_of(QStringLiteral("step 000000 · epoch 00.00")));
  epoch_progress_->setFixedWidth(width_of(QStringLiteral("epochs 100%")) * 3 / 2);
  speed_label_->setMinimumWidth(width_of(QStringLiteral("00000 images/s")));
  backend_label_->setMinimumWidth(width_of(QStringLiteral("backend: vulkan")));
}

void MainWindow::restore_settings() {
  const QSettings settings;
  restoreGeometry(settings.value("window/geometry").toByteArray());
  restoreState(settings.value("window/state").toByteArray(), kLayoutVersion);
  set_ui_scale(settings.value("ui/scale", 1.0).toDouble());
}

namespace {
// The zoom steps of View ▸ Zoom in/out: a projector at the back of a room wants 1.5–2.
constexpr double kUiScales[] = {0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.5};
}  // namespace

// Scales every panel's text (a sharp font rebuilt at the size) and the window's own widgets.
void MainWindow::set_ui_scale(double scale) {
  scale = std::clamp(scale, kUiScales[0], kUiScales[std::size(kUiScales) - 1]);
  ui_scale_ = scale;
  for (ImGuiPanelHost* panel : panels_) panel->set_ui_scale(float(scale));
  QFont font = base_font_;
  font.setPointSizeF(base_font_.pointSizeF() * scale);
  QApplication::setFont(font);
  size_status_widgets();
  if (options_.use_settings) QSettings().setValue("ui/scale", scale);
  statusBar()->showMessage(tr("Zoom %1 %").arg(qRound(scale * 100)), 2000);
}

void MainWindow::step_ui_scale(int direction) {
  size_t at = 0;  // the step nearest the current scale
  for (size_t i = 0; i < std::size(kUiScales); ++i)
    if (std::abs(kUiScales[i] - ui_scale_) < std::abs(kUiScales[at] - ui_scale_)) at = i;
  const size_t next = direction > 0 ? std::min(at + 1, std::size(kUiScales) - 1) : (at > 0 ? at - 1 : 0);
  set_ui_scale(kUiScales[next]);
}

void MainWindow::save_settings() {
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState(kLayoutVersion));
  // Only what loaded is remembered: a bad path or preset would otherwise greet every later launch
  // with the same error instead of the default that works.
  const auto browsed = session_->dataset();
  if (browsed && browsed->data) settings.setValue("run/dataset", QString::fromStdString(session_->config().dataset));
  const auto snapshot = session_->latest();
  if (snapshot && !snapshot->level_names.empty())
    settings.setValue("run/preset", QString::fromStdString(session_->config().preset));
}

bool MainWindow::event(QEvent* event) {
  if (event->type() != QEvent::UpdateRequest) return QMainWindow::event(event);
  // The widgets' repaint (toolbar, status bar, timeline; the panels' GL windows repaint on their
  // own, ui/imgui_panel_host.h) happens inside this call and reaches the screen in it.
  stats_.frame_begin();
  const bool handled = QMainWindow::event(event);
  stats_.frame_presented();
  stats_.frame_end();
  return handled;
}

void MainWindow::tick() {
  const std::shared_ptr<const Snapshot> snapshot = session_->latest();
  session_->follow_watched_dataset(*snapshot);
  stats_.set_animating(snapshot->running);
  // The panels show the step the timeline points at; the status bar and actions the live run.
  std::shared_ptr<const Snapshot> shown = snapshot;
  if (viewed_step_ >= 0)
    if (const auto run = session_->training_session())
      if (auto past = run->snapshot_at(viewed_step_)) shown = std::move(past);
  if (shown->version != shown_version_) {
    shown_version_ = shown->version;
    for (ImGuiPanelHost* panel : panels_) panel->set_snapshot(shown);
  }
  // One panel per tick: a frame's cost is then that of the largest panel, not of all of them.
  // A panel someone is using goes first, every other tick; the others take turns (round robin),
  // so live curves keep moving while the mouse moves over another panel.
  ImGuiPanelHost* chosen = nullptr;
  if (!served_input_last_)
    for (ImGuiPanelHost* panel : panels_)
      if (panel->has_input() && panel->wants_frame()) chosen = chosen ? chosen : panel;
  served_input_last_ = chosen != nullptr;
  for (size_t i = 0; i < panels_.size() && chosen == nullptr; ++i) {
    ImGuiPanelHost* panel = panels_[(next_panel_ + i) % panels_.size()];
    if (panel->wants_frame()) {
      chosen = panel;
      next_panel_ = (next_panel_ + i + 1) % panels_.size();
    }
  }
  if (chosen != nullptr) chosen->paint_soon();
  const int status_interval = snapshot->running ? kStatusIntervalTrainingMs : kStatusIntervalMs;
  if (snapshot->running != status_running_ || status_clock_.elapsed() >= status_interval) {
    status_running_ = snapshot->running;
    status_clock_.restart();
    update_status(*snapshot);
    update_actions(*snapshot);
    refresh_timeline(*snapshot);
  }
  if (!options_.screenshot_path.isEmpty()) drive_screenshot_hook(*snapshot);
}

void MainWindow::update_status(const Snapshot& snapshot) {
  const double total_epochs = snapshot.steps_per_epoch > 0 && snapshot.total_steps > 0
                                  ? double(snapshot.total_steps) / double(snapshot.steps_per_epoch)
                                  : session_->config().epochs;
  const int progress = total_epochs > 0 ? int(std::clamp(snapshot.epoch / total_epochs, 0.0, 1.0) * 1000) : 0;
  if (epoch_progress_->value() != progress) epoch_progress_->setValue(progress);
  // QLabel::setText repaints even when the text is the same; compare first.
  const auto set = [](QLabel* label, const QString& text) {
    if (label->text() != text) label->setText(text);
  };
  set(run_label_, run_text(snapshot));
  const double ips = snapshot.history.empty() ? 0.0 : snapshot.history.back().images_per_second;
  set(speed_label_, tr("%1 images/s").arg(ips, 0, 'f', 0));
  set(backend_label_, tr("backend: %1")
                          .arg(QString::fromStdString(snapshot.backend_name.empty() ? session_->config().backend
                                                                                    : snapshot.backend_name)));
  const QString status = QString::fromStdString(snapshot.status);
  if (statusBar()->currentMessage() != status && !status.isEmpty()) statusBar()->showMessage(status);
}

void MainWindow::update_actions(const Snapshot& snapshot) {
  const bool running = snapshot.running;
  const bool ready = snapshot.version > 0 && snapshot.status.rfind("error", 0) != 0 && snapshot.watched_folder.empty();
  const auto enable = [](QAction* action, bool on) {
    if (action->isEnabled() != on) action->setEnabled(on);
  };
  enable(start_, ready && !running && !snapshot.finished);
  enable(pause_, running);
  enable(step_, ready && !running && !snapshot.finished);
}

void MainWindow::start_command_line_run() {
  hook_clock_.restart();
  if (!options_.screenshot_path.isEmpty()) session_->start(options_.after_steps);  // stops at exactly N
  else if (options_.demo) session_->start();
}

void MainWindow::fail_screenshot(const char* why) {
  std::fprintf(stderr, "drmm-studio: the run failed before the screenshot: %s\n", why);
  exit_code_ = 2;
  hook_phase_ = HookPhase::Done;
  close();
}

void MainWindow::drive_screenshot_hook(const Snapshot& snapshot) {
  constexpr qint64 kTimeoutMs = 600'000;
  if (hook_phase_ == HookPhase::Done || awaiting_import_) return;
  if (snapshot.status.rfind("error", 0) == 0) return fail_screenshot(snapshot.status.c_str());
  if (hook_clock_.elapsed() > kTimeoutMs) {
    std::fprintf(stderr, "drmm-studio: gave up waiting for %lld steps (reached %lld)\n", options_.after_steps,
                 static_cast<long long>(snapshot.step));
    exit_code_ = 3;
    hook_phase_ = HookPhase::Done;
    close();
    return;
  }
  if (hook_phase_ == HookPhase::Training) {
    if (snapshot.step >= options_.after_steps || snapshot.finished) {
      session_->pause();
      hook_phase_ = HookPhase::Settling;
    }
    return;
  }
  // Settling: the worker has stopped, the dataset is on screen and every panel shows the newest snapshot.
  const std::shared_ptr<const BrowsedDataset> dataset = session_->dataset();
  const auto twin = session_->cnn_twin_session();
  bool settled = !snapshot.running && !(twin && twin->latest()->running) && dataset &&
                 (dataset->data || !dataset->error.empty());
  for (ImGuiPanelHost* panel : panels_) settled = settled && (!panel->wants_frame() || panel->evolving());
  if (!settled) return;
  hook_phase_ = HookPhase::Done;
  // The status bar and toolbar refresh twice a second; the picture must show the final state.
  update_status(snapshot);
  update_actions(snapshot);
  save_screenshot();
  close();
}

QPixmap MainWindow::screenshot() {
  QPixmap shot = grab();
  QPainter painter(&shot);
  for (ImGuiPanelHost* panel : panels_) {
    // A floating panel is a window of its own, not part of this one.
    if (panel->window() != this || !panel->isVisible() || panel->visibleRegion().isEmpty()) continue;
    const QImage frame = panel->grabFramebuffer();
    if (!frame.isNull()) painter.drawImage(QRect(panel->mapTo(this, QPoint(0, 0)), panel->size()), frame);
  }
  return shot;
}

void MainWindow::save_screenshot() {
  const QPixmap shot = screenshot();
  if (!shot.save(options_.screenshot_path, "PNG")) {
    std::fprintf(stderr, "drmm-studio: cannot write %s\n", qPrintable(options_.screenshot_path));
    exit_code_ = 4;
    return;
  }
  // Where each panel and its content regions are in the picture, for the GUI test's checks.
  const qreal scale = shot.devicePixelRatio();
  const auto rect_json = [scale](QPointF origin, QSizeF size) {
    return QJsonArray{qRound(origin.x() * scale), qRound(origin.y() * scale), qRound(size.width() * scale),
                      qRound(size.height() * scale)};
  };
  QJsonArray panels;
  for (ImGuiPanelHost* panel : panels_) {
    const QPoint origin = panel->mapTo(this, QPoint(0, 0));
    QJsonObject regions;
    for (const auto& [name, r] : panel->regions())
      regions[QString::fromStdString(name)] =
          rect_json(QPointF(origin.x() + r.min.x, origin.y() + r.min.y), QSizeF(r.width(), r.height()));
    panels.append(QJsonObject{{"name", panel->objectName()},
                              {"visible", panel->isVisible() && !panel->visibleRegion().isEmpty()},
                              {"rect", rect_json(origin, panel->size())},
                              {"regions", regions}});
  }
  const Snapshot& snapshot = *session_->latest();
  QJsonArray levels;  // the model on screen, layer by layer
  for (const std::string& level : snapshot.level_names) levels.append(QString::fromStdString(level));
  const QJsonObject root{{"image", QFileInfo(options_.screenshot_path).fileName()},
                         {"width", shot.width()},
                         {"height", shot.height()},
                         {"step", qint64(snapshot.step)},
                         {"version", qint64(snapshot.version)},
                         {"levels", levels},
                         {"panels", panels}};
  const QFileInfo info(options_.screenshot_path);
  QFile file(info.dir().filePath(info.completeBaseName() + ".regions.json"));
  if (file.open(QIODevice::WriteOnly | QIODevice::Truncate)) file.write(QJsonDocument(root).toJson());
  std::printf("drmm-studio: screenshot %s after %lld steps\n", qPrintable(options_.screenshot_path),
              static_cast<long long>(snapshot.step));
}

void MainWindow::closeEvent(QCloseEvent* event) {
  // Nothing is written half-way: the trainer stops at a batch boundary and a checkpoint save in
  // flight finishes (atomically) before the controller's threads are joined.
  frame_timer_.stop();
  session_->pause();
  if (options_.use_settings) {
    save_settings();
    // Quitting never discards training: it is kept (the controller's destructor waits for the
    // save) and offered back on the next launch.
    if (session_->unsaved_steps() > 0) session_->save_checkpoint(autosave_path());
    else if (session_->saved_path() != autosave_path()) QFile::remove(autosave_path());  // a save holds it all
  }
  wait_for_the_run_to_stop();
  event->accept();
}

// A large model's batch takes seconds: quitting shows what it waits for instead of a frozen window.
void MainWindow::wait_for_the_run_to_stop() {
  const auto stopped = [this] {
    const auto twin = session_->cnn_twin_session();
    return !session_->latest()->running && !(twin && twin->latest()->running) && !session_->saving();
  };
  if (stopped()) return;
  QProgressDialog progress(tr("Finishing the current batch and saving the run…"), QString(), 0, 0, this);
  progress.setWindowTitle(tr("Quitting"));
  progress.setMinimumDuration(300);
  progress.setWindowModality(Qt::WindowModal);
  QElapsedTimer clock;
  clock.start();
  while (!stopped() && clock.elapsed() < 120'000) {
    progress.setValue(0);
    QCoreApplication::processEvents(QEventLoop::ExcludeUserInputEvents, 50);
    QThread::msleep(20);
  }
}

void MainWindow::set_dataset(const QString& spec) {
  session_->after_confirming(tr("Opening %1 starts a new run on it").arg(spec), [this, spec] {
    TrainConfig config = session_->config();
    config.dataset = spec.toStdString();
    statusBar()->showMessage(tr("Loading %1…").arg(spec));
    session_->apply_config_if_valid(config);
  });
}

void MainWindow::open_dataset_file() {
  const QString path = dialogs::open_file(
      this, tr("Open dataset"), tr("Datasets (*-idx3-ubyte *-idx3-ubyte.gz *.idx *.gz *.bin);;All files (*)"), "dataset");
  if (!path.isEmpty()) set_dataset(path);
}

void MainWindow::open_dataset_folder() {
  const QString path = dialogs::open_folder(this, tr("Open dataset folder (CIFAR-10 or class folders of PNGs)"), "dataset");
  if (!path.isEmpty()) set_dataset(path);
}

// An architecture file (README: the JSON schema) is checked as it is read, so a bad one is a
// message naming the file and the field, not a run that fails later; the stack is fitted to the
// dataset when the new run starts.
void MainWindow::open_architecture() {
  const QString path =
      dialogs::open_file(this, tr("Open architecture"), tr("DRMM architectures (*.json);;All files (*)"), "architecture");
  if (path.isEmpty()) return;
  try {
    load_model_spec(path.toStdString());
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Open architecture"), QString::fromStdString(e.what()));
    return;
  }
  session_->after_confirming(tr("Opening %1 starts a new run with that architecture").arg(path), [this, path] {
    TrainConfig config = session_->config();
    config.preset = path.toStdString();
    session_->apply_config_if_valid(config);
  });
}

// A CNN trained elsewhere becomes this run's model (README "ONNX import"): imported for the current
// dataset on a background thread, kept as a checkpoint beside the autosave, and continued from.
void MainWindow::open_onnx_model() {
  const QString path =
      dialogs::open_file(this, tr("Open model"), tr("ONNX models (*.onnx);;All files (*)"), "model");
  if (path.isEmpty()) return;
  session_->after_confirming(tr("Importing %1 replaces the current run").arg(path), [this, path] { import_onnx_model(path); });
}

void MainWindow::import_onnx_model(const QString& path) {
  const QString folder = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/imported";
  QDir().mkpath(folder);
  const QString checkpoint = folder + "/" + QFileInfo(path).completeBaseName() + ".drmm";
  statusBar()->showMessage(tr("Importing %1 and measuring its latent frequencies on %2…")
                               .arg(path, QString::fromStdString(session_->config().dataset)));
  if (!cancel_import_) {
    cancel_import_ = new QPushButton(tr("Cancel import"), this);
    connect(cancel_import_, &QPushButton::clicked, session_, &SessionController::cancel_import);
    statusBar()->addPermanentWidget(cancel_import_);
  }
  cancel_import_->show();
  session_->import_model(path, checkpoint);
}

void MainWindow::open_checkpoint() {
  const QString path =
      dialogs::open_file(this, tr("Open checkpoint"), tr("DRMM checkpoints (*.drmm *.bin);;All files (*)"), "checkpoint");
  if (path.isEmpty()) return;
  session_->after_confirming(tr("Opening %1 replaces the current run").arg(path), [this, path] { continue_run(path); });
}

// A run trained elsewhere (torchrun -m drmm_ddp, drmm train on another machine) into a folder
// this machine sees: every panel follows its checkpoints as they land.
void MainWindow::watch_run_folder() {
  const QString folder = dialogs::open_folder(this, tr("Watch run folder"), "run");
  if (folder.isEmpty()) return;
  session_->after_confirming(tr("Watching %1 replaces the current run").arg(folder),
                             [this, folder] { session_->watch_folder(folder); });
}

void MainWindow::continue_run(const QString& path) {
  try {
    session_->open_checkpoint(path);
    statusBar()->showMessage(tr("Continuing the run saved in %1").arg(path), 3000);
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Open checkpoint"), QString::fromStdString(e.what()));
  }
}

bool MainWindow::confirm_discard(const QString& action) {
  const auto answer = QMessageBox::question(
      this, tr("Discard the current run?"),
      tr("%1. The current run has %2 training steps that no saved checkpoint holds "
         "(File ▸ Save checkpoint… keeps them).").arg(action).arg(session_->unsaved_steps()),
      QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Cancel);
  return answer == QMessageBox::Discard;
}

QString MainWindow::autosave_path() {
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/autosave.drmm";
}

// While it trains, the run is kept in the autosave file every few minutes, so that even a crash
// or a kill of the studio loses at most that much; quitting keeps the rest (closeEvent).
void MainWindow::start_autosaving() {
  QDir().mkpath(QFileInfo(autosave_path()).path());
  session_->set_autosave(autosave_path(), std::chrono::milliseconds(qint64(options_.autosave_minutes * 60000)));
  connect(session_, &SessionController::autosave_failed, this, [this](const QString& path, const QString& error) {
    statusBar()->showMessage(tr("Autosave to %1 failed: %2").arg(path, error), 10000);
  });
}

// The run a closed window left unsaved comes back on the next launch, if the user wants it.
void MainWindow::offer_autosaved_run() {
  const QString path = autosave_path();
  if (!QFileInfo::exists(path)) return;
  const auto answer = QMessageBox::question(
      this, tr("Continue the last run?"),
      tr("The last session of the studio ended with training that no saved checkpoint held; it was kept "
         "in %1. Continue that run?").arg(path),
      QMessageBox::Yes | QMessageBox::No, QMessageBox::Yes);
  if (answer == QMessageBox::Yes) continue_run(path);
  else QFile::remove(path);
}

void MainWindow::save_checkpoint() {
  const QString path =
      dialogs::save_file(this, tr("Save checkpoint"), "run.drmm", tr("DRMM checkpoints (*.drmm);;All files (*)"), "checkpoint");
  if (path.isEmpty()) return;
  session_->save_checkpoint(path);
  statusBar()->showMessage(tr("Saving %1 at the next batch boundary…").arg(path), 3000);
}

void MainWindow::export_panel(ImGuiPanelHost* panel, const QString& format) {
  const QString filter = format == "csv" ? tr("CSV (*.csv)") : tr("PNG images (*.png)");
  const QString path =
      dialogs::save_file(this, tr("Export %1").arg(panel->title()), panel->objectName() + "." + format, filter, "export");
  if (path.isEmpty()) return;
  try {
    panel->write_export(path, format);
    statusBar()->showMessage(tr("Exported %1").arg(path), 4000);
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Export"), QString::fromStdString(e.what()));
  }
}

void MainWindow::export_all() {
  const QString folder = dialogs::open_folder(this, tr("Export every panel into…"), "export");
  if (folder.isEmpty()) return;
  QStringList failed;
  int written = 0;
  for (ImGuiPanelHost* panel : panels_) {
    for (const QString& format : panel->export_formats()) {
      try {
        panel->write_export(QDir(folder).filePath(panel->objectName() + "." + format), format);
        ++written;
      } catch (const std::exception& e) {
        failed << QString::fromStdString(e.what());
      }
    }
  }
  if (!failed.isEmpty()) QMessageBox::warning(this, tr("Export"), failed.join("\n"));
  statusBar()->showMessage(tr("Exported %1 files into %2").arg(written).arg(folder), 5000);
}

void MainWindow::show_guide() {
  auto* dialog = new QDialog(this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->setWindowTitle(tr("Guide to the panels"));
  auto* text = new QTextBrowser(dialog);
  QString html = tr("<p>DRMM Studio trains a Deep Rendering Mixture Model and shows, while it trains, what the "
                    "model has learned. Train with <b>F5</b>, pause with <b>F6</b>, step one batch with "
                    "<b>F10</b>. Every panel exports what it shows (PNG, and CSV for curves).</p>");
  for (const ImGuiPanelHost* panel : panels_)
    html += "<h3>" + panel->title().toHtmlEscaped() + "</h3><p>" +
            panel->help_text().toHtmlEscaped().replace("\n", "<br>") + "</p>";
  html += tr("<p>The papers: A. B. Patel, T. Nguyen, R. G. Baraniuk, <i>A Probabilistic Framework for Deep "
             "Learning</i>, NIPS 2016 (the model; bottom-up inference is a CNN); A. B. Patel, T. Nguyen, "
             "R. G. Baraniuk, <i>A Probabilistic Theory of Deep Learning</i>, arXiv 2015 (activity maximization, "
             "E-DRMM decision trees, sec. 4); T. Nguyen, W. Liu, E. Perez, R. G. Baraniuk, A. B. Patel, "
             "<i>Semi-Supervised Learning with the Deep Rendering Mixture Model</i>, CVPR 2017 (the training "
             "objective, eq. 5–8, and the generation process, App. B eq. 11–14); N. Ho, T. Nguyen, A. B. Patel, "
             "A. Anandkumar, M. I. Jordan, R. G. Baraniuk, <i>Neural Rendering Model</i>, 2019 (biases as priors, "
             "reconstructions from every level).</p>");
  text->setHtml(html);
  auto* layout = new QVBoxLayout(dialog);
  layout->addWidget(text);
  dialog->resize(640, 560);
  dialog->show();
}

void MainWindow::show_about() {
  QMessageBox::about(this, tr("About DRMM Studio"),
                     tr("<p><b>DRMM Studio</b> %1</p><p>Trains Deep Rendering Mixture Models (Patel, Nguyen, "
                        "Baraniuk; Nguyen et al., CVPR 2017) and shows live what they learned: losses, "
                        "reconstructions from every level, filters, the data.</p><p>Qt %2, Dear ImGui %3.</p>")
                         .arg(QApplication::applicationVersion(), QString::fromLatin1(qVersion()),
                              QString::fromLatin1(IMGUI_VERSION)));
}

}  // namespace drmm::ui
