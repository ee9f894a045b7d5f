#pragma once
// A training run on a worker thread (DESIGN.md §2): the GUI (or a test) starts, pauses,
// steps and stops it without ever blocking on the training itself, and reads the newest
// immutable Snapshot. Every method is safe to call from any thread.
#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/train/model_state.h"
#include "core/train/snapshot.h"
#include "core/train/train_config.h"

namespace drmm {

class Trainer;

class TrainingSession {
 public:
  // Loads the dataset and builds the model on the worker thread; errors (a bad dataset path,
  // an unknown preset) arrive as a Snapshot whose status starts with "error:". With
  // `resume_checkpoint`, the run continues from that checkpoint (its own configuration, with
  // `config.epochs` as the new total).
  explicit TrainingSession(TrainConfig config, std::string resume_checkpoint = {});
  // Watches the run folder `folder` instead of training (RunFolderWatch): every checkpoint that
  // lands there is shown (its weights, step and history; metrics.csv's newer rows as curves), and
  // start, pause and step do nothing. config.threads is the thread count for the views.
  static std::unique_ptr<TrainingSession> watching(TrainConfig config, std::string folder);
  ~TrainingSession();  // stops the worker at the next batch boundary and joins it
  TrainingSession(const TrainingSession&) = delete;
  TrainingSession& operator=(const TrainingSession&) = delete;

  // Train continuously until paused or finished, or, with `until_step` ≥ 0, until the run has
  // made that many steps (exactly: the worker stops itself, no batch runs past it).
  void start(int64_t until_step = -1);
  void pause();                  // stop after the current batch
  void step_once();              // train exactly one batch, then pause
  void set_probes(std::vector<size_t> dataset_indices);  // images shown in the Reconstructions panel
  // Saves a checkpoint between two batches (atomic write). Returns once it is on disk; throws
  // drmm::Error on failure.
  void save_checkpoint(const std::string& path);
  // The model's bottom-up features at layer `level` (inference mode) of the given training
  // images, computed between two batches: input for E-DRMM trees on the model's features.
  // Blocks until done; call it from a worker thread, not the GUI thread.
  FeatureMatrix features(size_t level, std::vector<size_t> dataset_indices);
  // The same for any images (a drawing, a subset gathered elsewhere): whole input-size images.
  FeatureMatrix features_of_images(size_t level, std::vector<float> pixels);
  // Runs `job` between two batches and waits for it; rethrows its error. The worker stops at its
  // next batch boundary and lends the trainer: the job runs on the calling thread, at that
  // thread's priority (the worker trains below the GUI's, core/util/thread_priority.h; work a
  // person asked for should not), while the worker waits. The analyses of the live model
  // (rendering paths, samples, activity maximization) run this way, on the model the run trains,
  // so they always see its newest weights — or, while a past step is viewed (view_step), that
  // step's weights, swapped in for the job and out again after it. `live` jobs (a checkpoint
  // save) always see the newest. Blocks: call it from a thread of your own, not the GUI thread.
  enum class Weights { viewed, live };
  void run_between_batches(std::function<void(Trainer&)> job, Weights weights = Weights::viewed);

  // ---- the run's history (the studio's timeline) ----------------------------------------------
  // While it trains the session keeps views snapshots with the model's weights (parameters and
  // buffers, not the optimiser state) at a cadence that doubles whenever they would exceed
  // kHistoryBudgetBytes, so a long run keeps its whole span, ever more thinly.
  static constexpr size_t kHistoryBudgetBytes = size_t(256) << 20;
  std::vector<int64_t> history_steps() const;  // the kept steps, oldest first
  // The snapshot kept at the newest kept step ≤ `step` (null when none is kept yet).
  std::shared_ptr<const Snapshot> snapshot_at(int64_t step) const;
  // Analyses run on the weights kept at `step` (the newest kept ≤ it); −1: the live weights.
  void view_step(int64_t step);
  size_t history_bytes() const;
  void set_history_budget(size_t bytes);  // kHistoryBudgetBytes unless set
  // The newest snapshot; never null (an empty one before the model exists).
  std::shared_ptr<const Snapshot> latest() const;
  const TrainConfig& config() const { return config_; }

 private:
  TrainingSession(TrainConfig config, std::string resume_checkpoint, std::string watch_folder);
  void run();
  void train();
  void watch();
  bool load_trainer();  // false after publishing the error
  bool run_pending_job(std::unique_lock<std::mutex>& lock);  // true when it lent the trainer to one
  void publish_state(bool with_views, bool running, const std::vector<size_t>& probes, const std::string& status);
  void publish_status(const std::string& status);  // before there is a model
  void take_watched_checkpoint(const std::string& path);
  void publish(std::shared_ptr<Snapshot> snapshot, bool keep_in_history);

  TrainConfig config_;
  std::string resume_checkpoint_;
  std::string watch_folder_;  // non-empty: watching, not training
  std::unique_ptr<Trainer> trainer_;
  std::shared_ptr<const Snapshot> previous_;  // the worker's last published snapshot
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::shared_ptr<const Snapshot> latest_;
  std::vector<size_t> probes_;
  bool probes_changed_ = false;
  bool running_ = false;
  int64_t steps_requested_ = 0;
  int64_t stop_at_step_ = -1;
  std::function<void(Trainer&)> job_;  // set by run_between_batches for the caller to run
  bool job_active_ = false;            // a caller waits for, or runs, job_
  bool trainer_lent_ = false;          // the worker waits at a batch boundary while job_ runs
  std::exception_ptr job_error_;
  bool job_done_ = false;              // the session closed before lending the trainer
  std::condition_variable job_finished_;
  bool quit_ = false;

  struct KeptStep {
    int64_t step = 0;
    std::shared_ptr<const Snapshot> snapshot;
    std::vector<std::vector<float>> weights;  // parameter values, then buffers, in the model's order
    size_t bytes = 0;
  };
  void keep_step(const std::shared_ptr<const Snapshot>& snapshot);  // on the worker
  const KeptStep* kept_at(int64_t step) const;                       // with mutex_ held
  std::vector<KeptStep> history_;
  size_t history_bytes_ = 0, history_budget_ = kHistoryBudgetBytes;
  int64_t history_cadence_ = 1;  // steps between kept steps, at least
  int64_t view_step_ = -1;
  std::thread worker_;
};

}  // namespace drmm
