#include "core/tree/forest.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>

#include "core/util/error.h"
#include "core/util/random.h"

namespace drmm::tree {

void validate(const ForestOptions& o) {
  validate(o.tree);
  if (o.trees < 1) throw Error("forest options: trees must be at least 1");
  if (!(o.pixel_fraction > 0 && o.pixel_fraction <= 1)) throw Error("forest options: pixel-fraction must be in (0, 1]");
  if (o.threads < 0) throw Error("forest options: threads must be 0 (all cores) or positive");
}

std::vector<float> Forest::predict_proba(const float* input) const {
  std::vector<float> p(num_classes, 0.f);
  for (const ObliqueTree& t : trees) t.add_leaf_distribution(input, p.data());
  for (float& v : p) v /= float(std::max<size_t>(trees.size(), 1));
  return p;
}

int Forest::predict(const float* input) const {
  const std::vector<float> p = predict_proba(input);
  return int(std::max_element(p.begin(), p.end()) - p.begin());
}

void Forest::predict_proba_block(const float* rows, size_t count, size_t stride, float* probabilities) const {
  std::fill_n(probabilities, count * size_t(num_classes), 0.f);
  std::vector<int> node(count);
  for (const ObliqueTree& t : trees) {
    std::fill(node.begin(), node.end(), 0);
    for (bool moving = true; moving;) {
      moving = false;
      for (size_t i = 0; i < count; ++i)
        if (!t.nodes[node[i]].is_leaf()) node[i] = t.choose_child(node[i], rows + i * stride), moving = true;
    }
    for (size_t i = 0; i < count; ++i) t.add_distribution(node[i], probabilities + i * size_t(num_classes));
  }
  const float scale = 1.f / float(std::max<size_t>(trees.size(), 1));
  for (size_t i = 0; i < count * size_t(num_classes); ++i) probabilities[i] *= scale;
}

namespace {

int thread_count(int requested, size_t jobs) {
  const int hw = int(std::max(1u, std::thread::hardware_concurrency()));
  return int(std::min<size_t>(jobs, size_t(requested > 0 ? requested : hw)));
}

// Runs job(i) for i in [0, count) on `threads` threads, handing out indices one at a time
// (trees differ in cost); rethrows the first exception.
void run_parallel(size_t count, int threads, const std::function<void(size_t)>& job) {
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&] {
    for (size_t i; (i = next++) < count;) {
      try {
        job(i);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        next = count;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

// Tree t's own random stream: a SplitMix64 jump from the forest seed.
uint64_t tree_seed(uint64_t seed, size_t t) { return Random(seed ^ (0x9e3779b97f4a7c15ull * (t + 1))).next_u64(); }

std::vector<uint32_t> bootstrap_rows(size_t n, bool bootstrap, Random& rng) {
  std::vector<uint32_t> rows(n);
  for (size_t i = 0; i < n; ++i) rows[i] = uint32_t(bootstrap ? rng.below(n) : i);
  return rows;
}

std::vector<uint32_t> pixel_subset(const QuantizedFeatures& q, double fraction, Random& rng) {
  std::vector<uint32_t> pixels = q.varying_columns;
  if (fraction >= 1.0) return pixels;
  rng.shuffle(pixels);
  pixels.resize(std::max<size_t>(1, size_t(std::lround(fraction * double(pixels.size())))));
  std::sort(pixels.begin(), pixels.end());
  return pixels;
}

}  // namespace

Forest train_forest(const Features& features, std::span<const int> labels,
                    const std::vector<std::string>& class_names, const ForestOptions& options,
                    const ForestProgress& progress) {
  validate(options);
  if (labels.size() != features.rows) throw Error("train_forest: " + std::to_string(labels.size()) +
                                                  " labels for " + std::to_string(features.rows) + " rows");
  if (features.rows == 0) throw Error("train_forest: no training data");
  if (class_names.empty()) throw Error("train_forest: no classes");
  const QuantizedFeatures q = quantize(features);
  Forest forest;
  forest.num_features = int(features.cols);
  forest.num_classes = int(class_names.size());
  forest.shape = features.shape;
  forest.class_names = class_names;
  forest.trees.resize(size_t(options.trees));
  std::mutex progress_mutex;
  int finished = 0;
  run_parallel(forest.trees.size(), thread_count(options.threads, forest.trees.size()), [&](size_t t) {
    Random rng(tree_seed(options.seed, t));
    std::vector<uint32_t> rows = bootstrap_rows(features.rows, options.bootstrap, rng);
    const std::vector<uint32_t> pixels = pixel_subset(q, options.pixel_fraction, rng);
    forest.trees[t] = train_tree(q, labels, forest.num_classes, std::move(rows), pixels, options.tree, rng.next_u64());
    if (progress) {
      std::lock_guard lock(progress_mutex);
      progress(++finished, options.trees);
    }
  });
  return forest;
}

Evaluation evaluate(const Forest& forest, const Features& features, std::span<const int> labels, int threads) {
  if (features.cols != size_t(forest.num_features))
    throw Error("evaluate: the data has " + std::to_string(features.cols) + " features, the forest expects " +
                std::to_string(forest.num_features));
  if (labels.size() != features.rows) throw Error("evaluate: labels and rows differ in count");
  Evaluation e;
  e.samples = features.rows;
  e.predictions.resize(features.rows);
  // Images per block: every tree is walked for a whole block at a time, and a forest of
  // fully grown trees (100 MB for 100 trees on Fashion-MNIST) does not stay in cache, so a
  // block should be large enough to share each node's fetch among many images (64 took 0.9 s
  // for that forest's 10,000 test images on 2 threads, 512 and 1024 about 0.6 s), while its
  // images (2 MB at 512) still fit in the last-level cache.
  constexpr size_t kChunk = 512;
  const size_t chunks = (features.rows + kChunk - 1) / kChunk;
  run_parallel(chunks, thread_count(threads, chunks), [&](size_t c) {
    const size_t begin = c * kChunk, count = std::min(features.rows, begin + kChunk) - begin;
    std::vector<float> p(count * size_t(forest.num_classes));
    forest.predict_proba_block(features.row(begin), count, features.cols, p.data());
    for (size_t i = 0; i < count; ++i) {
      const float* row = p.data() + i * size_t(forest.num_classes);
      e.predictions[begin + i] = int(std::max_element(row, row + forest.num_classes) - row);
    }
  });
  e.class_samples.assign(forest.num_classes, 0);
  e.class_correct.assign(forest.num_classes, 0);
  for (size_t i = 0; i < features.rows; ++i) {
    const int truth = labels[i];
    if (truth < 0 || truth >= forest.num_classes) throw Error("evaluate: a label is outside the forest's classes");
    ++e.class_samples[truth];
    if (e.predictions[i] == truth) ++e.class_correct[truth], ++e.correct;
  }
  return e;
}

}  // namespace drmm::tree
