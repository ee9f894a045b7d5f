#include "core/tree/forest_job.h"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "core/util/error.h"
#include "core/util/random.h"

namespace drmm::tree {
namespace {

// The images `indices` of `data`, one after the other, and their labels.
std::vector<float> gather(const Dataset& data, std::span<const size_t> indices, std::vector<int>& labels) {
  labels.clear();
  for (const size_t i : indices) labels.push_back(data.labels[i]);
  return gather_images(data, indices);
}

}  // namespace

ForestJobResult run_forest_job(const Dataset& data, const ForestJob& job, const ForestProgress& progress) {
  if (data.size() == 0) throw Error("dataset '" + data.name + "' has no images to train a forest on");
  const auto start = std::chrono::steady_clock::now();
  std::vector<size_t> order(data.size());
  std::iota(order.begin(), order.end(), size_t(0));
  const bool subset = job.train_images > 0 && job.train_images < data.size();
  if (subset) Random(job.options.seed).shuffle(order);  // a subset is a random one, seeded
  ForestJobResult result;
  result.train_images = subset ? job.train_images : data.size();
  result.heldout_images = std::min(job.heldout_images, data.size() - result.train_images);

  const auto features_of = [&](size_t first, size_t count, std::vector<float>& values, std::vector<int>& labels) {
    values = gather(data, std::span<const size_t>(order).subspan(first, count), labels);
    FeatureShape shape{data.channels, data.height, data.width};
    if (job.features) values = job.features(std::move(values), shape);
    return shape;
  };
  std::vector<float> values;
  std::vector<int> labels;
  const FeatureShape shape = features_of(0, result.train_images, values, labels);
  result.forest = train_forest(make_features(values, result.train_images, shape), labels, data.class_names, job.options,
                               progress);
  if (result.heldout_images > 0) {
    const FeatureShape heldout_shape = features_of(result.train_images, result.heldout_images, values, labels);
    result.heldout_accuracy =
        evaluate(result.forest, make_features(values, result.heldout_images, heldout_shape), labels, job.options.threads)
            .accuracy();
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace drmm::tree
