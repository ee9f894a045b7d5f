#include "core/tree/information_gain.h"

#include <cmath>

#include "core/util/error.h"

namespace drmm::tree {

double entropy_bits(std::span<const double> counts) {
  double total = 0;
  for (double c : counts) total += c;
  if (total <= 0) return 0;
  double h = 0;
  for (double c : counts)
    if (c > 0) h -= (c / total) * std::log2(c / total);
  return h;
}

double information_gain(const std::vector<std::vector<double>>& children) {
  if (children.empty()) return 0;
  const size_t classes = children[0].size();
  std::vector<double> parent(classes, 0.0);
  double total = 0;
  for (const auto& child : children) {
    if (child.size() != classes) throw Error("information_gain: children have different class counts");
    for (size_t c = 0; c < classes; ++c) parent[c] += child[c], total += child[c];
  }
  if (total <= 0) return 0;
  double conditional = 0;  // H[c̃ | g] = Σ_g p(g) H[c̃ | g]
  for (const auto& child : children) {
    double n = 0;
    for (double c : child) n += c;
    conditional += (n / total) * entropy_bits(child);
  }
  return entropy_bits(parent) - conditional;
}

NLogNTable::NLogNTable(size_t max_count) : table_(max_count + 1, 0.0) {
  for (size_t n = 2; n <= max_count; ++n) table_[n] = double(n) * std::log2(double(n));
}

double weighted_child_entropy(std::span<const int> counts, int children, int classes,
                              const NLogNTable& nlogn) {
  double sum = 0;
  for (int g = 0; g < children; ++g) {
    size_t n = 0;
    for (int c = 0; c < classes; ++c) {
      n += size_t(counts[g * classes + c]);
      sum -= nlogn(size_t(counts[g * classes + c]));
    }
    sum += nlogn(n);
  }
  return sum;
}

}  // namespace drmm::tree
