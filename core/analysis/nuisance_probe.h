#pragma once
// Linear decoding of known nuisances from a model's levels (the experiment of paper 002 §5:
// Nguyen, Liu, Perez, Baraniuk, Patel, Semi-Supervised Learning with the DRMM, CVPR 2017; here on
// the built-in synthetic set): at each level — the pixels, then every layer's bottom-up output —
// a linear probe is fitted on a training part of the images and scored on held-out images.
//   continuous nuisance: ridge regression on standardised features, λ chosen on a validation
//                        split of the training part; score held-out R² (chance 0)
//   discrete target:     a regularised least-squares classifier (ridge on the one-hot target,
//                        prediction the argmax); score held-out accuracy, chance the
//                        held-out rate of the training part's majority class
// A level with more values than ProbeOptions::max_features is average-pooled per channel to
// the largest g×g grid with channels·g² ≤ max_features (adaptive bins, as PyTorch's
// AdaptiveAvgPool2d): each feature still belongs to one region of the image, so position is
// kept at g×g resolution.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace drmm::analysis {

// N feature vectors of C×H×W values each, row-major.
struct ProbeLevel {
  std::string name;  // "pixels", "conv1", …
  size_t rows = 0;
  int channels = 1, height = 1, width = 1;
  std::vector<float> values;
  size_t cols() const { return size_t(channels) * size_t(height) * size_t(width); }
};

struct ProbeTarget {
  std::string name;
  bool discrete = false;      // values are class ids 0, 1, …
  std::vector<float> values;  // one per row
};

// The level average-pooled to at most `max_features` values per row (unchanged when it has no
// more than that already); see the header comment for the grid.
ProbeLevel pool_to_budget(const ProbeLevel& level, size_t max_features);

// A ridge regression y ≈ w·z + b on z = (x − mean) / scale, the statistics of the rows it was
// fitted on; `targets` columns are fitted together (k per row).
struct RidgeModel {
  std::vector<double> mean, scale;  // per feature
  std::vector<double> weights;      // d × k
  std::vector<double> bias;         // k
  size_t features = 0, targets = 0;
  // k predictions for one row of d features.
  std::vector<double> predict(const float* row) const;
};

// Ridge regression (the linear decoder of paper 002 §5): minimises Σ_i ‖y_i − W z_i − b‖² + λ‖W‖²
// in closed form, W = (ZᵀZ + λI)⁻¹ Zᵀ(Y − Ȳ), b = Ȳ (Z's columns have mean zero on the fitted rows). `x`: rows × d, `y`: rows × k; `rows` picks
// the rows used.
RidgeModel fit_ridge(const std::vector<float>& x, size_t d, const std::vector<double>& y, size_t k,
                     const std::vector<size_t>& rows, double lambda, int threads = 1);

// Held-out R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)², ȳ the mean over the scored values.
double r_squared(const std::vector<double>& truth, const std::vector<double>& predicted);

struct ProbeOptions {
  double heldout = 0.3;      // fraction of the images kept for scoring
  double validation = 0.25;  // fraction of the training part that picks λ
  uint64_t seed = 1;
  size_t max_features = 512;
  std::vector<double> lambdas = {0.1, 1, 10, 100, 1000, 10000};
  int threads = 1;
};

struct ProbeScore {
  size_t level = 0;  // 0: the first level given (the pixels)
  std::string level_name, target;
  bool discrete = false;
  size_t features = 0;  // after pooling
  double lambda = 0;    // the validated ridge strength
  double score = 0;     // held-out R² or accuracy
  double chance = 0;    // 0 for R², the majority rate for accuracy
};

// The training and held-out image indices of `rows` images for `options` (the same for every
// level and target, so scores are comparable).
struct ProbeSplit {
  std::vector<size_t> fit, validation, heldout;  // fit ∪ validation is the training part
};
ProbeSplit make_probe_split(size_t rows, const ProbeOptions& options);

// One score per (level, target). Throws drmm::Error when a level's or target's row count
// differs from the first level's, or there are too few rows to split.
std::vector<ProbeScore> probe_levels(const std::vector<ProbeLevel>& levels, const std::vector<ProbeTarget>& targets,
                                     const ProbeOptions& options);

}  // namespace drmm::analysis
