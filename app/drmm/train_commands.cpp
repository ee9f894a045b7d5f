// drmm train | eval | reconstruct: training runs, test accuracy, and reconstructions from the
// command line (DESIGN.md §3.2).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "app/drmm/commands.h"
#include "app/drmm/model_loading.h"
#include "core/backend/select/backend_factory.h"
#include "core/train/image_export.h"
#include "core/train/metrics_csv.h"
#include "core/train/model_state.h"
#include "core/train/trainer.h"
#include "core/util/error.h"

namespace drmm::cli {
namespace {

struct TrainOptions {
  TrainConfig config;
  std::string out = "runs/latest";
  bool resume = false;
  bool epochs_given = false;  // --resume keeps the checkpoint's epochs unless --epochs is given
  bool quiet = false;
  int64_t checkpoint_every = 500;   // steps between checkpoints (besides epoch ends)
  double checkpoint_minutes = 5;    // and at most this long between two
  float alpha_h = -1, alpha_rc = -1, alpha_kl = -1, alpha_nn = -1;
  std::string kl_sign = "code", topdown = "label";
};

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
         << " H=" << m.loss_h << " RC=" << m.loss_rc << " KL=" << m.loss_kl << " NN=" << m.loss_nn
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

void apply_overrides(TrainOptions& o) {
  TrainConfig& c = o.config;
  if (o.alpha_h >= 0 || o.alpha_rc >= 0 || o.alpha_kl >= 0 || o.alpha_nn >= 0) {
    // An α given on the command line replaces the preset's; the others keep the preset's values.
    const ModelSpec spec = load_model_spec(c.preset);
    c.alpha = spec.alpha;
    c.alpha_from_preset = false;
    if (o.alpha_h >= 0) c.alpha.h = o.alpha_h;
    if (o.alpha_rc >= 0) c.alpha.rc = o.alpha_rc;
    if (o.alpha_kl >= 0) c.alpha.kl = o.alpha_kl;
    if (o.alpha_nn >= 0) c.alpha.nn = o.alpha_nn;
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

void run_train(TrainOptions& o) {
  std::filesystem::create_directories(o.out);
  const std::string checkpoint = o.out + "/checkpoint.bin";
  std::unique_ptr<Trainer> trainer;
  if (o.resume) {
    if (!std::filesystem::exists(checkpoint)) throw FileError(checkpoint, "nothing to resume: no checkpoint here");
    trainer = Trainer::resume(checkpoint, o.epochs_given ? o.config.epochs : 0);
  } else {
    apply_overrides(o);
    trainer = std::make_unique<Trainer>(o.config);
  }
  if (!trainer->backend_notice().empty()) std::cerr << trainer->backend_notice() << "\n";
  const TrainConfig& c = trainer->config();
  std::cerr << "training " << trainer->model().spec().name << " on " << trainer->train_data().name << " ("
            << trainer->train_data().size() << " images, N_L=" << trainer->split().labeled.size() << ") with "
            << trainer->backend().name() << ", α = (" << c.alpha.h << ", " << c.alpha.rc << ", " << c.alpha.kl << ", "
            << c.alpha.nn << "), " << trainer->total_steps() << " steps; writing " << o.out << "\n";
  MetricsCsv csv(o.out + "/metrics.csv", o.resume ? trainer->step_count() : -1, trainer->model().spec().level_names());
  ProgressLine progress(o.quiet);
  // A resumed run's history already holds the rows before its checkpoint, and metrics.csv has them.
  size_t written_rows = trainer->history().size();
  // A kill loses at most the steps since the last checkpoint: one every K steps, every M minutes
  // and at each epoch end (saves are atomic, so the newest complete one always loads).
  auto last_save = std::chrono::steady_clock::now();
  const auto save_interval = std::chrono::duration<double, std::ratio<60>>(o.checkpoint_minutes);
  size_t told_faults = 0;
  while (!trainer->finished()) {
    trainer->step();
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
  const EvalResult test = trainer->evaluate_test();
  std::cout << "test accuracy " << std::fixed << std::setprecision(4) << test.accuracy << " on " << test.count
            << " images after " << trainer->step_count() << " steps; checkpoint " << checkpoint << "\n";
  // The final step measured the rendering with its test accuracy; a resumed run that was
  // already finished took no step, so it measures now.
  if (c.render_limit > 0) {
    const RenderingQuality& last = trainer->last_metrics().rendering;
    print_rendering(last.count > 0 ? last : trainer->measure_test_rendering(), trainer->model().spec());
  }
}

void write_predictions(const std::string& path, const std::vector<int>& predicted) {
  std::ofstream out(path);
  for (const int c : predicted) out << c << "\n";
  if (!out.flush()) throw FileError(path, "cannot write it");
}

void write_floats(const std::string& path, const std::vector<float>& values) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(values.data()), std::streamsize(values.size() * sizeof(float)));
  if (!out.flush()) throw FileError(path, "cannot write it");
}

void print_confusion(const EvalResult& r, const std::vector<std::string>& names) {
  std::cout << "confusion matrix (rows: true class, columns: predicted)\n";
  for (size_t t = 0; t < r.confusion.size(); ++t) {
    std::cout << std::setw(14) << names[t].substr(0, 14);
    for (size_t p = 0; p < r.confusion[t].size(); ++p) std::cout << std::setw(6) << r.confusion[t][p];
    std::cout << "\n";
  }
}

}  // namespace

void register_train_commands(CLI::App& app) {
  auto options = std::make_shared<TrainOptions>();
  CLI::App* train = app.add_subcommand("train", "Train a DRMM (EG algorithm: E-step bottom-up and top-down, then a gradient step)");
  TrainConfig& c = options->config;
  train->add_option("--data", c.dataset, "Dataset: fashion-mnist, synthetic, or a path")->capture_default_str();
  train->add_option("--model", c.preset, "Model preset (tiny, convsmall, convlarge) or a preset JSON path")->capture_default_str();
  train->add_option("--labeled", c.labeled, "N_L: labeled images, balanced per class (the rest are unlabeled)")->capture_default_str();
  CLI::Option* epochs = train->add_option("--epochs", c.epochs, "Epochs (passes of the unlabeled stream over the training set)")
      ->check(kFinitePositive)->capture_default_str();
  train->add_option("--batch", c.batch_size, "Images per batch")->check(CLI::Range(2, 10000))->capture_default_str();
  train->add_option("--labeled-fraction", c.labeled_fraction, "Fraction of each batch that is labeled (paper: 0.5)")
      ->check(kFraction)->capture_default_str();
  train->add_option("--alpha-h", options->alpha_h, "α_H, weight of the cross-entropy L_H (default: the preset's)")->check(kFiniteNonNegative);
  train->add_option("--alpha-rc", options->alpha_rc, "α_RC, weight of the reconstruction loss L_RC")->check(kFiniteNonNegative);
  train->add_option("--alpha-kl", options->alpha_kl, "α_KL, weight of L_KL")->check(kFiniteNonNegative);
  train->add_option("--alpha-nn", options->alpha_nn, "α_NN, weight of the non-negativity penalty L_NN")->check(kFiniteNonNegative);
  train->add_option("--kl-sign", options->kl_sign,
                    "L_KL sign: 'code' (the authors' code, drives confident predictions) or 'paper' (KL(q||uniform))")
      ->check(CLI::IsMember({"code", "paper"}))->capture_default_str();
  train->add_option("--topdown", options->topdown, "Class rendered top-down: 'label' (true label when known, else ĉ) or 'predicted' (always ĉ)")
      ->check(CLI::IsMember({"label", "predicted"}))->capture_default_str();
  train->add_option("--optimizer", c.optimizer, "sgd or adam (default: the preset's)")->check(CLI::IsMember({"sgd", "adam"}));
  train->add_option("--lr", c.lr_start, "Initial learning rate (default: the preset's)")->check(kFinitePositive);
  train->add_option("--lr-end", c.lr_end, "Final learning rate; decays exponentially (default: the preset's)")->check(kFinitePositive);
  train->add_option("--momentum", c.momentum, "SGD momentum (default: the preset's)")->check(kFraction);
  train->add_option("--seed", c.seed, "Seed for the labeled split, initialisation and batch order")->capture_default_str();
  train->add_option("--test-every", c.test_every, "Steps between test evaluations (0: every epoch)");
  train->add_option("--test-limit", c.test_limit, "Evaluate on at most this many test images (0: all)");
  train->add_option("--render-limit", c.render_limit,
                    "Rendering quality measured at each evaluation on this many test images (0: none)")
      ->capture_default_str();
  train->add_option("--out", options->out, "Run folder: checkpoint.bin and metrics.csv")->capture_default_str();
  train->add_option("--checkpoint-every", options->checkpoint_every,
                    "Steps between checkpoints, besides every epoch end (0: only epoch ends and --checkpoint-minutes)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 40))->capture_default_str();
  train->add_option("--checkpoint-minutes", options->checkpoint_minutes,
                    "Minutes at most between two checkpoints (0: no time limit)")
      ->check(kFiniteNonNegative)->capture_default_str();
  train->add_flag("--resume", options->resume,
                  "Continue the run saved in --out exactly: its architecture, weights, optimiser state and step "
                  "(with --epochs as the new total); metrics.csv rows after the checkpoint are dropped");
  train->add_flag("--quiet", options->quiet, "No progress line");
  add_backend_options(train, c.backend, c.threads);
  train->callback([options, epochs] {
    options->epochs_given = epochs->count() > 0;
    run_train(*options);
  });

  struct EvalOptions {
    std::string checkpoint, data = "fashion-mnist", split = "test", backend = "cpu", predictions, logits;
    int threads = 0;
    size_t limit = 0, render_limit = 1000;
  };
  auto eval_options = std::make_shared<EvalOptions>();
  CLI::App* eval = app.add_subcommand(
      "eval", "Test accuracy, confusion matrix and rendering quality (r(I, Î), self-consistency) of a checkpoint");
  eval->add_option("--checkpoint", eval_options->checkpoint, "Checkpoint file")->required();
  eval->add_option("--data", eval_options->data, "Dataset")->capture_default_str();
  eval->add_option("--split", eval_options->split, "train or test")->check(CLI::IsMember({"train", "test"}))->capture_default_str();
  eval->add_option("--limit", eval_options->limit, "At most this many images (0: all)");
  eval->add_option("--render-limit", eval_options->render_limit,
                   "Rendering quality (r(I, Î), relative error, self-consistency, r per level) on the first this many "
                   "images (0: none)")
      ->capture_default_str();
  eval->add_option("--predictions", eval_options->predictions,
                   "Write the predicted class of every image, one per line, to this file");
  eval->add_option("--logits", eval_options->logits,
                   "Write the class scores (logits) of every image to this file: float32 little-endian, images × classes");
  add_backend_options(eval, eval_options->backend, eval_options->threads);
  eval->callback([eval_options] {
    const EvalOptions& o = *eval_options;
    LoadedModel loaded = load_for_inference(o.checkpoint, o.backend, o.threads);
    const Dataset data = load_dataset(o.data, parse_split(o.split));
    const EvalResult r = evaluate_model(*loaded.model, data, o.limit);
    std::cout << "accuracy " << std::fixed << std::setprecision(4) << r.accuracy << " on " << r.count << " "
              << o.split << " images of " << data.name << "\n";
    print_confusion(r, data.class_names);
    if (!o.predictions.empty()) write_predictions(o.predictions, r.predicted);
    if (!o.logits.empty()) write_floats(o.logits, r.scores);
    if (o.render_limit > 0) print_rendering(measure_rendering(*loaded.model, data, o.render_limit), loaded.model->spec());
  });

  struct ReconstructOptions {
    std::string checkpoint, data = "fashion-mnist", split = "test", out = "reconstruction", backend = "cpu",
                                topdown = "label";
    size_t index = 0;
    int threads = 0, scale = 4;
  };
  auto rec = std::make_shared<ReconstructOptions>();
  CLI::App* reconstruct = app.add_subcommand(
      "reconstruct", "PNGs of an image, its top-down reconstruction Î and the reconstruction from every level");
  reconstruct->add_option("--checkpoint", rec->checkpoint, "Checkpoint file")->required();
  reconstruct->add_option("--data", rec->data, "Dataset")->capture_default_str();
  reconstruct->add_option("--split", rec->split, "train or test")->check(CLI::IsMember({"train", "test"}))->capture_default_str();
  reconstruct->add_option("--index", rec->index, "Image index")->capture_default_str();
  reconstruct->add_option("--out", rec->out, "Output folder")->capture_default_str();
  reconstruct->add_option("--scale", rec->scale, "Upscaling of the PNGs")->check(CLI::Range(1, 32))->capture_default_str();
  reconstruct->add_option("--topdown", rec->topdown, "Render Î from the true 'label' or the 'predicted' class")
      ->check(CLI::IsMember({"label", "predicted"}))->capture_default_str();
  add_backend_options(reconstruct, rec->backend, rec->threads);
  reconstruct->callback([rec] {
    LoadedModel loaded = load_for_inference(rec->checkpoint, rec->backend, rec->threads);
    const Dataset data = load_dataset(rec->data, parse_split(rec->split));
    check_index(data, rec->index, "--index");
    std::filesystem::create_directories(rec->out);
    const auto files = write_reconstructions(*loaded.model, data, rec->index, rec->topdown == "label", rec->out, rec->scale);
    for (const std::string& f : files) std::cout << f << "\n";
  });
}

}  // namespace drmm::cli
