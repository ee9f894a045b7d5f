#include "core/tree/oblique_tree.h"

#include <algorithm>
#include <cmath>

namespace drmm::tree {

namespace {

// ⟨α | I0⟩ over a sparse support.
float sparse_dot(const float* alpha, const uint32_t* support, uint32_t size, const float* input) {
  float sum = 0;
  for (uint32_t k = 0; k < size; ++k) sum += alpha[k] * input[support[k]];
  return sum;
}

}  // namespace

int ObliqueTree::choose_child(int node, const float* input) const {
  // eq. 31 with the parent's ⟨μ(c)|I0⟩ dropped: it is common to every child.
  const TreeNode& n = nodes[node];
  const uint32_t* sup = support.data() + n.support_begin;
  int best = n.first_child;
  float best_score = -INFINITY;
  for (uint32_t g = 0; g < n.num_children; ++g) {
    const TreeNode& child = nodes[n.first_child + g];
    const float score = sparse_dot(mutations.data() + child.mutation_begin, sup, n.support_size, input) + child.bias;
    if (score > best_score) best_score = score, best = n.first_child + int(g);
  }
  return best;
}

int ObliqueTree::leaf_of(const float* input) const {
  int node = 0;
  while (!nodes[node].is_leaf()) node = choose_child(node, input);
  return node;
}

void ObliqueTree::add_leaf_distribution(const float* input, float* probabilities) const {
  add_distribution(leaf_of(input), probabilities);
}

void ObliqueTree::add_distribution(int leaf, float* probabilities) const {
  const std::span<const float> counts = node_class_counts(leaf);
  float total = 0;
  for (float c : counts) total += c;
  if (total <= 0) return;
  for (int c = 0; c < num_classes; ++c) probabilities[c] += counts[c] / total;
}

std::vector<PathStep> ObliqueTree::path(const float* input) const {
  std::vector<PathStep> steps;
  // ⟨μ(c)|I0⟩ carried down the path: ⟨μ(child)|I0⟩ = ⟨μ(parent)|I0⟩ + ⟨α|I0⟩ (eq. 29).
  float parent_dot = 0;
  for (int j = 0; j < num_features; ++j) parent_dot += root_template[j] * input[j];
  int node = 0;
  while (!nodes[node].is_leaf()) {
    const TreeNode& n = nodes[node];
    PathStep step{node, {}, 0};
    std::vector<float> dots;
    for (uint32_t g = 0; g < n.num_children; ++g) {
      const TreeNode& child = nodes[n.first_child + g];
      dots.push_back(parent_dot + sparse_dot(mutations.data() + child.mutation_begin,
                                             support.data() + n.support_begin, n.support_size, input));
      step.child_scores.push_back(dots.back() + child.bias);
    }
    // Route with choose_child so the path is exactly what classification does, even where
    // the full scores' rounding would break a near-tie differently.
    const int next = choose_child(node, input);
    step.chosen = next - n.first_child;
    parent_dot = dots[step.chosen];
    steps.push_back(std::move(step));
    node = next;
  }
  steps.push_back(PathStep{node, {}, -1});
  return steps;
}

std::vector<float> ObliqueTree::node_template(int node) const {
  std::vector<float> t = root_template;
  for (int n = node; nodes[n].parent >= 0; n = nodes[n].parent) {
    const TreeNode& parent = nodes[nodes[n].parent];
    const float* alpha = mutations.data() + nodes[n].mutation_begin;
    for (uint32_t k = 0; k < parent.support_size; ++k) t[support[parent.support_begin + k]] += alpha[k];
  }
  return t;
}

int ObliqueTree::depth() const {
  uint32_t d = 0;
  for (const TreeNode& n : nodes) d = std::max(d, n.depth);
  return int(d);
}

int ObliqueTree::leaf_count() const {
  return int(std::count_if(nodes.begin(), nodes.end(), [](const TreeNode& n) { return n.is_leaf(); }));
}

}  // namespace drmm::tree
