#pragma once
// InfoMax (paper 001 §4.4, eq. 33): each split of an E-DRMM tree is learned by maximising
// the information gain H[c̃] − H[c̃ | g] between the training labels c̃ and the child g a
// sample is routed to. Entropies are in bits.
#include <cstddef>
#include <span>
#include <vector>

namespace drmm::tree {

// H = −Σ_c p_c log2 p_c with p_c = counts[c] / Σ counts; 0 for an empty histogram.
double entropy_bits(std::span<const double> counts);

// H[parent] − Σ_g (n_g / n) H[child g] (paper 001 eq. 33), where the parent histogram is the
// sum of the children's. Throws drmm::Error when the children's class counts differ in size.
double information_gain(const std::vector<std::vector<double>>& children);

// x · log2 x for integer counts, tabulated: the split search evaluates the gain after every
// threshold step, and a table lookup per changed count keeps that step O(1).
class NLogNTable {
 public:
  explicit NLogNTable(size_t max_count);
  double operator()(size_t n) const { return table_[n]; }
  size_t max_count() const { return table_.size() - 1; }

 private:
  std::vector<double> table_;
};

// Σ_g (n_g log2 n_g − Σ_c n_gc log2 n_gc) = n · H[c̃ | g]: the part of the gain a split
// controls. Minimising it maximises the gain, since H[c̃] is fixed by the node's data.
// `counts` holds children × classes integer counts, row-major.
double weighted_child_entropy(std::span<const int> counts, int children, int classes,
                              const NLogNTable& nlogn);

}  // namespace drmm::tree
