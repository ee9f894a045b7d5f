#include "core/tree/tree_trainer.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "core/tree/information_gain.h"
#include "core/util/error.h"
#include "core/util/random.h"

namespace drmm::tree {

void validate(const TreeOptions& o) {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw Error("tree options: " + what);
  };
  require(o.children >= 2 && o.children <= 16, "children (K) must be in [2, 16]");
  require(o.max_depth >= 0 && o.max_depth <= 1000, "depth must be in [0, 1000]");
  require(o.min_leaf >= 1, "min-leaf must be at least 1");
  require(o.candidates >= 1, "candidates must be at least 1");
  require(o.mutation_pixels >= 0, "mutation-pixels must be 0 (all) or positive");
  require(o.pixel_pool >= 0, "pixel-pool must be 0 (all) or positive");
}

namespace {

// Nodes with at most this many samples try the threshold between every two distinct
// margins; larger ones try the edges of a histogram of the margins (as LightGBM does), which
// keeps the search linear in the node size.
constexpr size_t kExactSearchLimit = 256;
constexpr int kHistogramBins = 256;
// Clustering proposals run K-means on a subsample: the proposal only needs the directions
// along which the node's data spreads, not a converged clustering.
constexpr size_t kClusterSamples = 64;
constexpr size_t kClusterPixels = 48;
constexpr int kClusterIterations = 3;

// A split proposal: K mutations α(g) over a shared pixel support (real feature space), and
// the children's prior π(g) for the generative bias.
struct Proposal {
  std::vector<uint32_t> support;
  std::vector<float> alpha;  // K × support.size()
  std::vector<float> prior;  // K
};

struct Split {
  Proposal proposal;
  std::vector<float> bias;
  double cost = INFINITY;  // n · H[c̃ | g], see weighted_child_entropy
};

class TreeBuilder {
 public:
  TreeBuilder(const QuantizedFeatures& f, std::span<const int> labels, int classes, std::vector<uint32_t> rows,
              std::span<const uint32_t> pixels, const TreeOptions& o, uint64_t seed)
      : f_(f), labels_(labels), classes_(classes), K_(o.children), o_(o), rows_(std::move(rows)), rng_(seed),
        nlogn_(rows_.size() + 1) {
    // Ascending rows stay ascending in every node (the partition is stable), so each node
    // reads the feature rows front to back.
    std::sort(rows_.begin(), rows_.end());
    allowed_.assign(pixels.begin(), pixels.end());
    if (allowed_.empty()) allowed_ = f.varying_columns;
    proj_.resize(rows_.size() * size_t(K_));
    u_.resize(rows_.size());
    home_.resize(rows_.size());
    child_.resize(rows_.size());
    scratch_rows_.resize(rows_.size());
  }

  ObliqueTree build() {
    tree_.num_features = int(f_.cols);
    tree_.num_classes = classes_;
    tree_.root_template = mean_of_rows();
    tree_.nodes.push_back(TreeNode{});
    tree_.class_counts.assign(size_t(classes_), 0.f);
    grow(0, 0, rows_.size());
    return std::move(tree_);
  }

 private:
  // ---- the recursion ------------------------------------------------------------------------
  void grow(int node, size_t begin, size_t end) {
    const std::vector<int> counts = class_counts(begin, end);
    for (int c = 0; c < classes_; ++c) tree_.class_counts[size_t(node) * classes_ + c] = float(counts[c]);
    const size_t n = end - begin;
    const int present = int(std::count_if(counts.begin(), counts.end(), [](int c) { return c > 0; }));
    if (int(tree_.nodes[node].depth) >= o_.max_depth || n < size_t(K_) * size_t(o_.min_leaf) || present <= 1 ||
        allowed_.empty())
      return;
    draw_pool();
    gather_node_data(begin, end);
    const Split best = search_split(node, begin, end, counts);
    // H[c̃] − H[c̃|g] > 0 (eq. 33) or the node stays a leaf.
    if (!(best.cost < parent_cost(counts) - 1e-7)) return;
    assign_children(best, begin, end);
    const int first = add_children(node, best);
    std::vector<size_t> bounds = partition_rows(begin, end);
    for (int g = 0; g < K_; ++g) grow(first + g, bounds[g], bounds[g + 1]);
  }

  Split search_split(int node, size_t begin, size_t end, const std::vector<int>& counts) {
    const std::vector<float> parent_template = tree_.node_template(node);
    double parent_norm = 0;  // ‖μ(parent)‖², shared by every proposal's generative bias
    for (float v : parent_template) parent_norm += double(v) * v;
    Split best;
    for (int c = 0; c < o_.candidates; ++c) {
      Proposal p;
      if (!propose(c, begin, end, counts, p)) continue;
      project(p, begin, end);
      std::vector<float> bias = generative_biases(p, parent_template, parent_norm);
      const double cost = learn_biases(bias, begin, end);
      if (cost < best.cost) best = Split{std::move(p), std::move(bias), cost};
    }
    return best;
  }

  // n · H[c̃] of the node: the cost of not splitting.
  double parent_cost(const std::vector<int>& counts) const {
    return weighted_child_entropy(counts, 1, classes_, nlogn_);
  }

  int add_children(int node, const Split& s) {
    const int first = int(tree_.nodes.size());
    const uint32_t m = uint32_t(s.proposal.support.size());
    TreeNode& parent = tree_.nodes[node];
    parent.first_child = first;
    parent.num_children = uint32_t(K_);
    parent.support_begin = uint32_t(tree_.support.size());
    parent.support_size = m;
    const uint32_t depth = parent.depth + 1;
    for (uint32_t position : s.proposal.support) tree_.support.push_back(pool_[position]);
    for (int g = 0; g < K_; ++g) {
      TreeNode child;
      child.parent = node;
      child.depth = depth;
      child.mutation_begin = uint32_t(tree_.mutations.size());
      child.bias = s.bias[g];
      const float* a = s.proposal.alpha.data() + size_t(g) * m;
      tree_.mutations.insert(tree_.mutations.end(), a, a + m);
      tree_.nodes.push_back(child);
    }
    tree_.class_counts.resize(tree_.nodes.size() * size_t(classes_), 0.f);
    return first;
  }

  // Routes every sample of the node exactly as inference will (argmax, lowest index wins).
  void assign_children(const Split& s, size_t begin, size_t end) {
    project(s.proposal, begin, end);
    const size_t n = end - begin;
    for (size_t i = 0; i < n; ++i) child_[i] = uint8_t(argmax_child(i, n, s.bias.data()));
  }

  // The child sample i of an n-sample node goes to: argmax_g ⟨α(g)|I⟩ + b(g), lowest g on a tie.
  int argmax_child(size_t i, size_t n, const float* bias) const {
    int best = 0;
    float best_score = proj_[i] + bias[0];
    for (int g = 1; g < K_; ++g)
      if (proj_[g * n + i] + bias[g] > best_score) best_score = proj_[g * n + i] + bias[g], best = g;
    return best;
  }

  // Stable counting sort of rows_[begin, end) by child; returns the K + 1 segment bounds.
  std::vector<size_t> partition_rows(size_t begin, size_t end) {
    std::vector<size_t> bounds(K_ + 1, 0);
    for (size_t i = 0; i < end - begin; ++i) ++bounds[child_[i] + 1];
    bounds[0] = begin;
    for (int g = 0; g < K_; ++g) bounds[g + 1] += bounds[g];
    std::vector<size_t> next(bounds.begin(), bounds.end() - 1);
    for (size_t i = 0; i < end - begin; ++i) scratch_rows_[next[child_[i]]++] = rows_[begin + i];
    std::copy(scratch_rows_.begin() + begin, scratch_rows_.begin() + end, rows_.begin() + begin);
    return bounds;
  }

  // ---- statistics of a node ---------------------------------------------------------------
  std::vector<float> mean_of_rows() const {
    std::vector<uint64_t> sums(f_.cols, 0);
    for (uint32_t r : rows_) {
      const uint8_t* q = f_.row(r);
      for (size_t j = 0; j < f_.cols; ++j) sums[j] += q[j];
    }
    std::vector<float> mean(f_.cols);
    const double n = double(std::max<size_t>(rows_.size(), 1));
    for (size_t j = 0; j < f_.cols; ++j) mean[j] = f_.lo[j] + f_.scale[j] * float(double(sums[j]) / n);
    return mean;
  }

  std::vector<int> class_counts(size_t begin, size_t end) const {
    std::vector<int> counts(classes_, 0);
    for (size_t i = begin; i < end; ++i) ++counts[labels_[rows_[i]]];
    return counts;
  }

  // The pixels this node's proposals may use: `pixel_pool` of the tree's pixels, drawn anew at
  // every node (as a random forest draws features per node), sorted for a forward memory walk.
  void draw_pool() {
    const size_t P = o_.pixel_pool > 0 ? std::min(size_t(o_.pixel_pool), allowed_.size()) : allowed_.size();
    for (size_t k = 0; k < P && P < allowed_.size(); ++k)
      std::swap(allowed_[k], allowed_[k + rng_.below(allowed_.size() - k)]);
    pool_.assign(allowed_.begin(), allowed_.begin() + P);
    std::sort(pool_.begin(), pool_.end());
  }

  // Copies the node's samples at the pool pixels into node_data_ (pool-major: position k of
  // sample i at k·n + i, so a projection reads a few contiguous byte runs) and sums them per
  // class into pool_sums_. Rows are read whole-row-at-a-time through a small block, which
  // costs ~13 cache lines per sample instead of one miss per sample and pixel.
  void gather_node_data(size_t begin, size_t end) {
    const size_t P = pool_.size(), n = end - begin;
    constexpr size_t kBlock = 64;
    node_data_.resize(P * n);
    pool_sums_.assign(size_t(classes_) * P, 0);
    block_.resize(kBlock * P);
    node_labels_.resize(n);
    for (size_t b = 0; b < n; b += kBlock) {
      const size_t bn = std::min(kBlock, n - b);
      for (size_t i = 0; i < bn; ++i) {
        const uint32_t r = rows_[begin + b + i];
        const uint8_t* row = f_.row(r);
        uint8_t* dst = block_.data() + i * P;
        for (size_t k = 0; k < P; ++k) dst[k] = row[pool_[k]];
        node_labels_[b + i] = uint16_t(labels_[r]);
        int32_t* sums = pool_sums_.data() + size_t(labels_[r]) * P;  // 60k · 255 fits an int32
        for (size_t k = 0; k < P; ++k) sums[k] += dst[k];
      }
      for (size_t k = 0; k < P; ++k) {
        uint8_t* out = node_data_.data() + k * n + b;
        for (size_t i = 0; i < bn; ++i) out[i] = block_[i * P + k];
      }
    }
  }

  // Real value of pool position k in the pool-major node data.
  float pool_value(size_t k, size_t i, size_t n) const {
    return f_.lo[pool_[k]] + f_.scale[pool_[k]] * float(node_data_[k * n + i]);
  }

  float class_mean(int c, size_t k, int count) const {
    return f_.lo[pool_[k]] + f_.scale[pool_[k]] * float(pool_sums_[size_t(c) * pool_.size() + k]) / float(count);
  }

  float node_mean(size_t k, const std::vector<int>& counts, size_t n) const {
    int64_t sum = 0;
    for (int c = 0; c < classes_; ++c)
      if (counts[c] > 0) sum += pool_sums_[size_t(c) * pool_.size() + k];
    return f_.lo[pool_[k]] + f_.scale[pool_[k]] * float(double(sum) / double(n));
  }

  // ---- proposals ----------------------------------------------------------------------------
  bool propose(int index, size_t begin, size_t end, const std::vector<int>& counts, Proposal& p) {
    // Six in eight proposals are class-mean mutations: they carry the label information the
    // gain rewards, and on Fashion-MNIST they win most splits (measured: a forest of class-mean
    // proposals only beats one of half cluster or random ones by ~1 point). One in eight is a
    // cluster mutation and one a random projection: directions the class means miss.
    switch (index % 8) {
      case 6: return cluster_proposal(begin, end, counts, p);
      case 7: return random_proposal(p);
      default: return class_mean_proposal(begin, end, counts, p) || cluster_proposal(begin, end, counts, p);
    }
  }

  // `count` distinct pool positions at random, ascending.
  std::vector<uint32_t> draw_positions(size_t count) {
    std::vector<uint32_t> all(pool_.size());
    std::iota(all.begin(), all.end(), 0u);
    count = std::min(count, all.size());
    for (size_t k = 0; k < count; ++k) std::swap(all[k], all[k + rng_.below(all.size() - k)]);
    all.resize(count);
    std::sort(all.begin(), all.end());
    return all;
  }

  std::vector<uint32_t> all_positions() const {
    std::vector<uint32_t> all(pool_.size());
    std::iota(all.begin(), all.end(), 0u);
    return all;
  }

  // α(g) = mean of class c_g − mean of the node, for K distinct classes present at the node.
  bool class_mean_proposal(size_t begin, size_t end, const std::vector<int>& counts, Proposal& p) {
    std::vector<int> present;
    for (int c = 0; c < classes_; ++c)
      if (counts[c] > 0) present.push_back(c);
    if (int(present.size()) < K_) return false;
    for (int g = 0; g < K_; ++g) std::swap(present[g], present[g + rng_.below(present.size() - g)]);
    const std::vector<uint32_t> pool = all_positions();
    std::vector<float> alpha(size_t(K_) * pool.size());
    for (size_t k = 0; k < pool.size(); ++k) {
      const float mean = node_mean(k, counts, end - begin);
      for (int g = 0; g < K_; ++g) alpha[g * pool.size() + k] = class_mean(present[g], k, counts[present[g]]) - mean;
    }
    std::vector<float> prior(K_);
    for (int g = 0; g < K_; ++g) prior[g] = float(counts[present[g]]);
    return finish_proposal(pool, alpha, prior, p);
  }

  // α(g) = mean of cluster g − mean of the node, K-means on a subsample of the node.
  bool cluster_proposal(size_t begin, size_t end, const std::vector<int>& counts, Proposal& p) {
    const size_t n = end - begin, s = std::min(n, kClusterSamples);
    if (s < size_t(K_)) return false;
    const std::vector<uint32_t> pool = draw_positions(kClusterPixels);
    const size_t P = pool.size();
    std::vector<uint32_t> picked(s);
    for (size_t i = 0; i < s; ++i) picked[i] = uint32_t(s == n ? i : rng_.below(n));
    std::vector<float> x(s * P);
    for (size_t k = 0; k < P; ++k)
      for (size_t i = 0; i < s; ++i) x[i * P + k] = pool_value(pool[k], picked[i], n);
    std::vector<size_t> sizes;
    const std::vector<float> centers = k_means(x, s, P, sizes);
    std::vector<float> alpha(size_t(K_) * P), prior(K_);
    for (size_t k = 0; k < P; ++k) {
      const float mean = node_mean(pool[k], counts, n);
      for (int g = 0; g < K_; ++g) alpha[g * P + k] = centers[g * P + k] - mean;
    }
    for (int g = 0; g < K_; ++g) prior[g] = float(sizes[g] + 1);  // +1: no log 0 for an empty cluster
    return finish_proposal(pool, alpha, prior, p);
  }

  std::vector<float> k_means(const std::vector<float>& x, size_t s, size_t P, std::vector<size_t>& sizes) {
    std::vector<float> centers(size_t(K_) * P);
    std::vector<uint32_t> pick(s);
    std::iota(pick.begin(), pick.end(), 0u);
    for (int g = 0; g < K_; ++g) {
      std::swap(pick[g], pick[g + rng_.below(s - g)]);
      std::copy_n(x.begin() + pick[g] * P, P, centers.begin() + g * P);
    }
    std::vector<int> assignment(s, 0);
    for (int it = 0; it < kClusterIterations; ++it) {
      for (size_t i = 0; i < s; ++i) assignment[i] = nearest_center(&x[i * P], centers, P);
      std::vector<float> sums(size_t(K_) * P, 0.f);
      sizes.assign(K_, 0);
      for (size_t i = 0; i < s; ++i) {
        ++sizes[assignment[i]];
        for (size_t k = 0; k < P; ++k) sums[assignment[i] * P + k] += x[i * P + k];
      }
      for (int g = 0; g < K_; ++g)  // an emptied cluster keeps its center
        if (sizes[g] > 0)
          for (size_t k = 0; k < P; ++k) centers[g * P + k] = sums[g * P + k] / float(sizes[g]);
    }
    return centers;
  }

  int nearest_center(const float* x, const std::vector<float>& centers, size_t P) const {
    int best = 0;
    float best_d = INFINITY;
    for (int g = 0; g < K_; ++g) {
      float d = 0;
      for (size_t k = 0; k < P; ++k) d += (x[k] - centers[g * P + k]) * (x[k] - centers[g * P + k]);
      if (d < best_d) best_d = d, best = g;
    }
    return best;
  }

  // Sparse random mutations (as in sparse oblique forests): 1 … m random pixels with ±1
  // weights, α(1) = −α(0) for K = 2; Gaussian weights for K > 2.
  bool random_proposal(Proposal& p) {
    const size_t limit = o_.mutation_pixels > 0 ? size_t(o_.mutation_pixels) : pool_.size();
    const size_t m = 1 + rng_.below(std::min(limit, pool_.size()));
    std::vector<uint32_t> pool = draw_positions(m);
    std::vector<float> alpha(size_t(K_) * m);
    for (size_t k = 0; k < m; ++k) {
      if (K_ == 2) {
        alpha[k] = (rng_.next_u64() & 1) ? 1.f : -1.f;
        alpha[m + k] = -alpha[k];
      } else {
        for (int g = 0; g < K_; ++g) alpha[g * m + k] = float(rng_.normal());
      }
    }
    return finish_proposal(pool, alpha, std::vector<float>(K_, 1.f), p);
  }

  // Keeps the `mutation_pixels` pool pixels where the K mutations differ most (the pixels
  // that decide the argmax), sorted for a forward memory walk; false when they never differ.
  bool finish_proposal(const std::vector<uint32_t>& pool, const std::vector<float>& alpha,
                       std::vector<float> prior, Proposal& p) const {
    const size_t P = pool.size();
    std::vector<std::pair<float, uint32_t>> spread(P);
    for (size_t k = 0; k < P; ++k) {
      float lo = INFINITY, hi = -INFINITY;
      for (int g = 0; g < K_; ++g) lo = std::min(lo, alpha[g * P + k]), hi = std::max(hi, alpha[g * P + k]);
      spread[k] = {hi - lo, uint32_t(k)};
    }
    const size_t m = o_.mutation_pixels > 0 ? std::min(P, size_t(o_.mutation_pixels)) : P;
    std::partial_sort(spread.begin(), spread.begin() + m, spread.end(), std::greater<>());
    if (m == 0 || !(spread[0].first > 0)) return false;
    spread.resize(m);
    std::sort(spread.begin(), spread.end(), [&](auto& a, auto& b) { return pool[a.second] < pool[b.second]; });
    // Support entries are pool positions until the split is stored (add_children).
    p.support.resize(m);
    p.alpha.resize(size_t(K_) * m);
    for (size_t k = 0; k < m; ++k) {
      p.support[k] = pool[spread[k].second];
      for (int g = 0; g < K_; ++g) p.alpha[g * m + k] = alpha[g * P + spread[k].second];
    }
    float total = 0;
    for (float w : prior) total += w;
    for (float& w : prior) w /= total;
    p.prior = std::move(prior);
    return true;
  }

  // ---- scores and biases --------------------------------------------------------------------
  // proj_[g·n + i] = ⟨α(g) | I_i⟩ for the node's n samples, with I = lo + scale · q; reads the
  // support's contiguous runs of node_data_ (a loop the compiler vectorises).
  void project(const Proposal& p, size_t begin, size_t end) {
    const size_t m = p.support.size(), n = end - begin;
    for (int g = 0; g < K_; ++g) {
      float* out = proj_.data() + size_t(g) * n;
      float offset = 0;
      for (size_t k = 0; k < m; ++k) offset += p.alpha[g * m + k] * f_.lo[pool_[p.support[k]]];
      std::fill_n(out, n, offset);
      for (size_t k = 0; k < m; ++k) {
        const uint8_t* run = node_data_.data() + size_t(p.support[k]) * n;
        const float w = p.alpha[g * m + k] * f_.scale[pool_[p.support[k]]];
        for (size_t i = 0; i < n; ++i) out[i] += w * float(run[i]);
      }
    }
  }

  // The generative bias of the Gaussian rendering model, b(g) = −½‖W(g)‖² + ln π(g) with
  // W(g) = μ(parent) + α(g) and σ² = 1 (paper 001 eq. 7, the RMM E-step of eqs. 16–17): with
  // it, routing is "nearest template". It only starts the search: the discriminative
  // relaxation (paper 001 §4.2.1, eq. 25) frees the biases and InfoMax (eq. 33) learns them.
  std::vector<float> generative_biases(const Proposal& p, const std::vector<float>& parent, double parent_norm) const {
    const size_t m = p.support.size();
    std::vector<float> bias(K_);
    for (int g = 0; g < K_; ++g) {
      double norm = parent_norm;  // ‖μ + α‖² = ‖μ‖² + Σ_k (2 μ_k α_k + α_k²) over the support
      for (size_t k = 0; k < m; ++k) {
        const double a = p.alpha[g * m + k];
        norm += 2 * double(parent[pool_[p.support[k]]]) * a + a * a;
      }
      bias[g] = float(-0.5 * norm + std::log(std::max(p.prior[g], 1e-6f)));
    }
    return bias;
  }

  // Coordinate ascent on the biases, one child at a time, each to its gain-maximising value.
  // For K = 2 only b(0) − b(1) matters and one exhaustive pass over b(0) is the optimum.
  // For K > 2 the generative start may leave children under min_leaf; a step is taken when it
  // fills more children, or as many at a lower cost, and the result counts only if all are full.
  double learn_biases(std::vector<float>& bias, size_t begin, size_t end) {
    int short_children = 0;
    double cost = partition_cost(bias, begin, end, short_children);
    const int rounds = K_ == 2 ? 1 : 2, tuned = K_ == 2 ? 1 : K_;
    for (int round = 0; round < rounds; ++round)
      for (int g = 0; g < tuned; ++g) {
        float b = 0;
        int short_after = 0;
        const double c = best_bias(g, bias, begin, end, b, short_after);
        if (c < INFINITY && (short_after < short_children || (short_after == short_children && c < cost)))
          cost = c, bias[g] = b, short_children = short_after;
      }
    return short_children == 0 ? cost : INFINITY;
  }

  // n · H[c̃ | g] of the partition the biases give, and how many children are under min_leaf.
  double partition_cost(const std::vector<float>& bias, size_t begin, size_t end, int& short_children) const {
    std::vector<int> counts(size_t(K_) * classes_, 0), sizes(K_, 0);
    const size_t n = end - begin;
    for (size_t i = 0; i < n; ++i) {
      const int g = argmax_child(i, n, bias.data());
      ++counts[g * classes_ + node_labels_[i]];
      ++sizes[g];
    }
    short_children = int(std::count_if(sizes.begin(), sizes.end(), [&](int s) { return s < o_.min_leaf; }));
    return weighted_child_entropy(counts, K_, classes_, nlogn_);
  }

  // Sweeps b(g) from −∞ upward: a sample joins child g once its margin
  // u = ⟨α(g)|I⟩ − max_{h≠g}(⟨α(h)|I⟩ + b(h)) exceeds −b(g), leaving the child h it was in.
  // Returns the lowest cost n·H[c̃|g] over the thresholds tried and sets `best_b`.
  // A threshold is allowed when child g and every child that was full before the sweep have
  // min_leaf samples; `short_after` says how many children are still under it.
  double best_bias(int g, const std::vector<float>& bias, size_t begin, size_t end, float& best_b, int& short_after) {
    const size_t n = end - begin;
    Sweep sw{std::vector<int>(size_t(K_) * classes_, 0), std::vector<int>(K_, 0), 0.0, g, o_.min_leaf, {}};
    compute_margins(g, bias, n, sw);
    sw.cost = weighted_child_entropy(sw.counts, K_, classes_, nlogn_);
    for (int h = 0; h < K_; ++h) sw.must_stay_full.push_back(h != g && sw.sizes[h] >= o_.min_leaf);
    short_after = int(std::count(sw.must_stay_full.begin(), sw.must_stay_full.end(), false)) - 1;
    return n <= kExactSearchLimit ? sweep_exact(g, n, sw, best_b) : sweep_histogram(g, n, sw, best_b);
  }

  // Counts and sizes of the children, kept with the cost as samples move.
  struct Sweep {
    std::vector<int> counts, sizes;
    double cost;
    int g, min_leaf;
    std::vector<bool> must_stay_full;

    // Moves `k` samples of class c from child h to child g, updating the cost in O(1):
    // only the n log n terms of the four changed counts change.
    void move(int h, int g, int c, int k, int classes, const NLogNTable& nlogn) {
      int& from = counts[h * classes + c];
      int& to = counts[g * classes + c];
      cost += nlogn(size_t(from)) - nlogn(size_t(from - k)) - nlogn(size_t(sizes[h])) + nlogn(size_t(sizes[h] - k));
      cost += nlogn(size_t(sizes[g] + k)) - nlogn(size_t(sizes[g])) - nlogn(size_t(to + k)) + nlogn(size_t(to));
      from -= k, to += k, sizes[h] -= k, sizes[g] += k;
    }
    bool valid() const {
      if (sizes[g] < min_leaf) return false;
      for (size_t h = 0; h < sizes.size(); ++h)
        if (must_stay_full[h] && sizes[h] < min_leaf) return false;
      return true;
    }
  };

  // u_ and home_ (the child a sample is in while it is not in g) for every sample, and the
  // children's counts with g empty.
  void compute_margins(int g, const std::vector<float>& bias, size_t n, Sweep& sw) {
    u_lo_ = INFINITY, u_hi_ = -INFINITY;
    for (size_t i = 0; i < n; ++i) {
      int home = -1;
      float other = -INFINITY;
      for (int h = 0; h < K_; ++h) {
        const float score = proj_[h * n + i] + bias[h];
        if (h != g && (home < 0 || score > other)) other = score, home = h;
      }
      u_[i] = proj_[g * n + i] - other;
      u_lo_ = std::min(u_lo_, u_[i]), u_hi_ = std::max(u_hi_, u_[i]);
      home_[i] = uint8_t(home);
      ++sw.counts[home * classes_ + node_labels_[i]];
      ++sw.sizes[home];
    }
  }

  // Small nodes: every threshold between two distinct margins.
  double sweep_exact(int g, size_t n, Sweep& sw, float& best_b) {
    std::vector<uint32_t>& order = order_;
    order.resize(n);
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return u_[a] > u_[b]; });
    double best = INFINITY;
    for (size_t pos = 0; pos + 1 < n; ++pos) {
      const uint32_t i = order[pos];
      sw.move(home_[i], g, node_labels_[i], 1, classes_, nlogn_);
      const float next = u_[order[pos + 1]];
      if (next == u_[i] || sw.cost >= best || !sw.valid()) continue;
      best = sw.cost;
      best_b = float(-0.5 * (double(u_[i]) + double(next)));  // halfway to the next margin
    }
    return best;
  }

  // Large nodes: the edges of a kHistogramBins-bin histogram of the margins, moving a whole
  // bin's (home, class) counts at once, so the sweep costs O(bins · K · classes), not O(n).
  double sweep_histogram(int g, size_t n, Sweep& sw, float& best_b) {
    const int B = kHistogramBins, KC = K_ * classes_;
    const float inv_width = u_hi_ > u_lo_ ? float(B) / (u_hi_ - u_lo_) : 0.f;
    hist_.assign(size_t(B) * KC, 0);
    std::vector<float> bmin(B, INFINITY), bmax(B, -INFINITY);
    for (size_t i = 0; i < n; ++i) {
      // Bin 0 holds the highest margins: the sweep adds samples from the top.
      const int b = B - 1 - std::min(B - 1, int((u_[i] - u_lo_) * inv_width));
      ++hist_[size_t(b) * KC + home_[i] * classes_ + node_labels_[i]];
      bmin[b] = std::min(bmin[b], u_[i]), bmax[b] = std::max(bmax[b], u_[i]);
    }
    double best = INFINITY;
    int last = -1;  // the last non-empty bin moved
    for (int b = 0; b < B; ++b) {
      if (!(bmax[b] >= bmin[b])) continue;  // empty
      if (last >= 0 && sw.cost < best && sw.valid()) {
        best = sw.cost;
        best_b = float(-0.5 * (double(bmin[last]) + double(bmax[b])));  // between the two bins
      }
      const int* h = &hist_[size_t(b) * KC];
      for (int home = 0; home < K_; ++home)
        for (int c = 0; c < classes_; ++c)
          if (h[home * classes_ + c] > 0) sw.move(home, g, c, h[home * classes_ + c], classes_, nlogn_);
      last = b;
    }
    return best;
  }

  const QuantizedFeatures& f_;
  std::span<const int> labels_;
  const int classes_, K_;
  const TreeOptions o_;
  std::vector<uint32_t> rows_;
  Random rng_;
  NLogNTable nlogn_;
  std::vector<uint32_t> allowed_;
  ObliqueTree tree_;
  // Scratch reused by every node (a node is done with them before its children grow).
  std::vector<uint32_t> pool_;
  std::vector<uint8_t> node_data_, block_;
  std::vector<int32_t> pool_sums_;
  std::vector<float> proj_, u_;
  float u_lo_ = 0, u_hi_ = 0;
  std::vector<uint8_t> home_, child_;
  std::vector<uint32_t> order_;
  std::vector<int> hist_;
  std::vector<uint16_t> node_labels_;  // labels of the node's samples, in node order
  std::vector<uint32_t> scratch_rows_;
};

}  // namespace

ObliqueTree train_tree(const QuantizedFeatures& features, std::span<const int> labels, int num_classes,
                       std::vector<uint32_t> rows, std::span<const uint32_t> pixels, const TreeOptions& options,
                       uint64_t seed) {
  validate(options);
  if (num_classes < 1 || num_classes > 65535) throw Error("train_tree: the class count must be in [1, 65535]");
  if (labels.size() != features.rows) throw Error("train_tree: labels and feature rows differ in count");
  for (uint32_t r : rows)
    if (r >= features.rows || labels[r] < 0 || labels[r] >= num_classes)
      throw Error("train_tree: a row index or label is out of range");
  if (rows.empty()) throw Error("train_tree: no training rows");
  TreeBuilder builder(features, labels, num_classes, std::move(rows), pixels, options, seed);
  return builder.build();
}

}  // namespace drmm::tree
