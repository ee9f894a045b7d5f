#pragma once
// The rendering path of one image (DESIGN.md §3.4; paper 002 §3 and Fig. 2, "sum over paths"):
// the class it is rendered from and, per layer, which templates fired (a) and where (t), with
// each unit's contribution to Î. Given the latents the top-down pass is linear, so the
// rendering from any level is the sum of its units' own renderings, and switching units off
// re-renders Î without them. Everything here runs on the model's own top-down pass.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/model/drmm_model.h"

namespace drmm {

// The latents of one layer of the path: a at a conv's output, or t at a max pool's input.
struct PathLevel {
  size_t layer = 0;                  // index into ModelSpec::layers
  std::string name;                  // the layer's description, "conv1 32×5×5 full"
  bool is_pool = false;              // t (positions) rather than a (templates)
  int channels = 0, height = 0, width = 0;
  std::vector<float> on;             // the latents, 1 = on, C×H×W
  // Per unit u: its contribution ⟨Î_u, Î⟩ to ‖Î‖², where Î_u is what u renders alone; computed
  // for all units at once as z_u · ∂⟨Î, Î(z)⟩/∂z_u (the adjoint of the top-down pass). Sums to ‖Î‖²
  // over every level, because the pass is linear given the latents.
  std::vector<float> contribution;
  std::vector<float> channel_contribution;  // the same summed over each channel's positions

  size_t unit_count() const { return on.size(); }
  size_t unit(int c, int y, int x) const { return (size_t(c) * size_t(height) + size_t(y)) * size_t(width) + size_t(x); }
};

struct RenderingPath {
  int rendered_class = -1;           // the class Î is rendered from (ĉ unless chosen)
  int predicted = -1;                // ĉ = argmax q(c|I)
  std::vector<float> class_probabilities;
  int channels = 1, height = 0, width = 0;
  std::vector<float> input, rendered;  // I and Î, C×H×W
  double rendered_energy = 0;        // ‖Î‖²
  std::vector<PathLevel> levels;     // bottom (next to the pixels) to top
};

// Infers the path of `image` (C×H×W, inference mode) and renders Î from `render_class`
// (−1: from ĉ). Throws drmm::Error on a wrong image size or class.
RenderingPath infer_path(DrmmModel& model, std::span<const float> image, int render_class = -1);

// Units switched off, per path level (index into RenderingPath::levels): 1 = off.
class PathEdit {
 public:
  explicit PathEdit(const RenderingPath& path);
  void toggle_unit(size_t level, size_t unit);
  void set_channel(size_t level, int channel, bool off);
  void set_level(size_t level, bool off);
  void clear();
  bool off(size_t level, size_t unit) const { return off_[level][unit] != 0; }
  size_t off_count() const;
  const std::vector<uint8_t>& level_off(size_t level) const { return off_[level]; }

 private:
  const RenderingPath* path_;
  std::vector<std::vector<uint8_t>> off_;
};

// Re-renders Î from the path's class with its latents minus the switched-off units, with the
// model's current weights. No edit reproduces Î.
std::vector<float> render_edited(DrmmModel& model, const RenderingPath& path, const PathEdit& edit);
// What one unit of one level renders alone (every other unit of that level off).
std::vector<float> render_unit_alone(DrmmModel& model, const RenderingPath& path, size_t level, size_t unit);

// The units with the largest contributions over every level, strongest first.
struct PathUnit {
  size_t level = 0, unit = 0;
  int channel = 0, y = 0, x = 0;
  float contribution = 0;
};
std::vector<PathUnit> strongest_units(const RenderingPath& path, size_t count);

// Per-class statistics of the paths over a dataset: which units each class uses, and how much
// two classes' paths overlap.
struct PathStatistics {
  std::vector<std::string> level_names;   // one per latent level
  std::vector<int> level_channels;
  std::vector<size_t> class_counts;       // images per class (by label)
  // usage[c][ℓ][k]: the mean over class c's images of the fraction of level ℓ's channel-k units
  // that are on.
  std::vector<std::vector<std::vector<double>>> usage;
  // overlap[c][d]: weighted Jaccard index Σ_u min(p_c,u, p_d,u) / Σ_u max(p_c,u, p_d,u) of the
  // per-unit on-frequencies p over every unit of every latent level; 1 on the diagonal.
  std::vector<std::vector<double>> overlap;
  // frequency[c][ℓ][u]: the share of class c's images in which unit u of level ℓ is on: the
  // class-conditional latent frequencies π_{g|c} (paper 000: the prior π_cg is over class and
  // nuisance together), which generation can draw from.
  std::vector<std::vector<std::vector<float>>> frequency;
  std::vector<size_t> level_layers;       // index into ModelSpec::layers of each latent level
};
// Over the first `limit` images of `data` (0: all), grouped by their labels; `progress(done, total)`
// is called after every batch when given.
PathStatistics path_statistics(DrmmModel& model, const Dataset& data, size_t limit,
                               const std::function<void(size_t, size_t)>& progress = {});

// The path as JSON: class, q, per level its name, shape, the on units with their contribution,
// and the strongest units (`strongest` of them).
std::string path_to_json(const RenderingPath& path, const std::vector<std::string>& class_names, size_t strongest);

}  // namespace drmm
