#pragma once
// What `drmm train` and `drmm compare` share: their training options and the loop that trains
// one run into a folder (checkpoint.bin, metrics.csv) with a progress line.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "core/model/model_spec.h"
#include "core/train/model_state.h"
#include "core/train/trainer.h"

namespace drmm::cli {

// The objective and optimiser of a run: what may differ between the runs of a comparison.
struct ObjectiveOptions {
  float alpha_h = -1, alpha_rc = -1, alpha_kl = -1, alpha_nn = -1, alpha_rpn = -1;  // < 0: the preset's
  std::string kl_sign = "code", topdown = "label";
};

// The data, architecture, split, seed, batch order, evaluation and backend: what the runs of a
// comparison share. Returns the --epochs option (to tell whether it was given).
CLI::Option* add_setup_options(CLI::App* cmd, TrainConfig& config);
// --alpha-*, --kl-sign, --topdown, --nrm-biases, --max-min, --optimizer, --lr, --lr-end, --momentum.
void add_objective_options(CLI::App* cmd, TrainConfig& config, ObjectiveOptions& objective);
// Writes the objective options into `config` (an α given replaces the preset's; the others keep
// the preset's values).
void apply_objective(TrainConfig& config, const ObjectiveOptions& objective);

struct RunFolderOptions {
  std::string out = "runs/latest";
  bool resume = false;
  bool epochs_given = false;  // --resume keeps the checkpoint's epochs unless --epochs is given
  bool quiet = false;
  int64_t checkpoint_every = 500;  // steps between checkpoints (besides epoch ends)
  double checkpoint_minutes = 5;   // and at most this long between two
};

struct FinishedRun {
  std::unique_ptr<Trainer> trainer;
  EvalResult test;
  RenderingQuality rendering;  // count 0 when --render-limit is 0
  double wall_seconds = 0;  // the training loop, its evaluations and checkpoints (not the data loading)
  double median_step_seconds = 0;  // one batch's E-step and update (evaluation steps fall outside the median)
};

// Trains `config` (or resumes the run in folder.out) to the end, writing the checkpoint and
// metrics.csv there, and prints the test accuracy and rendering quality.
FinishedRun train_in_folder(const TrainConfig& config, const RunFolderOptions& folder);

void print_rendering(const RenderingQuality& q, const ModelSpec& spec);

}  // namespace drmm::cli
