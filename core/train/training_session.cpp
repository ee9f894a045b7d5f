#include "core/train/training_session.h"

#include <atomic>
#include <chrono>
#include <filesystem>

#include "core/model/drmm_model.h"
#include "core/train/metrics_csv.h"
#include "core/train/run_folder_watch.h"
#include "core/train/trainer.h"
#include "core/util/error.h"
#include "core/util/thread_priority.h"

namespace drmm {
namespace {

using Clock = std::chrono::steady_clock;
// Metrics reach the GUI a few times per second; probe reconstructions and filter renderings
// cost a forward and several top-down passes, so they are refreshed less often.
constexpr auto kMetricsInterval = std::chrono::milliseconds(250);
constexpr auto kViewsInterval = std::chrono::milliseconds(1000);
constexpr size_t kDefaultProbes = 6;
constexpr auto kWatchInterval = std::chrono::milliseconds(1000);  // how often a watched folder is looked at

}  // namespace

TrainingSession::TrainingSession(TrainConfig config, std::string resume_checkpoint)
    : TrainingSession(std::move(config), std::move(resume_checkpoint), std::string()) {}

TrainingSession::TrainingSession(TrainConfig config, std::string resume_checkpoint, std::string watch_folder)
    : config_(std::move(config)),
      resume_checkpoint_(std::move(resume_checkpoint)),
      watch_folder_(std::move(watch_folder)),
      latest_(std::make_shared<Snapshot>()) {
  for (size_t i = 0; i < kDefaultProbes; ++i) probes_.push_back(i);
  worker_ = std::thread([this] { run(); });
}

TrainingSession::~TrainingSession() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  wake_.notify_all();
  worker_.join();
  // A job that never ran (the session closed first) must not leave its caller waiting.
  std::lock_guard lock(mutex_);
  if (job_active_ && !trainer_lent_) {
    job_error_ = std::make_exception_ptr(Error("the training session closed"));
    job_done_ = true;
    job_finished_.notify_all();
  }
}

void TrainingSession::start(int64_t until_step) {
  {
    std::lock_guard lock(mutex_);
    running_ = true;
    stop_at_step_ = until_step;
  }
  wake_.notify_all();
}

void TrainingSession::pause() {
  {
    std::lock_guard lock(mutex_);
    running_ = false;
    steps_requested_ = 0;
  }
  wake_.notify_all();
}

void TrainingSession::step_once() {
  {
    std::lock_guard lock(mutex_);
    running_ = false;
    ++steps_requested_;
  }
  wake_.notify_all();
}

void TrainingSession::set_probes(std::vector<size_t> dataset_indices) {
  {
    std::lock_guard lock(mutex_);
    probes_ = std::move(dataset_indices);
    probes_changed_ = true;
  }
  wake_.notify_all();
}

namespace {

std::vector<Tensor*> weight_tensors(DrmmModel& model) {
  std::vector<Tensor*> tensors;
  for (Parameter& p : model.parameters()) tensors.push_back(&p.value);
  for (Buffer& b : model.buffers()) tensors.push_back(&b.value);
  return tensors;
}

std::vector<std::vector<float>> download_weights(DrmmModel& model) {
  std::vector<std::vector<float>> weights;
  for (Tensor* t : weight_tensors(model)) weights.push_back(model.backend().download(*t));
  return weights;
}

void upload_weights(DrmmModel& model, const std::vector<std::vector<float>>& weights) {
  const std::vector<Tensor*> tensors = weight_tensors(model);
  for (size_t i = 0; i < tensors.size(); ++i) model.backend().upload(*tensors[i], weights[i]);
}

}  // namespace

void TrainingSession::run_between_batches(std::function<void(Trainer&)> job, Weights weights) {
  std::unique_lock lock(mutex_);
  if (!trainer_) throw Error("the model is not ready yet");
  job_finished_.wait(lock, [&] { return !job_active_; });  // one job at a time
  if (const KeptStep* kept = weights == Weights::viewed && view_step_ >= 0 ? kept_at(view_step_) : nullptr) {
    // Runs on the worker: the kept weights swapped in for the job, the live ones back after it.
    job = [job = std::move(job), past = kept->weights](Trainer& trainer) {
      const std::vector<std::vector<float>> live = download_weights(trainer.model());
      upload_weights(trainer.model(), past);
      try {
        job(trainer);
      } catch (...) {
        upload_weights(trainer.model(), live);
        throw;
      }
      upload_weights(trainer.model(), live);
    };
  }
  job_ = std::move(job);
  job_active_ = true;
  job_done_ = false;
  wake_.notify_all();
  job_finished_.wait(lock, [&] { return trainer_lent_ || job_done_; });
  std::exception_ptr error = std::exchange(job_error_, nullptr);
  if (trainer_lent_) {
    // The worker waits at a batch boundary until the trainer is handed back below.
    lock.unlock();
    try {
      if (!trainer_) throw Error("there is no model yet");
      job_(*trainer_);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
  }
  job_ = nullptr;
  job_active_ = false;
  trainer_lent_ = false;
  job_finished_.notify_all();  // the worker, and the next caller
  if (error) std::rethrow_exception(error);
}

void TrainingSession::save_checkpoint(const std::string& path) {
  run_between_batches([&](Trainer& trainer) { trainer.save(path); }, Weights::live);
}

// ---- history --------------------------------------------------------------------------------

void TrainingSession::keep_step(const std::shared_ptr<const Snapshot>& snapshot) {
  {
    std::lock_guard lock(mutex_);
    if (!history_.empty() && snapshot->step - history_.back().step < history_cadence_) return;
  }
  KeptStep kept{snapshot->step, snapshot, download_weights(trainer_->model()), 0};
  for (const auto& w : kept.weights) kept.bytes += w.size() * sizeof(float);
  for (const ProbeView& p : snapshot->probes) {
    kept.bytes += (p.input.data.size() + p.reconstruction.data.size()) * sizeof(float);
    for (const ImageF& image : p.from_level) kept.bytes += image.data.size() * sizeof(float);
  }
  for (const ImageF& image : snapshot->first_layer_filters) kept.bytes += image.data.size() * sizeof(float);
  for (const ImageF& image : snapshot->filter_renderings) kept.bytes += image.data.size() * sizeof(float);
  std::lock_guard lock(mutex_);
  history_bytes_ += kept.bytes;
  history_.push_back(std::move(kept));
  while (history_bytes_ > history_budget_ && history_.size() > 2) {
    // Every other step goes (the first and the newest stay), and the cadence doubles.
    std::vector<KeptStep> thinned;
    history_bytes_ = 0;
    for (size_t i = 0; i < history_.size(); ++i)
      if (i % 2 == 0 || i + 1 == history_.size()) {
        history_bytes_ += history_[i].bytes;
        thinned.push_back(std::move(history_[i]));
      }
    history_ = std::move(thinned);
    history_cadence_ *= 2;
  }
}

const TrainingSession::KeptStep* TrainingSession::kept_at(int64_t step) const {
  const KeptStep* found = nullptr;
  for (const KeptStep& k : history_)
    if (k.step <= step) found = &k;
  return found;
}

std::vector<int64_t> TrainingSession::history_steps() const {
  std::lock_guard lock(mutex_);
  std::vector<int64_t> steps;
  for (const KeptStep& k : history_) steps.push_back(k.step);
  return steps;
}

std::shared_ptr<const Snapshot> TrainingSession::snapshot_at(int64_t step) const {
  std::lock_guard lock(mutex_);
  const KeptStep* kept = kept_at(step);
  return kept ? kept->snapshot : nullptr;
}

void TrainingSession::view_step(int64_t step) {
  std::lock_guard lock(mutex_);
  view_step_ = step;
}

void TrainingSession::set_history_budget(size_t bytes) {
  std::lock_guard lock(mutex_);
  history_budget_ = bytes;
}

size_t TrainingSession::history_bytes() const {
  std::lock_guard lock(mutex_);
  return history_bytes_;
}

FeatureMatrix TrainingSession::features(size_t level, std::vector<size_t> dataset_indices) {
  FeatureMatrix result;
  run_between_batches([&](Trainer& trainer) {
    result = extract_features(trainer.model(), trainer.train_data(), dataset_indices, level);
  });
  return result;
}

FeatureMatrix TrainingSession::features_of_images(size_t level, std::vector<float> pixels) {
  FeatureMatrix result;
  run_between_batches([&](Trainer& trainer) { result = extract_features(trainer.model(), pixels, level); });
  return result;
}

std::shared_ptr<const Snapshot> TrainingSession::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

void TrainingSession::publish(std::shared_ptr<Snapshot> snapshot, bool keep_in_history) {
  // Versions are unique across sessions: a view keyed by version (a panel's cached path) must
  // see that a new run (a reset, an opened checkpoint, an import) is another model.
  static std::atomic<uint64_t> last_version{0};
  snapshot->version = ++last_version;
  // The step is in the history before anyone can see its snapshot, so a reader that saw step s
  // finds s (or its thinned-out neighbourhood) in history_steps().
  if (keep_in_history) keep_step(snapshot);
  std::lock_guard lock(mutex_);
  latest_ = std::move(snapshot);
}

void TrainingSession::run() {
  // The session is the worker of an interactive program: its batches must not delay frames.
  run_below_interactive_priority();
  if (watch_folder_.empty()) train();
  else watch();
}

void TrainingSession::publish_status(const std::string& status) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->status = status;
  snapshot->watched_folder = watch_folder_;
  publish(snapshot, false);
}

bool TrainingSession::load_trainer() {
  try {
    auto trainer = resume_checkpoint_.empty() ? std::make_unique<Trainer>(config_)
                                              : Trainer::resume(resume_checkpoint_, config_.epochs);
    std::lock_guard lock(mutex_);
    trainer_ = std::move(trainer);
    return true;
  } catch (const std::exception& e) {
    publish_status(std::string("error: ") + e.what());
    return false;
  }
}

// A snapshot of the trainer's state; without views it keeps the last views (immutable, shared).
void TrainingSession::publish_state(bool with_views, bool running, const std::vector<size_t>& probes,
                                    const std::string& status) {
  auto s = std::make_shared<Snapshot>();
  if (!with_views && previous_ && !previous_->level_names.empty()) {
    s->level_names = previous_->level_names;
    s->probes = previous_->probes;
    s->first_layer_filters = previous_->first_layer_filters;
    s->filter_renderings = previous_->filter_renderings;
  } else {
    trainer_->fill_views(*s, probes);
  }
  s->backend_name = trainer_->backend().name();
  s->preset_name = trainer_->model().spec().name;
  s->dataset_name = trainer_->train_data().name;
  s->class_names = trainer_->train_data().class_names;
  s->step = trainer_->step_count();
  s->steps_per_epoch = trainer_->steps_per_epoch();
  s->total_steps = trainer_->total_steps();
  s->epoch = trainer_->epoch();
  s->running = running;
  s->finished = trainer_->finished();
  s->history = trainer_->history();
  s->status = status;
  s->watched_folder = watch_folder_;
  previous_ = s;
  publish(s, with_views);
}

bool TrainingSession::run_pending_job(std::unique_lock<std::mutex>& lock) {
  if (!job_active_ || trainer_lent_) return false;
  trainer_lent_ = true;
  job_finished_.notify_all();
  job_finished_.wait(lock, [&] { return !trainer_lent_; });
  return true;
}

void TrainingSession::train() {
  if (!load_trainer()) {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [&] { return quit_; });
    return;
  }
  std::vector<size_t> probes;
  {
    std::lock_guard lock(mutex_);
    probes = probes_;
  }
  std::string status = trainer_->backend_notice().empty() ? "ready" : trainer_->backend_notice();
  publish_state(true, false, probes, status);
  auto last_metrics = Clock::now(), last_views = Clock::now();
  bool was_running = false;
  for (;;) {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [&] {
      return quit_ || running_ || steps_requested_ > 0 || job_active_ || probes_changed_ || was_running;
    });
    if (quit_) return;
    if (run_pending_job(lock)) continue;
    const bool probes_changed = std::exchange(probes_changed_, false);
    if (probes_changed) probes = probes_;
    if (running_ && stop_at_step_ >= 0 && trainer_->step_count() >= stop_at_step_) running_ = false;
    const bool train = (running_ || steps_requested_ > 0) && !trainer_->finished();
    if (steps_requested_ > 0) --steps_requested_;
    if (trainer_->finished()) running_ = false;
    const bool running = running_;
    lock.unlock();

    if (train) {
      try {
        trainer_->step();
        // A recovered fault (a step rolled back, the learning rate lowered) stays on the status line.
        const auto& notices = trainer_->fault_notices();
        status = notices.empty() ? "training" : "training; " + notices.back();
      } catch (const std::exception& e) {
        status = std::string("error: ") + e.what();
        std::lock_guard stop(mutex_);
        running_ = false;
      }
    }
    const auto now = Clock::now();
    // Views refresh at once whenever training is not continuous (a single step, a pause, new probes).
    const bool views_due = probes_changed || !running || now - last_views >= kViewsInterval;
    if (views_due || now - last_metrics >= kMetricsInterval) {
      if (trainer_->finished()) status = "finished";
      else if (!running && status.starts_with("training")) status = "paused";
      publish_state(views_due, running && !trainer_->finished(), probes, status);
      last_metrics = now;
      if (views_due) last_views = now;
    }
    was_running = running && !trainer_->finished();
  }
}

// ---- watching a run folder --------------------------------------------------------------------

std::unique_ptr<TrainingSession> TrainingSession::watching(TrainConfig config, std::string folder) {
  return std::unique_ptr<TrainingSession>(new TrainingSession(std::move(config), std::string(), std::move(folder)));
}

// The newest checkpoint of the watched folder: taken into the trainer when it holds the same
// architecture, else (the first one, another run) a trainer built from it (its data loaded).
void TrainingSession::take_watched_checkpoint(const std::string& path) {
  const CheckpointContents contents = read_checkpoint(path);
  if (trainer_ && model_spec_of(contents, path).to_json() == trainer_->model().spec().to_json()) {
    trainer_->adopt(contents, path);
    return;
  }
  auto trainer = Trainer::resume(contents, path, 0, config_.threads);
  std::lock_guard lock(mutex_);
  trainer_ = std::move(trainer);
}

static std::string watch_status(const RunFolderWatch& folder, const Trainer* trainer, const std::string& problem) {
  std::string status = "watching " + folder.folder();
  const std::optional<double> age = folder.checkpoint_age_seconds();
  if (!trainer) status += age ? ": loading its checkpoint" : ": waiting for its first checkpoint";
  else
    status += ": step " + std::to_string(trainer->step_count()) + " of " + std::to_string(trainer->total_steps()) +
              (age ? ", checkpoint written " + std::to_string(int64_t(*age)) + " s ago" : "");
  if (!problem.empty()) status += "; " + problem;
  return status;
}

void TrainingSession::watch() {
  RunFolderWatch folder(watch_folder_);
  std::vector<size_t> probes;
  std::string problem;
  publish_status(watch_status(folder, nullptr, problem));
  for (;;) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, kWatchInterval, [&] { return quit_ || job_active_ || probes_changed_; });
    if (quit_) return;
    if (run_pending_job(lock)) continue;
    bool views_due = std::exchange(probes_changed_, false);
    probes = probes_;
    lock.unlock();
    try {
      const bool new_checkpoint = folder.take_new_checkpoint();
      if (new_checkpoint) {
        take_watched_checkpoint(folder.checkpoint_path());
        views_due = true;
      }
      // Its rows reach past the checkpoint (whose own history the trainer just took): the curves
      // show them as they land.
      if (trainer_ && (folder.take_new_metrics() || new_checkpoint)) {
        std::vector<MetricsRow> rows = std::filesystem::exists(folder.metrics_path())
                                           ? MetricsCsv::read(folder.metrics_path())
                                           : std::vector<MetricsRow>{};
        if (!rows.empty()) trainer_->set_history(std::move(rows));
      }
      problem.clear();
    } catch (const std::exception& e) {
      problem = e.what();  // the last good checkpoint stays on screen
    }
    const std::string status = watch_status(folder, trainer_.get(), problem);
    if (trainer_) publish_state(views_due || !previous_ || previous_->level_names.empty(), false, probes, status);
    else publish_status(status);
  }
}

}  // namespace drmm
