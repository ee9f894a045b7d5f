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
  bool bias = false;           // conv only: a per-filter bias, bottom-up only (NRM, paper 004 Thm. 3.2)
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
  // The data the layer stack runs on. A preset's "input" and "classes" are the data it was made
  // for (optional in the JSON); a new run takes them from its dataset (fitted_to).
  int channels = 1, height = 28, width = 28, classes = 10;
  std::vector<LayerSpec> layers;
  LossWeights alpha;
  OptimizerSpec optimizer;
  float bn_momentum = 0.1f, bn_eps = 1e-5f;
  // Whether the top-down pass renders with batch norm's per-channel scale γ/√(σ²+ε) (running
  // statistics): z^{ℓ−1} = Γᵀ ∗ (γ/σ ⊙ a ⊙ z^ℓ), the transpose of the inference-mode map. Off in
  // every preset: the paper's rendering has no batch norm (Table 6), and with it the rendering
  // and the accuracy are worse (README "Batch norm in the rendering").
  bool bn_render_scale = false;
  // The Max-Min network (paper 004 §5, Fig. 5): a second bottom-up branch with the same weights,
  // negative ReLU min(h, 0) for ReLU and min pool for max pool; L_H is ½ CE of each branch's
  // logits and the class posterior is the softmax of their mean. The top-down pass renders with
  // the max branch's switches (the DRMM's; the min branch has no rendering of its own).
  bool max_min = false;

  size_t image_size() const { return size_t(channels) * size_t(height) * size_t(width); }  // C·H·W values

  // Checks the architecture and fills each layer's input/output shapes; throws drmm::Error
  // naming the layer and the problem (a pool that does not divide, a class layer whose
  // channels are not `classes`, a size that shrinks below 1).
  void resolve_shapes();
  // What resolve_shapes checks that holds for any input: unique layer names, the mean pool last,
  // a conv (the class layer) before it.
  void check_structure() const;
  // This layer stack on images of channels×height×width and `classes` classes: the class layer
  // (the conv before the mean pool) gets one filter per class. Throws drmm::Error naming the
  // layer that cannot take the images (a pool that does not divide, a map that shrinks below 1×1).
  ModelSpec fitted_to(int channels, int height, int width, int classes) const;
  // With the NRM's options (paper 004): `biases` gives every conv with a ReLU a bias (the prior of
  // its switch, Thm. 3.2), `max_min` adds the Max-Min network's min branch; an option already in
  // the architecture stays.
  ModelSpec with_nrm(bool biases, bool max_min) const;
  // Whether any layer has a term in the rendering prior η (a conv with a bias and a ReLU): what
  // the Rendering Path Normalization needs.
  bool has_rendering_prior() const;
  // The names of the levels a rendering can start from: every layer below the mean pool.
  std::vector<std::string> level_names() const;
  nlohmann::json to_json() const;
  static ModelSpec from_json(const nlohmann::json& json, const std::string& source);
};

// `name_or_path`: a preset name (tiny, tiny-maxmin, convsmall, convlarge) or a path to a JSON file.
ModelSpec load_model_spec(const std::string& name_or_path);
std::vector<std::string> preset_names();
// Whether each preset's layer stack takes images of channels×height×width with `classes`
// classes: `problem` is empty when it does, else why not (the layer that cannot take them).
struct PresetFit {
  std::string preset, problem;
};
std::vector<PresetFit> preset_fits(int channels, int height, int width, int classes);
std::string presets_dir();  // $DRMM_ASSETS_DIR/presets, else the installed share folder, else the source tree's

}  // namespace drmm
