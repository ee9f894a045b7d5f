#pragma once
// A model's learned state (weights, optimiser state, batch-norm statistics, latent
// frequencies) to and from checkpoint contents, and evaluation of a model on a dataset.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/model/drmm_model.h"
#include "core/train/checkpoint.h"

namespace drmm {

// Adds every parameter (value, optimiser state) and buffer of `model` to `contents`.
void store_model_state(DrmmModel& model, CheckpointContents& contents);
// Loads them back; throws FileError (naming `path`) when a tensor is missing or has another shape.
void restore_model_state(DrmmModel& model, const CheckpointContents& contents, const std::string& path);
// The architecture saved in a checkpoint's header; throws FileError (naming `path`) without one.
ModelSpec model_spec_of(const CheckpointContents& contents, const std::string& path);
// Builds the model saved in a checkpoint (its architecture from the header) on `backend`.
std::unique_ptr<DrmmModel> load_model(const CheckpointContents& contents, const std::string& path, Backend& backend);

struct EvalResult {
  double accuracy = 0;
  size_t count = 0;
  std::vector<std::vector<size_t>> confusion;  // [true class][predicted class]
  std::vector<int> predicted;                  // per image: argmax_c q(c|I)
  std::vector<float> scores;                   // per image: the class scores s (the logits), count × classes
};

// Sets the latent frequencies π_a, π_t (DESIGN.md §3.4) of every layer with latents to the mean
// of its latents over the first `limit` images of `data` (0: all), bottom-up in inference mode:
// what a model that was not trained here (an import) needs before it can sample.
// `progress(done, total)` after every batch; it may throw to cancel (π is then left as it was).
void measure_latent_frequencies(DrmmModel& model, const Dataset& data, size_t limit = 0,
                                const std::function<void(size_t done, size_t total)>& progress = {});

// Test accuracy with the running batch-norm statistics (inference mode), in batches.
EvalResult evaluate_model(DrmmModel& model, const Dataset& data, size_t limit = 0);

// Bottom-up features of some images at one level: rows × (C·H·W) values, row-major.
struct FeatureMatrix {
  size_t rows = 0;
  Shape shape;  // per row (n = 1): C×H×W of the level's output
  std::vector<float> values;
};

// The bottom-up output of layer `level` (inference mode) for images `indices` of `data`.
FeatureMatrix extract_features(DrmmModel& model, const Dataset& data, std::span<const size_t> indices, size_t level);
// The same for `pixels`: whole images of the model's input size, one after the other.
FeatureMatrix extract_features(DrmmModel& model, std::span<const float> pixels, size_t level);
// Every level's bottom-up output for `pixels`, one pass per batch of images: `take(level, batch)`
// for each layer in order, batch after batch. For a caller that reduces each level as it comes
// (the nuisance probe pools them), so that no full-size level of every image is ever held, and the
// pass is not repeated per level.
void for_each_level_batch(DrmmModel& model, std::span<const float> pixels,
                          const std::function<void(size_t level, const FeatureMatrix& batch)>& take);

}  // namespace drmm
