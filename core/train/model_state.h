#pragma once
// A model's learned state (weights, optimiser state, batch-norm statistics, latent
// frequencies) to and from checkpoint contents, and evaluation of a model on a dataset.
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
// Builds the model saved in a checkpoint (its architecture from the header) on `backend`.
std::unique_ptr<DrmmModel> load_model(const CheckpointContents& contents, const std::string& path, Backend& backend);

struct EvalResult {
  double accuracy = 0;
  size_t count = 0;
  std::vector<std::vector<size_t>> confusion;  // [true class][predicted class]
};

// Test accuracy with the running batch-norm statistics (inference mode), in batches.
EvalResult evaluate_model(DrmmModel& model, const Dataset& data, size_t limit = 0);

// Uploads images [first, first + count) of `data` as one N×C×H×W tensor.
Tensor upload_images(Backend& backend, const Dataset& data, size_t first, size_t count);

}  // namespace drmm
