#pragma once
// The EG training loop (paper 000 §4; paper 002 App. A): per batch, the E-step (bottom-up,
// then top-down) and one optimiser step on L = α_H L_H + α_RC L_RC + α_KL L_KL + α_NN L_NN.
// Batches hold `labeled_fraction` labeled images (the N_L labeled set, cycled) and the rest
// from the unlabeled stream (the whole training set, reshuffled per epoch; an epoch is one pass
// of that stream). Everything is seeded and a function of the step number, so a run resumed
// from a checkpoint continues exactly as it would have.
#include <memory>
#include <string>
#include <vector>

#include "core/backend/backend.h"
#include "core/data/dataset.h"
#include "core/model/drmm_model.h"
#include "core/train/model_state.h"
#include "core/train/rendering_quality.h"
#include "core/train/snapshot.h"
#include "core/train/train_config.h"

namespace drmm {

class Trainer {
 public:
  // How an architecture meets the dataset: a new run fits the layer stack to the data's image
  // shape and class count (ModelSpec::fitted_to); a continued run must match it exactly.
  enum class SpecFit { to_dataset, exact };
  // Loads the data and builds the model and backend (config.preset fitted to the dataset);
  // throws drmm::Error on bad input.
  explicit Trainer(TrainConfig config);
  // The same with the architecture `spec` instead of the one config.preset names.
  Trainer(TrainConfig config, ModelSpec spec, SpecFit fit = SpecFit::exact);
  // Continues the run saved in `checkpoint` (its architecture, config, weights, optimiser state
  // and step, whatever the preset file now says); `epochs` > 0 replaces the number of epochs.
  // `threads` ≥ 0 replaces the saved thread count (the studio keeps a core for itself).
  static std::unique_ptr<Trainer> resume(const std::string& checkpoint, double epochs = 0, int threads = -1);
  // The same from the contents already read from `checkpoint`.
  static std::unique_ptr<Trainer> resume(const CheckpointContents& contents, const std::string& checkpoint,
                                         double epochs = 0, int threads = -1);
  // Takes over the learned state, step and history of `contents` (read from `path`), which must
  // hold this trainer's architecture: how a watched run folder's newer checkpoint is shown.
  void adopt(const CheckpointContents& contents, const std::string& path);
  // Replaces the logged rows (a watched run's metrics.csv, newer than its checkpoint).
  void set_history(std::vector<MetricsRow> rows);
  // The configuration a checkpoint was trained with; throws FileError when it has none.
  static TrainConfig checkpoint_config(const std::string& checkpoint);
  static TrainConfig checkpoint_config(const CheckpointContents& contents, const std::string& checkpoint);
  ~Trainer();

  void step();  // one batch: E-step, gradients, optimiser step, metrics
  bool finished() const { return step_ >= total_steps_; }
  int64_t step_count() const { return step_; }
  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  int64_t total_steps() const { return total_steps_; }
  double epoch() const { return double(step_) / double(steps_per_epoch_); }
  double learning_rate() const;
  const MetricsRow& last_metrics() const { return last_; }
  // One line per training fault recovered from (a step rolled back, the learning rate lowered),
  // oldest first, for the CLI and the studio to tell the user.
  const std::vector<std::string>& fault_notices() const { return notices_; }
  int fault_count() const { return faults_; }
  // Rows logged so far (every few steps, and with a test accuracy at every evaluation).
  const std::vector<MetricsRow>& history() const { return history_; }

  EvalResult evaluate_test();  // on the test split (or the held-out part when there is none)
  // Rendering quality on the first `render_limit` images of the same split (rendering_quality.h).
  RenderingQuality measure_test_rendering();
  void save(const std::string& path);

  // Fills a snapshot's model views: probes (input, q, Î, per-level reconstructions), filters.
  void fill_views(Snapshot& snapshot, const std::vector<size_t>& probe_indices);

  const TrainConfig& config() const { return config_; }
  const Dataset& train_data() const { return train_; }
  const Dataset* test_data() const { return test_.size() ? &test_ : nullptr; }
  const LabeledSplit& split() const { return split_; }
  // The training images batch `step` is made of, labeled ones first: a function of the seed, the
  // split and the step alone, so runs that share those see the same batches in the same order.
  std::vector<size_t> batch_indices(int64_t step);
  DrmmModel& model() { return *model_; }
  Backend& backend() { return *backend_; }
  const std::string& backend_notice() const { return backend_notice_; }

 private:
  struct Order {  // one pass of a stream in its seeded order
    int64_t pass = -1;
    std::vector<size_t> indices;
  };
  size_t take_ordered(Order& order, const std::vector<size_t>& pool, uint64_t stream, int64_t position);
  void fill_batch();
  bool try_update(LossValues& losses);
  void recover_from_fault(const LossValues& losses);
  void record_metrics(const LossValues& losses, double seconds);

  TrainConfig config_;
  Dataset train_, test_;
  LabeledSplit split_;
  std::unique_ptr<Backend> backend_;
  std::string backend_notice_;
  std::unique_ptr<DrmmModel> model_;
  StepOptions options_;
  std::string optimizer_;
  // Training faults (step()): a NaN or Inf loss, or a weight that is not finite or beyond
  // kDivergedMagnitude (its products overflow float32 within a few layers; trained weights
  // are of order 1), rolls the step back and multiplies the learning rate by kFaultLrFactor.
  static constexpr float kDivergedMagnitude = 1e9f;
  static constexpr double kFaultLrFactor = 0.1;
  static constexpr int kMaxFaults = 8;
  double lr_start_ = 0, lr_end_ = 0, momentum_ = 0;
  double lr_scale_ = 1;  // the product of the fault reductions so far
  int faults_ = 0;
  std::vector<std::string> notices_;
  int labeled_per_batch_ = 0, unlabeled_per_batch_ = 0;
  int64_t step_ = 0, steps_per_epoch_ = 1, total_steps_ = 1;
  Tensor images_, labels_;
  std::vector<float> host_images_, host_labels_;
  std::vector<size_t> all_indices_;  // the unlabeled stream's pool: every training image
  Order unlabeled_order_, labeled_order_;
  MetricsRow last_;
  std::vector<MetricsRow> history_;
  double accuracy_average_ = -1, speed_average_ = 0;
};

}  // namespace drmm
