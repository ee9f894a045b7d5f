// `drmm tree train|eval|path`: E-DRMM decision forests (DESIGN.md §3.6) on a dataset's pixels or on a
// trained DRMM's features at one layer.
#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <memory>
#include <numeric>

#include "app/drmm/commands.h"
#include "core/backend/cpu/cpu_backend.h"
#include "core/data/dataset.h"
#include "core/train/model_state.h"
#include "core/tree/forest.h"
#include "core/tree/forest_io.h"
#include "core/tree/forest_job.h"
#include "core/util/error.h"

namespace drmm::cli {
namespace {

using tree::Forest;
using tree::ForestOptions;

struct TreeCliOptions {
  std::string data = "fashion-mnist";
  std::string split;  // empty: the command's default
  size_t limit = 0;   // 0: every image
  std::string forest = "forest.bin";
  ForestOptions train;
  bool no_bootstrap = false;
  size_t index = 0;
  int tree = 0;
  int threads = 0;
  std::string features_from;  // a DRMM checkpoint: trees on its features instead of pixels
  std::string layer;          // the level those features come from: a layer name or 1-based index
  size_t images = 0;          // train on a random subset of this many (0: all)
  size_t heldout = 0;         // and measure the accuracy on this many others
};

// The rows the trees see: the pixels, or a trained DRMM's bottom-up features at a layer
// (DESIGN.md §3.6: "Input space: pixels, or the DRMM's features at any layer").
struct FeatureSource {
  std::vector<float> values;  // owned model features; empty for pixels
  tree::Features view;
};

size_t resolve_layer(const ModelSpec& spec, const std::string& layer) {
  for (size_t i = 0; i + 1 < spec.layers.size(); ++i)
    if (spec.layers[i].name == layer || std::to_string(i + 1) == layer) return i;
  std::string known;
  for (size_t i = 0; i + 1 < spec.layers.size(); ++i) known += (i ? ", " : "") + spec.layers[i].name;
  throw Error("--layer '" + layer + "' is not a layer of model '" + spec.name + "' (layers: " + known + ")");
}

// The model whose bottom-up features at a level the trees see (--features-from, --layer).
struct FeatureModel {
  std::unique_ptr<CpuBackend> backend;
  std::unique_ptr<DrmmModel> model;
  size_t level = 0;
};

FeatureModel load_feature_model(const TreeCliOptions& o) {
  if (o.layer.empty()) throw Error("--features-from needs --layer (a layer name such as conv2, or its number)");
  const CheckpointContents contents = read_checkpoint(o.features_from);
  FeatureModel fm;
  fm.backend = std::make_unique<CpuBackend>(o.threads);
  fm.model = load_model(contents, o.features_from, *fm.backend);
  fm.level = resolve_layer(fm.model->spec(), o.layer);
  const LayerSpec& layer = fm.model->spec().layers[fm.level];
  std::cout << "features:  " << layer.describe() << " of " << o.features_from << ", " << layer.output.count()
            << " per image\n";
  return fm;
}

// Images to the model's features at its level, as the forest job wants them.
tree::FeatureMaker feature_maker(const FeatureModel& fm) {
  return [&fm](std::vector<float> images, tree::FeatureShape& shape) {
    FeatureMatrix m = extract_features(*fm.model, images, fm.level);
    shape = tree::FeatureShape{m.shape.c, m.shape.h, m.shape.w};
    return std::move(m.values);
  };
}

FeatureSource features_of(const TreeCliOptions& o, const Dataset& data) {
  FeatureSource source;
  if (o.features_from.empty()) {
    source.view = tree::pixel_features(data);
    return source;
  }
  const FeatureModel fm = load_feature_model(o);
  tree::FeatureShape shape;
  source.values = feature_maker(fm)(std::vector<float>(data.pixels), shape);  // the view below points into this
  source.view = tree::make_features(source.values, data.size(), shape);
  return source;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The split a command reads: the one asked for, else `fallback` when the data has it, else train.
Dataset load_split(const TreeCliOptions& o, Split fallback) {
  Split split = fallback;
  if (o.split == "train") split = Split::Train;
  if (o.split == "test") split = Split::Test;
  if (o.split.empty() && split == Split::Test && !has_split(o.data, Split::Test)) split = Split::Train;
  Dataset data = load_dataset(o.data, split);
  if (o.limit > 0 && o.limit < data.size()) {
    data.labels.resize(o.limit);
    data.pixels.resize(o.limit * data.image_size());
  }
  std::cout << "data:      " << data.name << " (" << (split == Split::Test ? "test" : "train") << "), " << data.size()
            << " images of " << data.channels << "x" << data.height << "x" << data.width << "\n";
  return data;
}

void check_compatible(const Forest& forest, const Dataset& data, const tree::Features& features) {
  if (int(features.cols) != forest.num_features)
    throw Error("the forest was trained on " + std::to_string(forest.num_features) + " features per image, these have " +
                std::to_string(features.cols) + " (train and use a forest on the same --features-from and --layer)");
  if (data.num_classes() > forest.num_classes)
    throw Error("the data has " + std::to_string(data.num_classes()) + " classes, the forest knows " +
                std::to_string(forest.num_classes));
}

void print_forest_summary(const Forest& forest) {
  size_t nodes = 0, leaves = 0;
  int depth = 0;
  for (const tree::ObliqueTree& t : forest.trees)
    nodes += t.nodes.size(), leaves += size_t(t.leaf_count()), depth = std::max(depth, t.depth());
  std::cout << "forest:    " << forest.trees.size() << " trees, " << nodes << " nodes, " << leaves
            << " leaves, max depth " << depth << "\n";
}

void run_train(TreeCliOptions& o) {
  const Dataset data = load_split(o, Split::Train);
  tree::ForestJob job;
  job.options = o.train;
  job.options.bootstrap = !o.no_bootstrap;
  job.options.threads = o.threads;
  job.train_images = o.images;
  job.heldout_images = o.heldout;
  FeatureModel fm;
  if (!o.features_from.empty()) {
    fm = load_feature_model(o);
    job.features = feature_maker(fm);
  }
  int reported = 0;
  const tree::ForestJobResult r = tree::run_forest_job(data, job, [&](int finished, int total) {
    if (finished * 10 / total > reported) reported = finished * 10 / total, std::cerr << "trained " << finished << "/" << total << " trees\n";
  });
  tree::save_forest(r.forest, o.forest);
  print_forest_summary(r.forest);
  std::cout << std::fixed << std::setprecision(3) << "train time: " << r.seconds << " s on " << r.train_images
            << " images\n";
  if (r.heldout_images > 0)
    std::cout << std::setprecision(4) << "held-out accuracy: " << r.heldout_accuracy << " on " << r.heldout_images
              << " training images the forest did not see\n";
  std::cout << "wrote:     " << o.forest << "\n";
}

void run_eval(const TreeCliOptions& o) {
  const Forest forest = tree::load_forest(o.forest);
  const Dataset data = load_split(o, Split::Test);
  const FeatureSource features = features_of(o, data);
  check_compatible(forest, data, features.view);
  print_forest_summary(forest);
  const auto start = std::chrono::steady_clock::now();
  const tree::Evaluation e = tree::evaluate(forest, features.view, data.labels, o.threads);
  const double predict_seconds = seconds_since(start);
  std::cout << std::fixed << std::setprecision(4) << "accuracy:  " << e.accuracy() << " (" << e.correct << " of "
            << e.samples << ")\n"
            << std::setprecision(3) << "predict time: " << predict_seconds << " s\n"
            << "per class:\n";
  for (int c = 0; c < forest.num_classes; ++c)
    std::cout << "  " << std::setw(3) << c << "  " << std::left << std::setw(14) << forest.class_names[c] << std::right
              << std::setprecision(4) << e.class_accuracy(c) << "  (" << e.class_correct[c] << " of " << e.class_samples[c]
              << ")\n";
}

void run_path(const TreeCliOptions& o) {
  const Forest forest = tree::load_forest(o.forest);
  const Dataset data = load_split(o, Split::Test);
  const FeatureSource features = features_of(o, data);
  check_compatible(forest, data, features.view);
  if (o.index >= data.size()) throw Error("--index " + std::to_string(o.index) + " is past the " + std::to_string(data.size()) + " images");
  if (o.tree < 0 || o.tree >= int(forest.trees.size()))
    throw Error("--tree " + std::to_string(o.tree) + ": the forest has " + std::to_string(forest.trees.size()) + " trees");
  const float* input = features.view.row(o.index);
  const tree::ObliqueTree& t = forest.trees[o.tree];
  std::cout << "image " << o.index << ", label " << data.labels[o.index] << " (" << data.class_names[data.labels[o.index]]
            << "); tree " << o.tree << ": score of child g = <W(c,g)|I0> + b(c,g)\n";
  for (const tree::PathStep& step : t.path(input)) {
    const std::span<const float> counts = t.node_class_counts(step.node);
    std::cout << "  depth " << std::setw(2) << t.nodes[step.node].depth << "  node " << std::setw(6) << step.node
              << std::fixed << std::setprecision(0) << "  samples " << std::setw(6)
              << std::accumulate(counts.begin(), counts.end(), 0.f);
    if (step.child_scores.empty()) {
      std::cout << "  leaf p(c|path):" << std::setprecision(3);
      const float total = std::max(1.f, std::accumulate(counts.begin(), counts.end(), 0.f));
      for (int c = 0; c < forest.num_classes; ++c) std::cout << " " << counts[c] / total;
      std::cout << "\n";
      break;
    }
    std::cout << "  scores:" << std::defaultfloat << std::setprecision(7);
    for (size_t g = 0; g < step.child_scores.size(); ++g)
      std::cout << (int(g) == step.chosen ? " [" : "  ") << step.child_scores[g] << (int(g) == step.chosen ? "]" : " ");
    std::cout << "\n";
  }
  const std::vector<float> p = forest.predict_proba(input);
  const int predicted = int(std::max_element(p.begin(), p.end()) - p.begin());
  std::cout << "forest (" << forest.trees.size() << " trees) predicts " << predicted << " (" << forest.class_names[predicted]
            << ") with p = " << std::setprecision(3) << p[predicted] << "\n";
}

void add_data_options(CLI::App& cmd, TreeCliOptions& o, const char* default_split) {
  cmd.add_option("--data", o.data, "Dataset: fashion-mnist, mnist, synthetic, or a path")->capture_default_str();
  cmd.add_option("--split", o.split, std::string("train or test (default: ") + default_split + ")")
      ->check(CLI::IsMember({"train", "test"}));
  cmd.add_option("--limit", o.limit, "Use only the first N images (0: all)");
  cmd.add_option("--threads", o.threads, "Threads (0: all cores)");
  cmd.add_option("--features-from", o.features_from,
                 "A DRMM checkpoint: use its bottom-up features at --layer instead of the pixels");
  cmd.add_option("--layer", o.layer, "With --features-from: the layer (name such as conv2, or number from 1)");
}

}  // namespace

void register_tree_commands(CLI::App& app) {
  CLI::App* group = app.add_subcommand(
      "tree", "E-DRMM decision trees and forests: templates evolve by additive mutations, inference picks at every\n"
              "node the child whose template best matches the input, leaves hold label histograms.");
  group->require_subcommand(1);
  group->footer(
      "Examples:\n"
      "  drmm tree train --data fashion-mnist --trees 100 --depth 40 --out forest.bin\n"
      "  drmm tree eval --forest forest.bin --data fashion-mnist\n"
      "  drmm tree path --forest forest.bin --data fashion-mnist --index 0");
  auto o = std::make_shared<TreeCliOptions>();
  tree::TreeOptions& t = o->train.tree;

  CLI::App* train = group->add_subcommand("train", "Train a forest by bagging (bootstrap samples), trees in parallel");
  add_data_options(*train, *o, "train");
  train->add_option("--trees", o->train.trees, "Number of trees")->capture_default_str()->check(CLI::Range(1, 100000));
  train->add_option("--depth", t.max_depth, "Maximum depth (root: 0)")->capture_default_str()->check(CLI::Range(0, 1000));
  train->add_option("--children", t.children, "K: children per internal node")->capture_default_str()->check(CLI::Range(2, 16));
  train->add_option("--min-leaf", t.min_leaf, "Minimum training samples per leaf")->capture_default_str()->check(CLI::Range(1, 1 << 30));
  train->add_option("--candidates", t.candidates, "Split proposals per node")->capture_default_str()->check(CLI::Range(1, 100000));
  train->add_option("--mutation-pixels", t.mutation_pixels, "Pixels a split's mutations touch (0: the whole pool)")
      ->capture_default_str()->check(CLI::Range(0, 1 << 30));
  train->add_option("--pixel-pool", t.pixel_pool, "Pixels drawn per node for its proposals (0: all)")
      ->capture_default_str()->check(CLI::Range(0, 1 << 30));
  train->add_option("--pixel-fraction", o->train.pixel_fraction, "Share of the pixels each tree may use")
      ->capture_default_str()->check(CLI::Range(1e-6, 1.0));
  train->add_flag("--no-bootstrap", o->no_bootstrap, "Train every tree on all images (no bagging)");
  train->add_option("--seed", o->train.seed, "Seed for bootstrap samples and proposals")->capture_default_str();
  train->add_option("--images", o->images, "Train on a seeded random subset of this many images (0: all)")
      ->capture_default_str();
  train->add_option("--heldout", o->heldout, "Then report the accuracy on this many of the other images (0: none)")
      ->capture_default_str();
  train->add_option("--out", o->forest, "Forest file to write")->capture_default_str();
  train->callback([o] { run_train(*o); });

  CLI::App* eval = group->add_subcommand("eval", "Accuracy of a forest, overall and per class, and prediction time");
  eval->add_option("--forest", o->forest, "Forest file")->required();
  add_data_options(*eval, *o, "test when the data has one");
  eval->callback([o] { run_eval(*o); });

  CLI::App* path = group->add_subcommand("path", "The path one image takes through a tree, with every child's score");
  path->add_option("--forest", o->forest, "Forest file")->required();
  add_data_options(*path, *o, "test when the data has one");
  path->add_option("--index", o->index, "Image index")->capture_default_str();
  path->add_option("--tree", o->tree, "Which tree of the forest")->capture_default_str();
  path->callback([o] { run_path(*o); });
}

}  // namespace drmm::cli
