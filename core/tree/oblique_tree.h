#pragma once
// One E-DRMM decision tree (paper 001 §4.1–4.2, paper 000 App. F; DESIGN.md §3.6).
//
// Every node c^ℓ has a template μ(c^ℓ), an image. Templates evolve by additive mutations:
// μ(child g) = μ(parent) + α(g) (paper 001 eq. 29), so the tree stores the root ancestor
// template μ(c^L) (the mean of the tree's training data) and, per non-root node, its mutation
// α and bias b. A node's template is the root plus the mutations along its path.
//
// Inference is coarse-to-fine on the input I0 at every node (eq. 31, ChooseChild(Filter(I0))):
//   g* = argmax_g ⟨W(c, g) | I0⟩ + b(c, g),   W(c, g) = μ(c) + α(g).
// The ⟨μ(c) | I0⟩ part is the same for every child of c, so routing needs only ⟨α(g) | I0⟩ + b;
// the full scores are still reported for display. Leaves hold label histograms p(c̃ | path)
// (paper 001 §4.2.1); every node keeps its training label counts (they drive learning and
// the GUI shows them).
//
// Mutations are sparse: the children of a node share one support (a set of pixels) and each
// child's α is zero outside it. That keeps a 10k-node tree in a few MB and routing cheap.
#include <cstdint>
#include <span>
#include <vector>

namespace drmm::tree {

struct TreeNode {
  int32_t parent = -1;        // −1 for the root
  int32_t first_child = -1;   // children are nodes first_child … first_child + num_children − 1
  uint32_t num_children = 0;  // 0 for a leaf; otherwise ≥ 2
  uint32_t depth = 0;         // root 0
  // Internal nodes: the pixels their children's mutations touch, support[support_begin …].
  uint32_t support_begin = 0, support_size = 0;
  // Non-root nodes: α over the parent's support, mutations[mutation_begin …].
  uint32_t mutation_begin = 0;
  float bias = 0;  // b in the score ⟨W | I0⟩ + b of this node as a child of its parent

  bool is_leaf() const { return num_children == 0; }
};

// One step of the path an input takes: at `node`, each child's full score ⟨W(c,g)|I0⟩ + b
// and the chosen child (the argmax; the lowest index wins a tie).
struct PathStep {
  int node = 0;
  std::vector<float> child_scores;
  int chosen = 0;  // index into child_scores
};

class ObliqueTree {
 public:
  int num_features = 0, num_classes = 0;
  std::vector<float> root_template;  // μ(c^L), num_features values
  std::vector<TreeNode> nodes;       // nodes[0] is the root
  std::vector<uint32_t> support;     // pixel indices, see TreeNode
  std::vector<float> mutations;      // α values, see TreeNode
  std::vector<float> class_counts;   // nodes.size() × num_classes training label counts

  // The leaf an input (num_features floats) reaches.
  int leaf_of(const float* input) const;
  // One routing step (eq. 31): the child of internal `node` the input goes to.
  int choose_child(int node, const float* input) const;
  // p(c̃ | leaf) of a leaf, added into `probabilities` (num_classes values).
  void add_distribution(int leaf, float* probabilities) const;
  // p(c̃ | leaf) of the leaf an input reaches, added into `probabilities` (num_classes values).
  void add_leaf_distribution(const float* input, float* probabilities) const;
  // The path from the root to the leaf, with every child's full score.
  std::vector<PathStep> path(const float* input) const;
  // The node's template μ: the root template plus the mutations along its path (eq. 29).
  std::vector<float> node_template(int node) const;
  std::span<const float> node_class_counts(int node) const {
    return {class_counts.data() + size_t(node) * size_t(num_classes), size_t(num_classes)};
  }
  std::span<const uint32_t> node_support(int node) const {
    return {support.data() + nodes[node].support_begin, nodes[node].support_size};
  }
  // α of a non-root node over its parent's support.
  std::span<const float> node_mutation(int node) const {
    return {mutations.data() + nodes[node].mutation_begin, nodes[nodes[node].parent].support_size};
  }
  int depth() const;
  int leaf_count() const;
};

}  // namespace drmm::tree
