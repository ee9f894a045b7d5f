#pragma once
// A forest of E-DRMM trees by bootstrap aggregation (paper 001 §4.3, eq. 32):
// p(c̃ | I) ≈ (1/T) Σ_t p(c̃ | I, θ*_t), each tree trained on its own bootstrap sample
// (optionally on a random subset of the pixels too). Trees train in parallel; tree t's
// random stream depends only on (seed, t), so the forest does not depend on the thread count.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/tree/features.h"
#include "core/tree/oblique_tree.h"
#include "core/tree/tree_trainer.h"

namespace drmm::tree {

struct ForestOptions {
  TreeOptions tree;
  int trees = 100;
  bool bootstrap = true;        // false: every tree sees every training row once
  double pixel_fraction = 1.0;  // share of the pixels each tree may use, in (0, 1]
  int threads = 0;              // 0: std::thread::hardware_concurrency()
  uint64_t seed = 1;
};

void validate(const ForestOptions& options);

struct Forest {
  int num_features = 0, num_classes = 0;
  FeatureShape shape;                    // how a template is drawn as an image
  std::vector<std::string> class_names;  // num_classes entries (may be empty strings)
  std::vector<ObliqueTree> trees;

  // (1/T) Σ_t p(c̃ | leaf_t(I)) (eq. 32): num_classes probabilities.
  std::vector<float> predict_proba(const float* input) const;
  int predict(const float* input) const;
  // predict_proba of `count` rows (row i at rows + i · stride) into probabilities[i · classes …].
  // Walks each tree for the whole block level by level, so the cache misses of the different
  // rows' walks overlap, and a tree's top levels stay in cache for the block.
  void predict_proba_block(const float* rows, size_t count, size_t stride, float* probabilities) const;
};

// Called after each finished tree with (finished, total); may be called from worker threads
// (never two at once).
using ForestProgress = std::function<void(int finished, int total)>;

// Trains a forest on `features` with labels in [0, class_names.size()). Throws drmm::Error on
// a bad option or mismatched sizes.
Forest train_forest(const Features& features, std::span<const int> labels,
                    const std::vector<std::string>& class_names, const ForestOptions& options,
                    const ForestProgress& progress = {});

struct Evaluation {
  size_t samples = 0, correct = 0;
  std::vector<size_t> class_samples, class_correct;  // per true class
  std::vector<int> predictions;
  double accuracy() const { return samples ? double(correct) / double(samples) : 0.0; }
  double class_accuracy(int c) const {
    return class_samples[c] ? double(class_correct[c]) / double(class_samples[c]) : 0.0;
  }
};

// Predicts every row (in parallel on `threads` threads, 0: all cores) and counts hits.
Evaluation evaluate(const Forest& forest, const Features& features, std::span<const int> labels, int threads = 0);

}  // namespace drmm::tree
