#pragma once
// The GUI's side of a training run (DESIGN.md §2): owns the drmm::TrainingSession (whose worker
// thread trains), the dataset the browser shows, and the background threads that load data and
// save checkpoints. Nothing here blocks the GUI thread on training: a reset retires the old
// session on a reaper thread (its destructor waits for the current batch), saving happens on a
// saver thread, and the destructor joins them all, so closing the window mid-training leaves
// no half-written file and no running thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <QObject>
#include <QString>

#include "core/data/dataset.h"
#include "core/train/snapshot.h"
#include "core/train/train_config.h"

class QTimer;

namespace drmm {
class TrainingSession;
}

namespace drmm::ui {

// The training images as the browser shows them, with the semi-supervised split the trainer
// uses (same N_L and seed, so "labeled" in the browser means labeled for the model).
struct BrowsedDataset {
  uint64_t version = 0;                 // grows with every load
  std::string spec;                     // what was asked for
  std::shared_ptr<const Dataset> data;  // null while loading or after an error
  std::vector<uint8_t> labeled;         // per image: 1 when its label is given to the model
  std::string error;
};

class SessionController : public QObject {
  Q_OBJECT
 public:
  explicit SessionController(TrainConfig config, QObject* parent = nullptr);
  ~SessionController() override;

  const TrainConfig& config() const { return config_; }
  // Replaces the configuration and starts a new run (the old one is retired, not waited for).
  void apply_config(const TrainConfig& config);
  // The same once the dataset loads and the architecture fits it, checked on a background
  // thread; otherwise the current run stays as it was and `config_refused` says why.
  void apply_config_if_valid(const TrainConfig& config);

  void start(int64_t until_step = -1);  // see TrainingSession::start
  void pause();
  void step_once();
  void reset();  // a new run with the same configuration (no question asked: see after_confirming)
  // Continues the run saved in `path` (its configuration and weights; this session's thread
  // count and test cadence). Throws drmm::Error naming the file when it cannot be read.
  void open_checkpoint(const QString& path);
  // Imports the ONNX classifier `onnx_path` for this run's dataset on a background thread
  // (core/io/model_import.h: its weights, π measured on the training images) into the checkpoint
  // `checkpoint_path`, then continues from it; `model_imported` reports the outcome.
  void import_model(const QString& onnx_path, const QString& checkpoint_path);
  // Shows the run another process writes into `folder` (TrainingSession::watching) instead of
  // training here, until a new run replaces it (apply_config, reset, opening a file).
  void watch_folder(const QString& folder);
  const QString& watched_folder() const { return watched_folder_; }
  // While watching: once the watched run's checkpoint names its dataset, the browser shows it.
  void follow_watched_dataset(const Snapshot& snapshot);
  void cancel_import() { cancel_import_ = true; }  // the import stops at its next batch, nothing changes
  bool running() const { return running_; }

  // Probe images for the Reconstructions panel (dataset indices, training split).
  void set_probes(std::vector<size_t> indices);
  void toggle_probe(size_t index);
  const std::vector<size_t>& probes() const { return probes_; }
  static constexpr size_t kMaxProbes = 8;

  std::shared_ptr<const Snapshot> latest() const;
  // The current run, for work that must run between its batches (model features for trees).
  std::shared_ptr<TrainingSession> training_session() const { return session_; }

  // ---- comparison mode: the CNN twin of the run (README "DRMM vs CNN, side by side") ----------
  // On, a twin of the current run (core/train/comparison.h: L_H only, the same data, split, seed
  // and batch order) trains beside it: it starts, pauses and steps with the run, and every new
  // run (Apply, Reset, a dataset, a checkpoint) gets a fresh twin from step 0. A watched run has
  // none: nothing trains here. Off, the twin is retired like a replaced run.
  void set_compare_cnn(bool on);
  bool compare_cnn() const { return compare_cnn_; }
  // The twin's session; null when comparison is off or the run is watched.
  std::shared_ptr<TrainingSession> cnn_twin_session() const { return twin_; }
  std::shared_ptr<const BrowsedDataset> dataset() const;

  // Saves on a background thread; `checkpoint_saved` reports the outcome.
  void save_checkpoint(const QString& path);
  bool saving() const;
  // Keeps the run in `path` every `interval` while it has steps that neither a save nor an
  // earlier autosave holds, so that a crash or a kill loses at most one interval of training.
  // An autosave is not the user's save: unsaved_steps() still counts what it holds.
  void set_autosave(const QString& path, std::chrono::milliseconds interval);
  // The file of the newest save or opened checkpoint of this run (empty: none).
  const QString& saved_path() const { return saved_path_; }

  // Training steps of the current run that no saved checkpoint holds (0 after a save, a reset or
  // opening a checkpoint): what Apply, Reset, opening a file or a dataset would discard.
  int64_t unsaved_steps() const;
  // Asked, with what is about to happen, before an action discards unsaved steps; returns whether
  // to go on. The window installs one (a dialog); without one nothing is asked.
  void set_discard_guard(std::function<bool(const QString& action)> guard) { guard_ = std::move(guard); }
  // Runs `action` unless there are unsaved steps and the guard declines. Deferred to the event loop,
  // so a panel can call it from inside its frame (a dialog must not open within a paint).
  void after_confirming(const QString& what, std::function<void()> action);

 signals:
  void config_changed();
  void compare_cnn_changed();  // the twin was started or dropped
  void probes_changed();
  void dataset_loaded();
  void checkpoint_saved(const QString& path, const QString& error);  // a save the user asked for
  void autosave_failed(const QString& path, const QString& error);
  void config_refused(const QString& error);  // apply_config_if_valid: nothing changed
  // notes: the importer's exact rewrites and the test accuracy; error empty on success.
  void model_imported(const QString& onnx_path, const QString& notes, const QString& error);
  void import_progress(int percent);  // of the π pass

 private:
  enum class SaveRole { user, autosave };
  void save(const QString& path, SaveRole role);
  void autosave_if_needed();
  void forget_saves();
  void forget_probes();
  void create_session();
  void create_twin();
  void retire_runs();  // the run and its twin
  std::string resume_checkpoint_;  // used by the next create_session only
  QString watched_folder_;         // non-empty: the session watches it
  void load_dataset_async();
  void retire(std::shared_ptr<TrainingSession> session);

  // Runs `work` on a thread the destructor joins; finished threads are joined as new ones start.
  void spawn(std::function<void()> work);

  TrainConfig config_;
  // Shared, because a checkpoint save in flight keeps the run it saves alive after a reset.
  std::shared_ptr<TrainingSession> session_;
  bool compare_cnn_ = false;
  std::shared_ptr<TrainingSession> twin_;
  bool running_ = false;
  std::vector<size_t> probes_;
  bool probes_chosen_by_user_ = false;

  mutable std::mutex dataset_mutex_;
  std::shared_ptr<const BrowsedDataset> dataset_;
  uint64_t dataset_version_ = 0;

  // Threads the destructor must join: retired sessions, the dataset loader, checkpoint savers.
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Worker> workers_;
  std::atomic<int> saves_in_flight_{0};
  std::atomic<bool> cancel_import_{false};
  std::function<bool(const QString&)> guard_;
  int64_t saved_step_ = 0;  // the step of the run's newest saved (or opened) checkpoint
  QString saved_path_;
  int64_t autosaved_step_ = 0;
  QString autosave_path_;
  QTimer* autosave_timer_ = nullptr;
};

}  // namespace drmm::ui
