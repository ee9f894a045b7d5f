#pragma once
// The whole E-DRMM forest pipeline that both `drmm tree train` and the studio's Decision-trees
// panel run (paper 001 §4; paper 000 App. F): pick the training images (a seeded random subset,
// or all of them), turn them into the features the trees see (the pixels, or a model's
// bottom-up features at a level), train the forest, and measure its accuracy on held-out images.
#include <functional>
#include <vector>

#include "core/data/dataset.h"
#include "core/tree/forest.h"

namespace drmm::tree {

// Whole images (count × C·H·W values, one after the other) to the features the trees see, and
// the shape a feature row is drawn with. The studio computes them on the run's live model
// between two batches, the CLI on a checkpoint's model.
using FeatureMaker = std::function<std::vector<float>(std::vector<float> images, FeatureShape& shape)>;

struct ForestJob {
  ForestOptions options;
  size_t train_images = 0;    // 0 or ≥ the dataset: all of them, in the dataset's order
  size_t heldout_images = 0;  // then this many of the rest for the held-out accuracy (0: none)
  FeatureMaker features;      // empty: the pixels
};

struct ForestJobResult {
  Forest forest;
  size_t train_images = 0, heldout_images = 0;
  double heldout_accuracy = 0;  // the forest's vote on the held-out images
  double seconds = 0;
};

// Throws drmm::Error on bad options or data; `progress` (trees finished) may throw to cancel.
ForestJobResult run_forest_job(const Dataset& data, const ForestJob& job, const ForestProgress& progress = {});

}  // namespace drmm::tree
