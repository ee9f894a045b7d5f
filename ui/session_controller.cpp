#include "ui/session_controller.h"

#include <QTimer>
#include <algorithm>
#include <exception>
#include <utility>

#include "core/io/model_import.h"
#include "core/model/model_spec.h"
#include "core/train/checkpoint.h"
#include "core/train/comparison.h"
#include "core/train/trainer.h"
#include "core/train/training_session.h"

namespace drmm::ui {

SessionController::SessionController(TrainConfig config, QObject* parent) : QObject(parent), config_(std::move(config)) {
  create_session();
  load_dataset_async();
}

SessionController::~SessionController() {
  if (session_) session_->pause();
  if (twin_) twin_->pause();
  retire_runs();
  for (Worker& worker : workers_) worker.thread.join();
}

void SessionController::spawn(std::function<void()> work) {
  std::erase_if(workers_, [](Worker& worker) {
    if (!worker.done->load()) return false;
    worker.thread.join();
    return true;
  });
  auto done = std::make_shared<std::atomic<bool>>(false);
  workers_.push_back({std::thread([work = std::move(work), done] {
                        work();
                        done->store(true);
                      }),
                      done});
}

void SessionController::retire(std::shared_ptr<TrainingSession> session) {
  if (!session) return;
  // ~TrainingSession waits for the batch in progress; that wait belongs off the GUI thread.
  spawn([session = std::move(session)]() mutable { session.reset(); });
}

void SessionController::retire_runs() {
  retire(std::move(session_));
  retire(std::move(twin_));
}

void SessionController::create_session() {
  if (!watched_folder_.isEmpty()) session_ = TrainingSession::watching(config_, watched_folder_.toStdString());
  else session_ = std::make_shared<TrainingSession>(config_, std::exchange(resume_checkpoint_, std::string()));
  if (!probes_.empty()) session_->set_probes(probes_);
  if (running_) session_->start();
  create_twin();
}

void SessionController::create_twin() {
  if (!compare_cnn_ || !watched_folder_.isEmpty()) return;
  twin_ = cnn_twin(*session_);
  // Nobody looks at the twin's probe reconstructions (the comparison renders test images of
  // its own): none, so its views cost its worker little.
  twin_->set_probes({});
  if (running_) twin_->start();
}

void SessionController::set_compare_cnn(bool on) {
  if (on == compare_cnn_) return;
  compare_cnn_ = on;
  if (on) create_twin();
  else retire(std::move(twin_));
  emit compare_cnn_changed();
}

void SessionController::apply_config(const TrainConfig& config) {
  const bool dataset_changed = config.dataset != config_.dataset || config.labeled != config_.labeled ||
                               config.seed != config_.seed;
  if (config.dataset != config_.dataset) forget_probes();
  config_ = config;
  running_ = false;
  watched_folder_.clear();  // a new run here ends watching
  forget_saves();
  retire_runs();
  create_session();
  if (dataset_changed) load_dataset_async();
  emit config_changed();
  emit probes_changed();
}

void SessionController::apply_config_if_valid(const TrainConfig& config) {
  spawn([this, config] {
    QString error;
    try {
      const Dataset data = load_dataset(config.dataset, Split::Train);
      load_model_spec(config.preset).fitted_to(data.channels, data.height, data.width, data.num_classes());
    } catch (const std::exception& e) {
      error = QString::fromStdString(e.what());
    }
    QMetaObject::invokeMethod(this, [this, config, error] {
      if (error.isEmpty()) apply_config(config);
      else emit config_refused(error);
    }, Qt::QueuedConnection);
  });
}

void SessionController::start(int64_t until_step) {
  if (!watched_folder_.isEmpty()) return;  // trained elsewhere
  running_ = true;
  session_->start(until_step);
  if (twin_) twin_->start(until_step);
}

void SessionController::pause() {
  running_ = false;
  session_->pause();
  if (twin_) twin_->pause();
}

void SessionController::step_once() {
  if (!watched_folder_.isEmpty()) return;
  running_ = false;
  session_->step_once();
  if (twin_) twin_->step_once();
}

void SessionController::reset() { apply_config(config_); }

void SessionController::open_checkpoint(const QString& path) {
  // Read once here for its configuration and step; the session reads it again to resume.
  const CheckpointContents contents = read_checkpoint(path.toStdString());
  TrainConfig saved = Trainer::checkpoint_config(contents, path.toStdString());
  saved.threads = config_.threads;  // the GUI keeps a core for itself
  saved.test_every = config_.test_every;
  saved.test_limit = config_.test_limit;
  saved.render_limit = config_.render_limit;
  // saved.epochs stays: the learning rate decays over the run's own length, so a continued run
  // goes on exactly as it would have (a longer run would change the schedule and the loss jump).
  const int64_t step = contents.meta.value("step", int64_t(0));
  resume_checkpoint_ = path.toStdString();
  apply_config(saved);
  saved_step_ = step;
  saved_path_ = path;
}

void SessionController::watch_folder(const QString& folder) {
  running_ = false;
  forget_saves();
  retire_runs();
  watched_folder_ = folder;
  create_session();
  emit config_changed();
}

void SessionController::follow_watched_dataset(const Snapshot& snapshot) {
  if (watched_folder_.isEmpty() || snapshot.dataset_name.empty() || snapshot.dataset_name == config_.dataset) return;
  config_.dataset = snapshot.dataset_name;
  forget_probes();
  load_dataset_async();
  emit config_changed();
  emit probes_changed();
}

void SessionController::import_model(const QString& onnx_path, const QString& checkpoint_path) {
  TrainConfig config = config_;
  cancel_import_ = false;
  spawn([this, config, onnx_path, checkpoint_path] {
    QString notes, error;
    struct Cancelled {};
    try {
      int reported = -1;
      const auto progress = [&](size_t done, size_t total) {
        if (cancel_import_) throw Cancelled{};
        const int percent = int(100 * done / std::max<size_t>(total, 1));
        if (percent == reported) return;
        reported = percent;
        QMetaObject::invokeMethod(this, [this, percent] { emit import_progress(percent); }, Qt::QueuedConnection);
      };
      const ModelImport r =
          drmm::import_model(onnx_path.toStdString(), config, checkpoint_path.toStdString(), 0, progress);
      for (const std::string& note : r.network.notes) notes += QString::fromStdString(note) + "\n";
      notes += tr("Test accuracy %1 on %2 images; π measured on %3 training images.")
                   .arg(r.test.accuracy, 0, 'f', 4).arg(r.test.count).arg(r.pi_images);
    } catch (const Cancelled&) {
      error = tr("Import cancelled; the current run is unchanged.");
    } catch (const std::exception& e) {
      error = QString::fromStdString(e.what());
    }
    QMetaObject::invokeMethod(this, [this, onnx_path, checkpoint_path, notes, error] {
      QString failure = error;
      if (failure.isEmpty()) {
        try {
          open_checkpoint(checkpoint_path);
        } catch (const std::exception& e) {
          failure = QString::fromStdString(e.what());
        }
      }
      emit model_imported(onnx_path, notes, failure);
    }, Qt::QueuedConnection);
  });
}

void SessionController::forget_probes() {
  probes_.clear();  // indices of another dataset mean nothing here
  probes_chosen_by_user_ = false;
}

void SessionController::forget_saves() {
  saved_step_ = 0;
  saved_path_.clear();
  autosaved_step_ = 0;
}

void SessionController::set_probes(std::vector<size_t> indices) {
  if (indices.size() > kMaxProbes) indices.resize(kMaxProbes);
  probes_ = std::move(indices);
  session_->set_probes(probes_);
  emit probes_changed();
}

void SessionController::toggle_probe(size_t index) {
  std::vector<size_t> next = probes_;
  const auto it = std::find(next.begin(), next.end(), index);
  if (it != next.end()) next.erase(it);
  else if (next.size() < kMaxProbes) next.push_back(index);
  else next.back() = index;  // full: the newest pick replaces the last one
  probes_chosen_by_user_ = true;
  set_probes(std::move(next));
}

std::shared_ptr<const Snapshot> SessionController::latest() const { return session_->latest(); }

std::shared_ptr<const BrowsedDataset> SessionController::dataset() const {
  std::lock_guard lock(dataset_mutex_);
  return dataset_;
}

void SessionController::load_dataset_async() {
  const uint64_t version = ++dataset_version_;
  const std::string spec = config_.dataset;
  const size_t labeled_count = config_.labeled;
  const uint64_t seed = config_.seed;
  spawn([this, version, spec, labeled_count, seed] {
    auto browsed = std::make_shared<BrowsedDataset>();
    browsed->version = version;
    browsed->spec = spec;
    try {
      auto data = std::make_shared<Dataset>(load_dataset(spec, Split::Train));
      browsed->labeled.assign(data->size(), 0);
      if (labeled_count > 0) {
        const LabeledSplit split = make_labeled_split(*data, std::min(labeled_count, data->size()), seed);
        for (size_t i : split.labeled) browsed->labeled[i] = 1;
      }
      browsed->data = std::move(data);
    } catch (const std::exception& e) {
      browsed->error = e.what();
    }
    // Hand the result to the GUI thread; Qt drops the call if the controller is gone by then.
    QMetaObject::invokeMethod(
        this,
        [this, browsed] {
          if (browsed->version != dataset_version_) return;  // a newer load superseded this one
          {
            std::lock_guard lock(dataset_mutex_);
            dataset_ = browsed;
          }
          if (browsed->data && probes_.empty() && !probes_chosen_by_user_) {
            // Default probes: the first image of each class, so every class has a row.
            std::vector<size_t> first_of_class;
            std::vector<bool> seen(size_t(std::max(browsed->data->num_classes(), 1)), false);
            for (size_t i = 0; i < browsed->data->size() && first_of_class.size() < kMaxProbes; ++i) {
              const int label = browsed->data->labels[i];
              if (label >= 0 && size_t(label) < seen.size() && !seen[size_t(label)]) {
                seen[size_t(label)] = true;
                first_of_class.push_back(i);
              }
            }
            set_probes(std::move(first_of_class));
          }
          emit dataset_loaded();
        },
        Qt::QueuedConnection);
  });
}

void SessionController::save_checkpoint(const QString& path) { save(path, SaveRole::user); }

void SessionController::set_autosave(const QString& path, std::chrono::milliseconds interval) {
  autosave_path_ = path;
  if (!autosave_timer_) {
    autosave_timer_ = new QTimer(this);
    connect(autosave_timer_, &QTimer::timeout, this, &SessionController::autosave_if_needed);
  }
  autosave_timer_->start(interval);
}

void SessionController::autosave_if_needed() {
  const auto snapshot = session_->latest();
  const int64_t step = snapshot ? snapshot->step : 0;
  if (saving() || autosave_path_.isEmpty() || step <= std::max(saved_step_, autosaved_step_)) return;
  save(autosave_path_, SaveRole::autosave);
}

void SessionController::save(const QString& path, SaveRole role) {
  ++saves_in_flight_;
  const auto snapshot = session_->latest();
  const int64_t step = snapshot ? snapshot->step : 0;  // saved at the next batch boundary: at least this
  spawn([this, session = session_, path, step, role] {
    QString error;
    try {
      session->save_checkpoint(path.toStdString());
    } catch (const std::exception& e) {
      error = QString::fromStdString(e.what());
    }
    --saves_in_flight_;
    QMetaObject::invokeMethod(this, [this, session, path, error, step, role] {
      if (error.isEmpty() && session == session_) {
        autosaved_step_ = std::max(autosaved_step_, step);
        if (role == SaveRole::user) {
          saved_step_ = std::max(saved_step_, step);
          saved_path_ = path;
        }
      }
      if (role == SaveRole::user) emit checkpoint_saved(path, error);
      else if (!error.isEmpty()) emit autosave_failed(path, error);
    }, Qt::QueuedConnection);
  });
}

int64_t SessionController::unsaved_steps() const {
  const auto snapshot = session_->latest();
  return snapshot ? std::max<int64_t>(0, snapshot->step - saved_step_) : 0;
}

void SessionController::after_confirming(const QString& what, std::function<void()> action) {
  QTimer::singleShot(0, this, [this, what, action = std::move(action)] {
    if (unsaved_steps() > 0 && guard_ && !guard_(what)) return;
    action();
  });
}

bool SessionController::saving() const { return saves_in_flight_.load() > 0; }

}  // namespace drmm::ui
