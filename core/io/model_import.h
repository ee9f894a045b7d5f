#pragma once
// An ONNX classifier made into a run of the app: imported (onnx_import.h), fitted to a dataset,
// its latent frequencies π measured on the dataset's training images, and saved as a checkpoint
// that every command and the studio open like one they trained.
#include <functional>
#include <string>

#include "core/io/onnx_import.h"
#include "core/train/model_state.h"
#include "core/train/train_config.h"

namespace drmm {

struct ModelImport {
  ImportedNetwork network;
  EvalResult test;         // accuracy on the dataset's test split (or its training images without one)
  size_t pi_images = 0;    // training images π was measured on
};

// `config.dataset` must have the network's image size and one class per score. Throws
// FileError or Error naming the file, the node or the mismatch.
// `progress(done, total)` reports the π pass (training images measured); it may throw to cancel,
// and then no checkpoint is written.
ModelImport import_model(const std::string& onnx_path, TrainConfig config, const std::string& checkpoint_out,
                         size_t pi_images = 0, const std::function<void(size_t done, size_t total)>& progress = {});

}  // namespace drmm
