// drmm train | eval | reconstruct: training runs, test accuracy, and reconstructions from the
// command line (DESIGN.md §3.2).

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>

#include "app/drmm/commands.h"
#include "app/drmm/model_loading.h"
#include "app/drmm/train_options.h"
#include "core/backend/select/backend_factory.h"
#include "core/train/image_export.h"
#include "core/train/model_state.h"
#include "core/train/trainer.h"
#include "core/util/error.h"

namespace drmm::cli {
namespace {

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
  struct TrainOptions {
    TrainConfig config;
    ObjectiveOptions objective;
    RunFolderOptions folder;
  };
  auto options = std::make_shared<TrainOptions>();
  CLI::App* train = app.add_subcommand("train", "Train a DRMM (EG algorithm: E-step bottom-up and top-down, then a gradient step)");
  CLI::Option* epochs = add_setup_options(train, options->config);
  add_objective_options(train, options->config, options->objective);
  RunFolderOptions& folder = options->folder;
  train->add_option("--out", folder.out, "Run folder: checkpoint.bin and metrics.csv")->capture_default_str();
  train->add_option("--checkpoint-every", folder.checkpoint_every,
                    "Steps between checkpoints, besides every epoch end (0: only epoch ends and --checkpoint-minutes)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 40))->capture_default_str();
  train->add_option("--checkpoint-minutes", folder.checkpoint_minutes,
                    "Minutes at most between two checkpoints (0: no time limit)")
      ->check(kFiniteNonNegative)->capture_default_str();
  train->add_flag("--resume", folder.resume,
                  "Continue the run saved in --out exactly: its architecture, weights, optimiser state and step "
                  "(with --epochs as the new total); metrics.csv rows after the checkpoint are dropped");
  train->add_flag("--quiet", folder.quiet, "No progress line");
  train->callback([options, epochs] {
    options->folder.epochs_given = epochs->count() > 0;
    if (!options->folder.resume) apply_objective(options->config, options->objective);
    train_in_folder(options->config, options->folder);
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
