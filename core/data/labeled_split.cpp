// make_labeled_split: the N_L labeled images of a semi-supervised run (DESIGN.md §3.7),
// equal per class so no class is learned from fewer examples than another.
#include <algorithm>

#include "core/data/dataset.h"
#include "core/util/error.h"
#include "core/util/random.h"

namespace drmm {
namespace {

std::vector<std::vector<size_t>> indices_by_class(const Dataset& data) {
  std::vector<std::vector<size_t>> by_class(size_t(data.num_classes()));
  for (size_t i = 0; i < data.size(); ++i) by_class[size_t(data.labels[i])].push_back(i);
  return by_class;
}

// How many labeled images class `c` gets: an equal share, the remainder to the first classes.
size_t quota(size_t labeled_count, size_t classes, size_t c) {
  return labeled_count / classes + (c < labeled_count % classes ? 1 : 0);
}

}  // namespace

LabeledSplit make_labeled_split(const Dataset& data, size_t labeled_count, uint64_t seed) {
  if (data.num_classes() == 0) throw Error(data.name + ": cannot split a dataset without classes");
  std::vector<std::vector<size_t>> by_class = indices_by_class(data);
  Random rng(seed);
  std::vector<bool> labeled(data.size(), false);
  for (size_t c = 0; c < by_class.size(); ++c) {
    const size_t wanted = quota(labeled_count, by_class.size(), c);
    if (by_class[c].size() < wanted)
      throw Error(data.name + ": class '" + data.class_names[c] + "' has " + std::to_string(by_class[c].size()) +
                  " images, but a balanced split of " + std::to_string(labeled_count) + " labeled images needs " +
                  std::to_string(wanted) + " from it");
    rng.shuffle(by_class[c]);
    for (size_t k = 0; k < wanted; ++k) labeled[by_class[c][k]] = true;
  }
  LabeledSplit split;
  for (size_t i = 0; i < data.size(); ++i) (labeled[i] ? split.labeled : split.unlabeled).push_back(i);
  return split;
}

}  // namespace drmm
