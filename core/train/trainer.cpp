#include "core/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "core/backend/select/backend_factory.h"
#include "core/train/checkpoint.h"
#include "core/train/image_export.h"
#include "core/train/model_state.h"
#include "core/train/config_json.h"
#include "core/util/error.h"
#include "core/util/random.h"

namespace drmm {
namespace {

constexpr int64_t kLogEvery = 10;          // steps between history rows
constexpr int kMaxRenderedUnits = 32;      // templates rendered for the Filters view

// Per-stream seeds: the batch order is a pure function of (seed, epoch or cycle).
uint64_t stream_seed(uint64_t seed, uint64_t stream, int64_t index) {
  return seed * 0x9e3779b97f4a7c15ull + stream * 0xbf58476d1ce4e5b9ull + uint64_t(index);
}

std::string short_number(double value) {
  std::ostringstream text;
  text << std::setprecision(3) << value;
  return text.str();
}

}  // namespace

Trainer::Trainer(TrainConfig config) : Trainer(config, load_model_spec(config.preset), SpecFit::to_dataset) {}

Trainer::Trainer(TrainConfig config, ModelSpec spec, SpecFit fit) : config_(std::move(config)) {
  train_ = load_dataset(config_.dataset, Split::Train);
  if (has_split(config_.dataset, Split::Test)) test_ = load_dataset(config_.dataset, Split::Test);
  if (fit == SpecFit::to_dataset) {
    try {
      spec = spec.fitted_to(train_.channels, train_.height, train_.width, train_.num_classes());
    } catch (const Error& e) {
      throw Error(std::string(e.what()) + ": dataset '" + train_.name + "' does not fit this architecture");
    }
  }
  if (train_.channels != spec.channels || train_.height != spec.height || train_.width != spec.width)
    throw Error("preset '" + spec.name + "' takes " + std::to_string(spec.channels) + "x" + std::to_string(spec.height) +
                "x" + std::to_string(spec.width) + " images but dataset '" + train_.name + "' has " +
                std::to_string(train_.channels) + "x" + std::to_string(train_.height) + "x" +
                std::to_string(train_.width));
  if (train_.num_classes() != spec.classes)
    throw Error("preset '" + spec.name + "' has " + std::to_string(spec.classes) + " classes but dataset '" +
                train_.name + "' has " + std::to_string(train_.num_classes()));
  if (config_.batch_size < 2) throw Error("batch size must be at least 2");
  split_ = make_labeled_split(train_, config_.labeled, config_.seed);

  spec = spec.with_nrm(config_.nrm_biases, config_.max_min);
  if (config_.alpha_from_preset) config_.alpha = spec.alpha;
  if (config_.alpha.rpn != 0.0f && !spec.has_rendering_prior())
    throw Error("α_RPN " + short_number(config_.alpha.rpn) +
                " needs conv biases, the rendering prior's parameters: no conv of '" + spec.name +
                "' with a ReLU has one (add them with --nrm-biases, \"NRM biases\" in Run settings, or \"bias\": "
                "true on a conv in the architecture)");
  options_ = StepOptions{config_.alpha, config_.kl_paper_sign, config_.topdown_class == TopDownClass::LabelWhenKnown,
                         float(train_.mean_pixel_energy())};
  optimizer_ = config_.optimizer.empty() ? spec.optimizer.type : config_.optimizer;
  if (optimizer_ != "sgd" && optimizer_ != "adam") throw Error("optimizer must be sgd or adam, not '" + optimizer_ + "'");
  const bool same_optimizer = optimizer_ == spec.optimizer.type;
  lr_start_ = config_.lr_start > 0 ? config_.lr_start : same_optimizer ? spec.optimizer.lr_start : 1e-3;
  lr_end_ = config_.lr_end > 0 ? config_.lr_end : same_optimizer ? spec.optimizer.lr_end : lr_start_ / 10;
  momentum_ = config_.momentum >= 0 ? config_.momentum : spec.optimizer.momentum;

  labeled_per_batch_ = split_.labeled.empty() ? 0
                       : std::clamp(int(std::lround(config_.batch_size * config_.labeled_fraction)), 1,
                                    config_.batch_size);
  unlabeled_per_batch_ = config_.batch_size - labeled_per_batch_;
  const size_t stream = unlabeled_per_batch_ > 0 ? train_.size() : split_.labeled.size();
  const int per_step = unlabeled_per_batch_ > 0 ? unlabeled_per_batch_ : labeled_per_batch_;
  steps_per_epoch_ = std::max<int64_t>(1, int64_t((stream + per_step - 1) / per_step));
  total_steps_ = std::max<int64_t>(1, int64_t(std::ceil(config_.epochs * double(steps_per_epoch_))));

  backend_ = make_backend(config_.backend, config_.threads, &backend_notice_);
  model_ = std::make_unique<DrmmModel>(spec, *backend_, config_.seed);
  const Shape batch_shape{config_.batch_size, train_.channels, train_.height, train_.width};
  images_ = backend_->alloc(batch_shape);
  labels_ = backend_->alloc(Shape{config_.batch_size, 1, 1, 1});
  host_images_.resize(batch_shape.count());
  host_labels_.resize(size_t(config_.batch_size));
  all_indices_.resize(train_.size());
  for (size_t i = 0; i < all_indices_.size(); ++i) all_indices_[i] = i;
}

Trainer::~Trainer() = default;

double Trainer::learning_rate() const {
  // Exponential decay from lr_start to lr_end over the run (paper 002 App. A).
  const double progress = double(step_) / double(total_steps_);
  return lr_scale_ * lr_start_ * std::pow(lr_end_ / lr_start_, progress);
}

// Position `position` of a stream that walks `pool` in a fresh seeded order per pass.
size_t Trainer::take_ordered(Order& order, const std::vector<size_t>& pool, uint64_t stream, int64_t position) {
  const int64_t pass = position / int64_t(pool.size());
  if (pass != order.pass) {
    order.indices = pool;
    Random(stream_seed(config_.seed, stream, pass)).shuffle(order.indices);
    order.pass = pass;
  }
  return order.indices[size_t(position % int64_t(pool.size()))];
}

std::vector<size_t> Trainer::batch_indices(int64_t step) {
  std::vector<size_t> indices;
  indices.reserve(size_t(labeled_per_batch_ + unlabeled_per_batch_));
  for (int j = 0; j < labeled_per_batch_; ++j)
    indices.push_back(take_ordered(labeled_order_, split_.labeled, 1, step * labeled_per_batch_ + j));
  for (int j = 0; j < unlabeled_per_batch_; ++j)
    indices.push_back(take_ordered(unlabeled_order_, all_indices_, 2, step * unlabeled_per_batch_ + j));
  return indices;
}

// Fills the batch: labeled images first (label kept), then unlabeled ones (label −1).
void Trainer::fill_batch() {
  const size_t image_size = train_.image_size();
  const std::vector<size_t> indices = batch_indices(step_);
  for (size_t slot = 0; slot < indices.size(); ++slot) {
    const auto image = train_.image(indices[slot]);
    std::copy(image.begin(), image.end(), host_images_.begin() + slot * image_size);
    host_labels_[slot] = int(slot) < labeled_per_batch_ ? float(train_.labels[indices[slot]]) : -1.0f;
  }
  backend_->upload(images_, host_images_);
  backend_->upload(labels_, host_labels_);
}

void Trainer::step() {
  const auto start = std::chrono::steady_clock::now();
  fill_batch();
  model_->keep_state();
  LossValues losses;
  while (!try_update(losses)) recover_from_fault(losses);
  ++step_;
  record_metrics(losses, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

// One E-step and update; false when the loss (before it) or a weight (after it) is not finite.
bool Trainer::try_update(LossValues& losses) {
  model_->compute_gradients(images_, labels_, options_);
  losses = model_->read_losses();
  if (!std::isfinite(losses.total(options_.alpha))) return false;
  const float lr = float(learning_rate());
  if (optimizer_ == "adam")
    model_->adam_step(lr, int(step_ + 1));
  else
    model_->sgd_step(lr, float(momentum_));
  return model_->parameters_within(kDivergedMagnitude);
}

// Rolls the step back to the weights, optimiser state and statistics before it, lowers the
// learning rate for the rest of the run and says so; gives up after kMaxFaults.
void Trainer::recover_from_fault(const LossValues& losses) {
  model_->restore_kept_state();
  const std::string what = std::isfinite(losses.total(options_.alpha)) ? "a weight diverged" : "the loss is not finite";
  if (++faults_ > kMaxFaults)
    throw Error("training diverged at step " + std::to_string(step_ + 1) + " (" + what + ") " +
                std::to_string(kMaxFaults) + " times, even at learning rate " + short_number(learning_rate()) +
                "; the last good weights are in the last checkpoint; try a smaller --lr");
  lr_scale_ *= kFaultLrFactor;
  notices_.push_back("step " + std::to_string(step_ + 1) + ": " + what +
                     "; rolled back to the weights before the step and lowered the learning rate to " +
                     short_number(learning_rate()));
}

void Trainer::record_metrics(const LossValues& losses, double seconds) {
  // Train accuracy of this batch's labeled images, smoothed over recent batches.
  if (labeled_per_batch_ > 0) {
    const std::vector<float> q = backend_->download(model_->class_probabilities());
    const int classes = model_->spec().classes;
    int correct = 0;
    for (int i = 0; i < labeled_per_batch_; ++i) {
      const float* row = q.data() + size_t(i) * classes;
      correct += int(std::max_element(row, row + classes) - row) == int(host_labels_[i]);
    }
    const double accuracy = double(correct) / labeled_per_batch_;
    accuracy_average_ = accuracy_average_ < 0 ? accuracy : 0.95 * accuracy_average_ + 0.05 * accuracy;
  }
  const double speed = config_.batch_size / std::max(seconds, 1e-9);
  speed_average_ = speed_average_ == 0 ? speed : 0.9 * speed_average_ + 0.1 * speed;
  last_ = MetricsRow{};
  last_.step = step_;
  last_.epoch = epoch();
  last_.loss_total = losses.total(options_.alpha);
  last_.loss_h = losses.h;
  last_.loss_rc = losses.rc;
  last_.loss_kl = losses.kl;
  last_.loss_nn = losses.nn;
  last_.loss_rpn = losses.rpn;
  last_.train_accuracy = std::max(accuracy_average_, 0.0);
  last_.images_per_second = speed_average_;
  last_.learning_rate = learning_rate();
  const bool epoch_end = step_ % steps_per_epoch_ == 0;
  const bool test_due = config_.test_every > 0 ? step_ % config_.test_every == 0 : epoch_end;
  if (test_due || finished()) {
    last_.test_accuracy = evaluate_test().accuracy;
    if (config_.render_limit > 0) last_.rendering = measure_test_rendering();
  }
  if (step_ % kLogEvery == 0 || last_.test_accuracy >= 0 || step_ == 1) history_.push_back(last_);
}

EvalResult Trainer::evaluate_test() {
  return evaluate_model(*model_, test_.size() ? test_ : train_, size_t(config_.test_limit));
}

RenderingQuality Trainer::measure_test_rendering() {
  return measure_rendering(*model_, test_.size() ? test_ : train_, size_t(std::max<int64_t>(config_.render_limit, 1)));
}

// ---- checkpoints ---------------------------------------------------------------------------

namespace {

// The run's history in the checkpoint, one array per row, so that an opened checkpoint shows its
// curves from the first step (the studio's saves have no metrics.csv beside them).
nlohmann::json history_to_json(const std::vector<MetricsRow>& history) {
  nlohmann::json rows = nlohmann::json::array();
  for (const MetricsRow& m : history) {
    const RenderingQuality& q = m.rendering;
    rows.push_back({m.step, m.epoch, m.loss_total, m.loss_h, m.loss_rc, m.loss_kl, m.loss_nn, m.train_accuracy,
                    m.test_accuracy, m.images_per_second, m.learning_rate, q.count, q.r_mean, q.r_median,
                    q.relative_error, q.self_consistency, q.level_r});
  }
  return rows;
}

std::vector<MetricsRow> history_from_json(const nlohmann::json& rows, int64_t up_to_step, const std::string& path) {
  std::vector<MetricsRow> history;
  try {
    for (const nlohmann::json& r : rows) {
      MetricsRow m;
      m.step = r.at(0).get<int64_t>();
      if (m.step > up_to_step) break;
      double* fields[] = {&m.epoch, &m.loss_total, &m.loss_h, &m.loss_rc, &m.loss_kl, &m.loss_nn,
                          &m.train_accuracy, &m.test_accuracy, &m.images_per_second, &m.learning_rate};
      for (size_t i = 0; i < std::size(fields); ++i) *fields[i] = r.at(i + 1).get<double>();
      RenderingQuality& q = m.rendering;
      q.count = r.at(11).get<size_t>();
      q.r_mean = r.at(12).get<double>(), q.r_median = r.at(13).get<double>();
      q.relative_error = r.at(14).get<double>(), q.self_consistency = r.at(15).get<double>();
      q.level_r = r.at(16).get<std::vector<double>>();
      history.push_back(std::move(m));
    }
  } catch (const nlohmann::json::exception& e) {
    throw FileError(path, std::string("checkpoint header: the training history is malformed: ") + e.what());
  }
  return history;
}

}  // namespace

void Trainer::save(const std::string& path) {
  CheckpointContents contents;
  contents.meta = {{"model", model_->spec().to_json()},
                   {"config", config_to_json(config_)},
                   {"step", step_},
                   {"optimizer", optimizer_},
                   {"lr_start", lr_start_},
                   {"lr_end", lr_end_},
                   {"momentum", momentum_},
                   {"lr_scale", lr_scale_},
                   {"faults", faults_},
                   {"history", history_to_json(history_)}};
  store_model_state(*model_, contents);
  // Every update is checked in step(); this also covers weights set from outside: a checkpoint
  // never holds a non-finite weight (a diverged run keeps its last good checkpoint).
  for (const NamedArray& a : contents.arrays)
    if (std::any_of(a.values.begin(), a.values.end(), [](float v) { return !std::isfinite(v); }))
      throw Error("training diverged by step " + std::to_string(step_) + ": tensor '" + a.name +
                  "' is not finite; not saving it over " + path + " (try a smaller learning rate)");
  write_checkpoint(path, contents);
}

TrainConfig Trainer::checkpoint_config(const CheckpointContents& contents, const std::string& checkpoint) {
  try {
    return config_from_json(contents.meta.at("config"));
  } catch (const nlohmann::json::exception& e) {
    throw FileError(checkpoint, std::string("checkpoint has no valid training configuration: ") + e.what());
  }
}

TrainConfig Trainer::checkpoint_config(const std::string& checkpoint) {
  return checkpoint_config(read_checkpoint(checkpoint), checkpoint);
}

std::unique_ptr<Trainer> Trainer::resume(const std::string& checkpoint, double epochs, int threads) {
  return resume(read_checkpoint(checkpoint), checkpoint, epochs, threads);
}

std::unique_ptr<Trainer> Trainer::resume(const CheckpointContents& contents, const std::string& checkpoint,
                                         double epochs, int threads) {
  TrainConfig config = checkpoint_config(contents, checkpoint);
  if (epochs > 0) config.epochs = epochs;
  if (threads >= 0) config.threads = threads;
  auto trainer = std::make_unique<Trainer>(config, model_spec_of(contents, checkpoint));
  trainer->adopt(contents, checkpoint);
  return trainer;
}

void Trainer::adopt(const CheckpointContents& contents, const std::string& path) {
  const int64_t step = contents.meta.at("step").get<int64_t>();
  // The batch order is a function of the step: a step outside the run would index outside it.
  if (step < 0 || step > total_steps_)
    throw FileError(path, "checkpoint header: step " + std::to_string(step) + " is outside the run (0.." +
                              std::to_string(total_steps_) + " steps)");
  const double lr_scale = contents.meta.value("lr_scale", 1.0);
  const int faults = contents.meta.value("faults", 0);
  if (!(lr_scale > 0 && lr_scale <= 1) || faults < 0)
    throw FileError(path, "checkpoint header: lr_scale or faults out of range");
  std::vector<MetricsRow> history;
  if (contents.meta.contains("history")) history = history_from_json(contents.meta["history"], step, path);
  restore_model_state(*model_, contents, path);  // last: a refused file leaves the trainer as it was
  step_ = step;
  lr_scale_ = lr_scale;
  faults_ = faults;
  set_history(std::move(history));
}

void Trainer::set_history(std::vector<MetricsRow> rows) {
  history_ = std::move(rows);
  last_ = history_.empty() ? MetricsRow{} : history_.back();
}

// ---- views for the GUI -----------------------------------------------------------------------

void Trainer::fill_views(Snapshot& snapshot, const std::vector<size_t>& probe_indices) {
  const ModelSpec& spec = model_->spec();
  snapshot.level_names.clear();
  for (size_t level = 0; level + 1 < spec.layers.size(); ++level)
    snapshot.level_names.push_back(spec.layers[level].describe());
  snapshot.probes.clear();
  std::vector<size_t> indices;
  for (size_t i : probe_indices)
    if (i < train_.size()) indices.push_back(i);
  if (!indices.empty()) {
    const Shape shape{int(indices.size()), train_.channels, train_.height, train_.width};
    const std::vector<float> pixels = gather_images(train_, indices);
    std::vector<float> labels;
    for (size_t i : indices) labels.push_back(float(train_.labels[i]));
    Tensor images = backend_->alloc(shape), label_tensor = backend_->alloc(Shape{shape.n, 1, 1, 1});
    backend_->upload(images, pixels);
    backend_->upload(label_tensor, labels);
    model_->bottom_up(images, false);
    const std::vector<float> q = backend_->download(model_->class_probabilities());
    const std::vector<float> rendered =
        backend_->download(model_->top_down(label_tensor, options_.render_label_when_known));
    std::vector<std::vector<float>> per_level;
    for (size_t level = 0; level + 1 < spec.layers.size(); ++level)
      per_level.push_back(backend_->download(model_->reconstruct_from_level(level)));
    for (size_t p = 0; p < indices.size(); ++p) {
      ProbeView view;
      view.dataset_index = indices[p];
      view.label = train_.labels[indices[p]];
      view.class_probabilities.assign(q.begin() + p * spec.classes, q.begin() + (p + 1) * spec.classes);
      view.predicted = int(std::max_element(view.class_probabilities.begin(), view.class_probabilities.end()) -
                           view.class_probabilities.begin());
      view.input = slice_image(pixels, p, shape);
      view.reconstruction = slice_image(rendered, p, shape);
      view.reconstruction_r = pearson(view.input.data, view.reconstruction.data);
      for (const auto& level : per_level) {
        view.from_level.push_back(slice_image(level, p, shape));
        view.from_level_r.push_back(pearson(view.input.data, view.from_level.back().data));
      }
      snapshot.probes.push_back(std::move(view));
    }
  }
  // Filters: the first conv layer's Γ, and the templates of the deepest hidden conv layer
  // rendered down to pixels with every switch on (what each top-level template draws).
  snapshot.first_layer_filters.clear();
  snapshot.filter_renderings.clear();
  size_t first_conv = spec.layers.size(), deepest_hidden = spec.layers.size();
  for (size_t i = 0; i < spec.layers.size(); ++i)
    if (spec.layers[i].kind == LayerKind::Conv) {
      if (first_conv == spec.layers.size()) first_conv = i;
      if (spec.layers[i].relu) deepest_hidden = i;
    }
  if (first_conv < spec.layers.size()) {
    for (const Parameter& p : model_->parameters())
      if (p.name == spec.layers[first_conv].name + ".weight") {
        const std::vector<float> w = backend_->download(p.value);
        for (int o = 0; o < p.value.shape().n; ++o) snapshot.first_layer_filters.push_back(slice_image(w, size_t(o), p.value.shape()));
      }
  }
  if (deepest_hidden < spec.layers.size()) {
    const int units = std::min(spec.layers[deepest_hidden].filters, kMaxRenderedUnits);
    for (int c = 0; c < units; ++c)
      snapshot.filter_renderings.push_back(
          image_from(model_->render_unit(deepest_hidden, c), spec.channels, spec.height, spec.width));
  }
}

}  // namespace drmm
