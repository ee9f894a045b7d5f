// E-DRMM trees and forests: separation of data from the evolutionary model, additive
// templates, paths, bagging, determinism.
#include <gtest/gtest.h>

#include <cmath>

#include "core/tree/forest.h"
#include "core/tree/forest_job.h"
#include "core/util/error.h"
#include "tests/core/tree_test_data.h"

namespace drmm::tree {
namespace {

using testing::evolutionary_samples;
using testing::noisy_samples;
using testing::Samples;

double accuracy(const Forest& forest, const Samples& s) {
  return evaluate(forest, s.features(), s.labels, 1).accuracy();
}

ForestOptions single_tree(int children) {
  ForestOptions o;
  o.trees = 1;
  o.bootstrap = false;
  o.tree.children = children;
  o.tree.candidates = 8;
  o.threads = 1;
  return o;
}

TEST(TreeTraining, SeparatesDataFromTheAdditiveTemplateModel) {
  for (int K : {2, 3}) {
    const Samples train = evolutionary_samples(600, K, 0.05f, 1), test = evolutionary_samples(300, K, 0.05f, 2);
    const Forest forest = train_forest(train.features(), train.labels, train.class_names, single_tree(K));
    EXPECT_EQ(accuracy(forest, train), 1.0) << "K = " << K;
    EXPECT_GE(accuracy(forest, test), 0.97) << "K = " << K;
    for (const TreeNode& n : forest.trees[0].nodes) EXPECT_TRUE(n.num_children == 0 || n.num_children == uint32_t(K));
  }
}

TEST(TreeTraining, ForestBeatsASingleTreeOnHeldOutData) {
  const Samples train = noisy_samples(3000, 11), test = noisy_samples(3000, 12);
  const Forest tree = train_forest(train.features(), train.labels, train.class_names, single_tree(2));
  ForestOptions o = single_tree(2);
  o.trees = 30;
  o.bootstrap = true;
  o.threads = 2;
  const Forest forest = train_forest(train.features(), train.labels, train.class_names, o);
  const double tree_accuracy = accuracy(tree, test), forest_accuracy = accuracy(forest, test);
  EXPECT_GT(forest_accuracy, tree_accuracy + 0.03) << "tree " << tree_accuracy << ", forest " << forest_accuracy;
}

TEST(TreeTraining, NodeTemplatesAreTheRootPlusTheMutationsAlongThePath) {
  const Samples s = evolutionary_samples(300, 3, 0.05f, 3);
  const Forest forest = train_forest(s.features(), s.labels, s.class_names, single_tree(3));
  const ObliqueTree& t = forest.trees[0];
  ASSERT_GT(t.nodes.size(), 1u);
  for (size_t node = 1; node < t.nodes.size(); ++node) {
    const int parent = t.nodes[node].parent;
    std::vector<float> expected = t.node_template(parent);
    const auto support = t.node_support(parent);
    const auto alpha = t.node_mutation(int(node));
    for (size_t k = 0; k < support.size(); ++k) expected[support[k]] += alpha[k];  // eq. 29
    const std::vector<float> actual = t.node_template(int(node));
    for (size_t j = 0; j < expected.size(); ++j) ASSERT_NEAR(actual[j], expected[j], 1e-5f);
  }
}

TEST(TreeTraining, PathScoresAreTheFullTemplateScoresAndChooseTheArgmax) {
  const Samples s = evolutionary_samples(300, 2, 0.05f, 4);
  const Forest forest = train_forest(s.features(), s.labels, s.class_names, single_tree(2));
  const ObliqueTree& t = forest.trees[0];
  for (size_t i = 0; i < 20; ++i) {
    const float* x = s.features().row(i);
    const std::vector<PathStep> path = t.path(x);
    ASSERT_FALSE(path.empty());
    EXPECT_EQ(path.back().node, t.leaf_of(x));
    for (size_t k = 0; k + 1 < path.size(); ++k) {
      const PathStep& step = path[k];
      const TreeNode& n = t.nodes[step.node];
      ASSERT_EQ(step.child_scores.size(), n.num_children);
      EXPECT_EQ(path[k + 1].node, n.first_child + step.chosen);
      for (uint32_t g = 0; g < n.num_children; ++g) {
        // ⟨W(c,g)|I0⟩ + b with W the child's full template (eq. 31).
        const std::vector<float> W = t.node_template(n.first_child + int(g));
        double score = t.nodes[n.first_child + g].bias;
        for (size_t j = 0; j < W.size(); ++j) score += double(W[j]) * x[j];
        EXPECT_NEAR(step.child_scores[g], score, 1e-3 * (1 + std::abs(score)));
        EXPECT_LE(step.child_scores[g], step.child_scores[step.chosen] + 1e-4f);
      }
    }
  }
}

TEST(TreeTraining, LeavesHoldTheLabelHistogramsOfTheirTrainingData) {
  const Samples s = noisy_samples(500, 5);
  ForestOptions o = single_tree(2);
  o.tree.min_leaf = 5;
  const Forest forest = train_forest(s.features(), s.labels, s.class_names, o);
  const ObliqueTree& t = forest.trees[0];
  std::vector<float> expected(t.nodes.size() * 3, 0.f);
  for (size_t i = 0; i < s.labels.size(); ++i) expected[size_t(t.leaf_of(s.features().row(i))) * 3 + s.labels[i]] += 1;
  for (size_t node = 0; node < t.nodes.size(); ++node) {
    if (!t.nodes[node].is_leaf()) continue;
    float total = 0;
    for (int c = 0; c < 3; ++c) {
      EXPECT_EQ(t.node_class_counts(int(node))[c], expected[node * 3 + c]);
      total += expected[node * 3 + c];
    }
    EXPECT_GE(total, 5.f);
  }
}

TEST(TreeTraining, BlockPredictionEqualsOneByOne) {
  const Samples s = noisy_samples(300, 10);
  ForestOptions o = single_tree(2);
  o.trees = 5;
  o.bootstrap = true;
  const Forest forest = train_forest(s.features(), s.labels, s.class_names, o);
  const Features f = s.features();
  std::vector<float> block(f.rows * 3);
  forest.predict_proba_block(f.row(0), f.rows, f.cols, block.data());
  for (size_t i = 0; i < f.rows; ++i) {
    const std::vector<float> one = forest.predict_proba(f.row(i));
    for (int c = 0; c < 3; ++c) ASSERT_FLOAT_EQ(block[i * 3 + c], one[c]);
  }
}

TEST(TreeTraining, DepthLimitIsRespected) {
  const Samples s = noisy_samples(500, 6);
  ForestOptions o = single_tree(2);
  o.tree.max_depth = 3;
  EXPECT_LE(train_forest(s.features(), s.labels, s.class_names, o).trees[0].depth(), 3);
}

TEST(TreeTraining, ForestDoesNotDependOnTheThreadCount) {
  const Samples s = noisy_samples(800, 7);
  ForestOptions o = single_tree(2);
  o.trees = 4;
  o.bootstrap = true;
  o.pixel_fraction = 0.5;
  const Forest one = train_forest(s.features(), s.labels, s.class_names, o);
  o.threads = 3;
  const Forest three = train_forest(s.features(), s.labels, s.class_names, o);
  for (size_t t = 0; t < one.trees.size(); ++t) {
    EXPECT_EQ(one.trees[t].mutations, three.trees[t].mutations);
    EXPECT_EQ(one.trees[t].support, three.trees[t].support);
  }
}

TEST(TreeTraining, BadOptionsAndSizesAreClearErrors) {
  const Samples s = noisy_samples(50, 8);
  ForestOptions o;
  o.tree.children = 1;
  EXPECT_THROW(train_forest(s.features(), s.labels, s.class_names, o), Error);
  o = ForestOptions{};
  o.trees = 0;
  EXPECT_THROW(train_forest(s.features(), s.labels, s.class_names, o), Error);
  std::vector<int> short_labels(s.labels.begin(), s.labels.end() - 1);
  EXPECT_THROW(train_forest(s.features(), short_labels, s.class_names, ForestOptions{}), Error);
}

}  // namespace
}  // namespace drmm::tree

namespace drmm::tree {
namespace {

// The samples as a dataset, the input of the forest job that the CLI and the studio run.
Dataset as_dataset(const Samples& s) {
  Dataset d;
  d.name = "samples";
  d.channels = s.shape.channels, d.height = s.shape.height, d.width = s.shape.width;
  d.pixels = s.values;
  d.labels = s.labels;
  d.class_names = s.class_names;
  return d;
}

// The job trains on a seeded random subset, passes exactly the chosen images through the feature
// maker (train first, then the held-out ones, never one twice), and scores the held-out images.
TEST(ForestJob, TrainsOnASeededSubsetOfFeaturesAndScoresTheHeldOutImages) {
  const Samples s = noisy_samples(600, 13);
  const Dataset data = as_dataset(s);
  ForestJob job;
  job.options = single_tree(2);
  job.options.trees = 5;
  job.options.bootstrap = true;
  job.train_images = 400;
  job.heldout_images = 150;
  std::vector<size_t> batch_sizes;
  std::vector<std::vector<float>> seen;
  job.features = [&](std::vector<float> images, FeatureShape& shape) {
    batch_sizes.push_back(images.size() / data.image_size());
    seen.push_back(images);
    for (float& v : images) v = 1.0f - v;  // features that are not the pixels
    shape = FeatureShape{data.channels, data.height, data.width};
    return images;
  };
  int progress_calls = 0;
  const ForestJobResult r = run_forest_job(data, job, [&](int, int) { ++progress_calls; });
  EXPECT_EQ(batch_sizes, (std::vector<size_t>{400, 150}));
  EXPECT_EQ(r.train_images, 400u);
  EXPECT_EQ(r.heldout_images, 150u);
  EXPECT_EQ(progress_calls, 5);
  EXPECT_GT(r.heldout_accuracy, 0.6) << "3 classes: chance is 0.33";
  // A random subset, not the first 400 images.
  const std::vector<float> first(data.pixels.begin(), data.pixels.begin() + long(400 * data.image_size()));
  EXPECT_NE(seen[0], first);
  // Seeded: the same job gives the same forest.
  const ForestJobResult again = run_forest_job(data, job);
  EXPECT_EQ(again.heldout_accuracy, r.heldout_accuracy);
  // All the images without a subset: in the dataset's order, nothing held out.
  job.train_images = 0;
  seen.clear();
  const ForestJobResult all = run_forest_job(data, job);
  EXPECT_EQ(all.train_images, data.size());
  EXPECT_EQ(all.heldout_images, 0u);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], data.pixels);
  EXPECT_THROW(run_forest_job(Dataset{}, job), Error);
}

}  // namespace
}  // namespace drmm::tree
