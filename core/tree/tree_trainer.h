#pragma once
// Greedy InfoMax training of one E-DRMM tree (paper 001 §4.4, eq. 33; DESIGN.md §3.6).
//
// At each node the split is chosen among `candidates` proposals, each a set of K mutation
// templates α(g) over a small pixel support:
//   - class means: α(g) = mean of class c_g − mean of the node, for K random classes present;
//   - clustering: α(g) = mean of cluster g − mean of the node, for a K-means clustering of a
//     subsample of the node's data (the mutation templates of DESIGN.md §3.6);
//   - random projections: random ±1 (K = 2) or Gaussian (K > 2) sparse mutations.
// Each proposal's biases b(g) are then learned to maximise the information gain, and the
// proposal with the highest gain becomes the node's children.
#include <cstdint>
#include <span>
#include <vector>

#include "core/tree/features.h"
#include "core/tree/oblique_tree.h"

namespace drmm::tree {

struct TreeOptions {
  int children = 2;          // K ≥ 2 children per internal node
  int max_depth = 40;        // the root has depth 0
  int min_leaf = 1;          // every child of a split gets at least this many training samples
  int candidates = 12;       // split proposals evaluated per node
  int mutation_pixels = 16;  // pixels in a split's support; 0: the whole pool (dense templates)
  int pixel_pool = 128;      // pixels drawn per node for its proposals; a support is the pixels
                             // of the pool where its mutations differ most. 0: every pixel
};

// Throws drmm::Error naming the option when one is out of range.
void validate(const TreeOptions& options);

// Trains one tree on the given rows of `features` (indices, repeats allowed: a bootstrap
// sample), using only the pixels in `pixels` (all varying columns when empty). Deterministic
// for a given seed.
ObliqueTree train_tree(const QuantizedFeatures& features, std::span<const int> labels, int num_classes,
                       std::vector<uint32_t> rows, std::span<const uint32_t> pixels,
                       const TreeOptions& options, uint64_t seed);

}  // namespace drmm::tree
