#pragma once
// Runs compared side by side (DRMM vs CNN): the same data, labeled split, seed and batch order,
// different objectives. The CNN is the DRMM's architecture trained on the cross-entropy L_H
// alone (α_RC = α_KL = α_NN = 0, paper 002 eq. 5–8); its weights still define a top-down pass,
// so its renderings Î can be drawn and measured like the DRMM's.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/model/drmm_model.h"
#include "core/model/rendering_path.h"
#include "core/train/snapshot.h"
#include "core/train/train_config.h"
#include "core/train/training_session.h"
#include "core/util/png_io.h"

namespace drmm {

class Trainer;

// `config` with L_H only: α_H stays the preset's (or the one set), the other weights are 0.
TrainConfig supervised_only(TrainConfig config);

// A digest of the labeled indices (FNV-1a, 64 bit): equal for runs that share the split.
uint64_t split_fingerprint(const LabeledSplit& split);

// Î of the first `count` images of `data`, rendered top-down from the predicted class ĉ (as
// measure_rendering does), in inference mode.
std::vector<ImageF> render_from_prediction(DrmmModel& model, const Dataset& data, size_t count);

// The first `count` images of `data`.
std::vector<ImageF> first_images(const Dataset& data, size_t count);

// ---- the studio's comparison mode: the CNN twin of the run on screen --------------------------

// A fresh session training the CNN twin of the run `main` trains: its configuration with L_H
// only (supervised_only), hence the same data, N_L, seed, labeled split and batch order. It
// starts at step 0 even when `main` continues a checkpoint (the twin has no weights to resume).
std::unique_ptr<TrainingSession> cnn_twin(const TrainingSession& main);

// What the studio shows of one of the compared runs, computed between two of its batches.
struct RunView {
  int64_t step = 0;                 // of the weights it was computed with
  std::vector<ImageF> inputs;       // the compared images: the first test images
  std::vector<ImageF> renderings;   // their Î, rendered from the predicted class ĉ
  std::vector<double> r;            // r(I, Î) of each
  RenderingPath path;               // the rendering path of the first of them
  std::vector<PathUnit> strongest;  // its strongest units over every level, strongest first
};
// `images` of the test images (the training images when there is no test split) and the
// `strongest` units of the first one's path.
RunView view_of_run(Trainer& trainer, size_t images, size_t strongest);

// The colour run `index` is drawn in (its curve and the band beside its renderings).
std::array<uint8_t, 3> run_color(size_t index);

struct ComparedRun {
  std::vector<MetricsRow> history;   // the rows with a test accuracy make the curve
  std::vector<ImageF> renderings;    // Î of the compared images
};

// The comparison picture (RGB): on top the test accuracy of every run over the training steps
// (y from 0 to 1, grid lines every 0.1; x from 0 to the last step), below it a row of the input
// images and one row of renderings per run, each row led by a band in the run's colour.
Image8 comparison_picture(const std::vector<ImageF>& inputs, const std::vector<ComparedRun>& runs, int scale);

}  // namespace drmm
