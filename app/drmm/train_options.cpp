#include "app/drmm/train_options.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "app/drmm/model_loading.h"
#include "core/train/metrics_csv.h"
#include "core/util/error.h"

namespace drmm::cli {
namespace {

// One line of progress: a bar, images/s, the loss terms and accuracies. On a terminal it
// redraws in place; otherwise (a log file, CI) it prints a line every few seconds.
class ProgressLine {
 public:
  explicit ProgressLine(bool quiet) : quiet_(quiet), tty_(::isatty(2)) {}
  void update(const Trainer& t, bool force) {
    if (quiet_) return;
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - last_ < (tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000))) return;
    last_ = now;
    const MetricsRow& m = t.last_metrics();
    const double fraction = double(t.step_count()) / double(t.total_steps());
    const int filled = int(fraction * 24);
    std::ostringstream line;
    line << "epoch " << std::fixed << std::setprecision(2) << t.epoch() << "/" << t.config().epochs << " ["
         << std::string(size_t(filled), '#') << std::string(size_t(24 - filled), '.') << "] " << std::setprecision(0)
         << fraction * 100 << "% " << m.images_per_second << " img/s  L=" << std::setprecision(4) << m.loss_total
         << " H=" << m.loss_h << " RC=" << m.loss_rc << " KL=" << m.loss_kl << " NN=" << m.loss_nn << " RPN=" << m.loss_rpn
         << " train_acc=" << std::setprecision(3) << m.train_accuracy;
    if (m.test_accuracy >= 0) last_test_ = m.test_accuracy;
    if (last_test_ >= 0) line << " test_acc=" << last_test_;
    std::cerr << (tty_ ? "\r\033[K" : "") << line.str() << (tty_ ? "" : "\n") << std::flush;
  }
  void finish() {
    if (!quiet_ && tty_) std::cerr << "\n";
  }

 private:
  bool quiet_, tty_;
  double last_test_ = -1;
  std::chrono::steady_clock::time_point last_{};
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median_of(std::vector<double> values) {
  if (values.empty()) return 0;
  const auto mid = values.begin() + std::ptrdiff_t(values.size() / 2);
  std::nth_element(values.begin(), mid, values.end());
  return *mid;
}

}  // namespace

CLI::Option* add_setup_options(CLI::App* cmd, TrainConfig& c) {
  cmd->add_option("--data", c.dataset, "Dataset: fashion-mnist, synthetic, or a path")->capture_default_str();
  cmd->add_option("--model", c.preset, "Model preset (tiny, tiny-maxmin, convsmall, convlarge) or a preset JSON path")->capture_default_str();
  cmd->add_option("--labeled", c.labeled, "N_L: labeled images, balanced per class (the rest are unlabeled)")->capture_default_str();
  CLI::Option* epochs = cmd->add_option("--epochs", c.epochs, "Epochs (passes of the unlabeled stream over the training set)")
      ->check(kFinitePositive)->capture_default_str();
  cmd->add_option("--batch", c.batch_size, "Images per batch")->check(CLI::Range(2, 10000))->capture_default_str();
  cmd->add_option("--labeled-fraction", c.labeled_fraction, "Fraction of each batch that is labeled (paper: 0.5)")
      ->check(kFraction)->capture_default_str();
  cmd->add_option("--seed", c.seed, "Seed for the labeled split, initialisation and batch order")->capture_default_str();
  cmd->add_option("--test-every", c.test_every, "Steps between test evaluations (0: every epoch)");
  cmd->add_option("--test-limit", c.test_limit, "Evaluate on at most this many test images (0: all)");
  cmd->add_option("--render-limit", c.render_limit,
                  "Rendering quality measured at each evaluation on this many test images (0: none)")
      ->capture_default_str();
  add_backend_options(cmd, c.backend, c.threads);
  return epochs;
}

void add_objective_options(CLI::App* cmd, TrainConfig& c, ObjectiveOptions& o) {
  cmd->add_option("--alpha-h", o.alpha_h, "α_H, weight of the cross-entropy L_H (default: the preset's)")->check(kFiniteNonNegative);
  cmd->add_option("--alpha-rc", o.alpha_rc, "α_RC, weight of the reconstruction loss L_RC")->check(kFiniteNonNegative);
  cmd->add_option("--alpha-kl", o.alpha_kl, "α_KL, weight of L_KL")->check(kFiniteNonNegative);
  cmd->add_option("--alpha-nn", o.alpha_nn, "α_NN, weight of the non-negativity penalty L_NN")->check(kFiniteNonNegative);
  cmd->add_option("--alpha-rpn", o.alpha_rpn,
                  "α_RPN, weight of the NRM's Rendering Path Normalization L_RPN (default: the preset's, 0); needs conv "
                  "biases (--nrm-biases)")
      ->check(kFiniteNonNegative);
  cmd->add_flag("--nrm-biases", c.nrm_biases,
                "NRM: a bias on every conv with a ReLU, the prior of its template switch (the architecture's own biases stay)");
  cmd->add_flag("--max-min", c.max_min,
                "NRM: the Max-Min network, a min branch sharing the weights (negative ReLU, min pool); L_H is half the "
                "cross-entropy of each branch and the prediction the mean of their scores");
  cmd->add_option("--kl-sign", o.kl_sign,
                  "L_KL sign: 'code' (the authors' code, drives confident predictions) or 'paper' (KL(q||uniform))")
      ->check(CLI::IsMember({"code", "paper"}))->capture_default_str();
  cmd->add_option("--topdown", o.topdown, "Class rendered top-down: 'label' (true label when known, else ĉ) or 'predicted' (always ĉ)")
      ->check(CLI::IsMember({"label", "predicted"}))->capture_default_str();
  cmd->add_option("--optimizer", c.optimizer, "sgd or adam (default: the preset's)")->check(CLI::IsMember({"sgd", "adam"}));
  cmd->add_option("--lr", c.lr_start, "Initial learning rate (default: the preset's)")->check(kFinitePositive);
  cmd->add_option("--lr-end", c.lr_end, "Final learning rate; decays exponentially (default: the preset's)")->check(kFinitePositive);
  cmd->add_option("--momentum", c.momentum, "SGD momentum (default: the preset's)")->check(kFraction);
}

void apply_objective(TrainConfig& c, const ObjectiveOptions& o) {
  if (o.alpha_h >= 0 || o.alpha_rc >= 0 || o.alpha_kl >= 0 || o.alpha_nn >= 0 || o.alpha_rpn >= 0) {
    const ModelSpec spec = load_model_spec(c.preset);
    c.alpha = spec.alpha;
    c.alpha_from_preset = false;
    if (o.alpha_h >= 0) c.alpha.h = o.alpha_h;
    if (o.alpha_rc >= 0) c.alpha.rc = o.alpha_rc;
    if (o.alpha_kl >= 0) c.alpha.kl = o.alpha_kl;
    if (o.alpha_nn >= 0) c.alpha.nn = o.alpha_nn;
    if (o.alpha_rpn >= 0) c.alpha.rpn = o.alpha_rpn;
  }
  c.kl_paper_sign = o.kl_sign == "paper";
  c.topdown_class = o.topdown == "predicted" ? TopDownClass::Predicted : TopDownClass::LabelWhenKnown;
}

void print_rendering(const RenderingQuality& q, const ModelSpec& spec) {
  std::cout << std::fixed << std::setprecision(4) << "rendering (Î from the predicted class, " << q.count
            << " images): r(I, Î) mean " << q.r_mean << " median " << q.r_median
            << ", relative error after gain " << q.relative_error << ", self-consistency " << q.self_consistency
            << "\nr(I, reconstruction from level):";
  const std::vector<std::string> names = spec.level_names();
  for (size_t level = 0; level < q.level_r.size(); ++level) std::cout << " " << names[level] << " " << q.level_r[level];
  std::cout << "\n";
}

FinishedRun train_in_folder(const TrainConfig& config, const RunFolderOptions& o) {
  std::filesystem::create_directories(o.out);
  const std::string checkpoint = o.out + "/checkpoint.bin";
  std::unique_ptr<Trainer> trainer;
  if (o.resume) {
    if (!std::filesystem::exists(checkpoint)) throw FileError(checkpoint, "nothing to resume: no checkpoint here");
    trainer = Trainer::resume(checkpoint, o.epochs_given ? config.epochs : 0);
  } else {
    trainer = std::make_unique<Trainer>(config);
  }
  if (!trainer->backend_notice().empty()) std::cerr << trainer->backend_notice() << "\n";
  const TrainConfig& c = trainer->config();
  std::cerr << "training " << trainer->model().spec().name << " on " << trainer->train_data().name << " ("
            << trainer->train_data().size() << " images, N_L=" << trainer->split().labeled.size() << ") with "
            << trainer->backend().name() << ", α = (" << c.alpha.h << ", " << c.alpha.rc << ", " << c.alpha.kl << ", "
            << c.alpha.nn << ", RPN " << c.alpha.rpn << ")" << (trainer->model().spec().max_min ? ", Max-Min" : "") << ", "
            << trainer->total_steps() << " steps; writing " << o.out << "\n";
  MetricsCsv csv(o.out + "/metrics.csv", o.resume ? trainer->step_count() : -1, trainer->model().spec().level_names());
  ProgressLine progress(o.quiet);
  // A resumed run's history already holds the rows before its checkpoint, and metrics.csv has them.
  size_t written_rows = trainer->history().size();
  // A kill loses at most the steps since the last checkpoint: one every K steps, every M minutes
  // and at each epoch end (saves are atomic, so the newest complete one always loads).
  auto last_save = std::chrono::steady_clock::now();
  const auto save_interval = std::chrono::duration<double, std::ratio<60>>(o.checkpoint_minutes);
  size_t told_faults = 0;
  std::vector<double> step_seconds;
  const auto started = std::chrono::steady_clock::now();
  while (!trainer->finished()) {
    const auto step_started = std::chrono::steady_clock::now();
    trainer->step();
    step_seconds.push_back(seconds_since(step_started));
    for (; told_faults < trainer->fault_notices().size(); ++told_faults)
      std::cerr << "\ndrmm: warning: " << trainer->fault_notices()[told_faults] << "\n";
    for (; written_rows < trainer->history().size(); ++written_rows) csv.append(trainer->history()[written_rows]);
    const int64_t step = trainer->step_count();
    const bool epoch_end = step % trainer->steps_per_epoch() == 0;
    const auto now = std::chrono::steady_clock::now();
    if (epoch_end || (o.checkpoint_every > 0 && step % o.checkpoint_every == 0) ||
        (o.checkpoint_minutes > 0 && now - last_save >= save_interval)) {
      trainer->save(checkpoint);
      last_save = now;
    }
    progress.update(*trainer, epoch_end);
  }
  progress.update(*trainer, true);
  progress.finish();
  trainer->save(checkpoint);
  FinishedRun run;
  run.wall_seconds = seconds_since(started);
  run.median_step_seconds = median_of(std::move(step_seconds));
  run.test = trainer->evaluate_test();
  std::cout << "test accuracy " << std::fixed << std::setprecision(4) << run.test.accuracy << " on " << run.test.count
            << " images after " << trainer->step_count() << " steps; checkpoint " << checkpoint << "\n";
  // The final step measured the rendering with its test accuracy; a resumed run that was
  // already finished took no step, so it measures now.
  if (c.render_limit > 0) {
    const RenderingQuality& last = trainer->last_metrics().rendering;
    run.rendering = last.count > 0 ? last : trainer->measure_test_rendering();
    print_rendering(run.rendering, trainer->model().spec());
  }
  run.trainer = std::move(trainer);
  return run;
}

}  // namespace drmm::cli
