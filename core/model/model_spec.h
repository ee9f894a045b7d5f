#pragma once
// A DRMM architecture and its training defaults, read from a JSON preset in assets/presets
// (DESIGN.md §3.2; ConvSmall and ConvLarge from paper 002 Table 6).
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "core/backend/backend.h"
#include "core/train/train_config.h"

namespace drmm {

enum class LayerKind { Conv, MaxPool, MeanPool };

struct LayerSpec {
  LayerKind kind = LayerKind::Conv;
  std::string name;            // "conv1", "pool1", "meanpool"
  int filters = 0;             // conv: output channels
  int kernel = 0;              // conv: kernel size; maxpool: window size
  ConvMode mode = ConvMode::Valid;
  bool batchnorm = true;       // conv only (bottom-up only: no batch norm top-down, Table 6)
  bool relu = true;            // conv only: a = [h > 0] is this layer's template switch
  Shape input, output;         // per image (n = 1), filled by ModelSpec::resolve_shapes
  std::string describe() const;  // "conv1 32×5×5 full", "pool1 2×2", "meanpool 6×6"
};

struct OptimizerSpec {
  std::string type = "sgd";    // sgd | adam
  double lr_start = 0.2, lr_end = 1e-4;  // exponential decay (paper 002 App. A)
  double momentum = 0.9;
};

struct ModelSpec {
  std::string name, description;
  int channels = 1, height = 28, width = 28, classes = 10;
  std::vector<LayerSpec> layers;
  LossWeights alpha;
  OptimizerSpec optimizer;
  float bn_momentum = 0.1f, bn_eps = 1e-5f;

  size_t image_size() const { return size_t(channels) * size_t(height) * size_t(width); }  // C·H·W values

  // Checks the architecture and fills each layer's input/output shapes; throws drmm::Error
  // naming the layer and the problem (a pool that does not divide, a class layer whose
  // channels are not `classes`, a size that shrinks below 1).
  void resolve_shapes();
  // The names of the levels a rendering can start from: every layer below the mean pool.
  std::vector<std::string> level_names() const;
  nlohmann::json to_json() const;
  static ModelSpec from_json(const nlohmann::json& json, const std::string& source);
};

// `name_or_path`: a preset name (tiny, convsmall, convlarge) or a path to a JSON file.
ModelSpec load_model_spec(const std::string& name_or_path);
std::vector<std::string> preset_names();
std::string presets_dir();  // $DRMM_ASSETS_DIR/presets, else the build's assets folder

}  // namespace drmm
