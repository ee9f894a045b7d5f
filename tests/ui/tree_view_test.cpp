// The Decision trees panel's geometry (ui/tree_view.h): the node-link layout of an E-DRMM tree
// (no two nodes of a level overlap, children sit one level below their parent, a parent is
// centred over its children), the zoom/pan transform and the drawing canvas's brush.
#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "core/tree/forest.h"
#include "core/util/error.h"
#include "core/util/random.h"
#include "ui/tree_view.h"

namespace drmm::ui {
namespace {

// Every structural promise of layout_tree, for any tree.
void expect_valid_layout(const std::vector<tree::TreeNode>& nodes, const TreeLayout& layout) {
  ASSERT_EQ(layout.x.size(), nodes.size());
  ASSERT_EQ(layout.y.size(), nodes.size());
  int leaves = 0, max_depth = 0;
  std::map<float, std::vector<float>> by_level;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const tree::TreeNode& n = nodes[i];
    max_depth = std::max(max_depth, int(n.depth));
    leaves += n.is_leaf() ? 1 : 0;
    EXPECT_GE(layout.x[i], 0.5f - 1e-5f);
    EXPECT_LE(layout.x[i], layout.width - 0.5f + 1e-5f);
    by_level[layout.y[i]].push_back(layout.x[i]);
    if (n.parent >= 0) {
      EXPECT_FLOAT_EQ(layout.y[i], layout.y[size_t(n.parent)] + 1.0f) << "node " << i << " is not one level below its parent";
    } else {
      EXPECT_FLOAT_EQ(layout.y[i], 0.5f);
    }
    if (!n.is_leaf()) {
      const float first = layout.x[size_t(n.first_child)], last = layout.x[size_t(n.first_child + int(n.num_children) - 1)];
      EXPECT_FLOAT_EQ(layout.x[i], 0.5f * (first + last)) << "node " << i << " is not centred over its children";
      for (uint32_t g = 1; g < n.num_children; ++g)
        EXPECT_LT(layout.x[size_t(n.first_child) + g - 1], layout.x[size_t(n.first_child) + g]) << "children out of order";
    }
  }
  EXPECT_EQ(layout.width, float(leaves));
  EXPECT_EQ(layout.levels, max_depth + 1);
  // Nodes are drawn at most one slot wide: on one level, centres one slot apart never overlap.
  for (auto& [y, xs] : by_level) {
    std::sort(xs.begin(), xs.end());
    for (size_t i = 1; i < xs.size(); ++i) EXPECT_GE(xs[i] - xs[i - 1], 1.0f - 1e-5f) << "overlap on level " << y;
  }
}

tree::TreeNode node(int parent, int first_child, uint32_t children, uint32_t depth) {
  tree::TreeNode n;
  n.parent = parent;
  n.first_child = first_child;
  n.num_children = children;
  n.depth = depth;
  return n;
}

TEST(TreeLayout, HandBuiltUnbalancedTree) {
  // 0 ─┬─ 1 (leaf)
  //    ├─ 2 ─┬─ 4 ─┬─ 6 (leaf)
  //    │     │     └─ 7 (leaf)
  //    │     └─ 5 (leaf)
  //    └─ 3 (leaf)
  std::vector<tree::TreeNode> nodes{node(-1, 1, 3, 0), node(0, -1, 0, 1), node(0, 4, 2, 1), node(0, -1, 0, 1),
                                    node(2, 6, 2, 2),  node(2, -1, 0, 2), node(4, -1, 0, 3), node(4, -1, 0, 3)};
  const TreeLayout layout = layout_tree(nodes);
  expect_valid_layout(nodes, layout);
  // Leaves in depth-first order take slots 0.5, 1.5, …: 1, 6, 7, 5, 3.
  EXPECT_FLOAT_EQ(layout.x[1], 0.5f);
  EXPECT_FLOAT_EQ(layout.x[6], 1.5f);
  EXPECT_FLOAT_EQ(layout.x[7], 2.5f);
  EXPECT_FLOAT_EQ(layout.x[5], 3.5f);
  EXPECT_FLOAT_EQ(layout.x[3], 4.5f);
  EXPECT_FLOAT_EQ(layout.x[4], 2.0f);
  EXPECT_FLOAT_EQ(layout.x[2], 2.75f);
  EXPECT_FLOAT_EQ(layout.x[0], 2.5f);
  EXPECT_EQ(layout.levels, 4);
}

TEST(TreeLayout, SingleLeafAndMalformedTrees) {
  const std::vector<tree::TreeNode> single{node(-1, -1, 0, 0)};
  const TreeLayout layout = layout_tree(single);
  EXPECT_FLOAT_EQ(layout.x[0], 0.5f);
  EXPECT_EQ(layout.width, 1.0f);
  EXPECT_EQ(layout.levels, 1);
  EXPECT_TRUE(layout_tree({}).x.empty());
  // Children past the end, and a child that names another parent: errors, not crashes.
  EXPECT_THROW(layout_tree(std::vector<tree::TreeNode>{node(-1, 1, 2, 0), node(0, -1, 0, 1)}), Error);
  EXPECT_THROW(layout_tree(std::vector<tree::TreeNode>{node(-1, 1, 2, 0), node(0, -1, 0, 1), node(1, -1, 0, 1)}), Error);
  EXPECT_THROW(layout_tree(std::vector<tree::TreeNode>{node(-1, 0, 2, 0), node(0, -1, 0, 1)}), Error);
}

TEST(TreeLayout, TrainedForestsWithTwoAndThreeChildren) {
  // Two noisy classes of 16 "pixels": real trees from the E-DRMM trainer.
  Random rng(7);
  const size_t rows = 400, cols = 16;
  std::vector<float> values(rows * cols);
  std::vector<int> labels(rows);
  for (size_t i = 0; i < rows; ++i) {
    labels[i] = int(i % 3);
    for (size_t j = 0; j < cols; ++j) values[i * cols + j] = float(rng.uniform()) + (j % 3 == size_t(labels[i]) ? 0.4f : 0.0f);
  }
  const tree::Features features = tree::make_features(values, rows, tree::FeatureShape{1, 4, 4});
  for (int children : {2, 3}) {
    tree::ForestOptions options;
    options.trees = 3;
    options.threads = 1;
    options.tree.children = children;
    options.tree.max_depth = 7;
    const tree::Forest forest = tree::train_forest(features, labels, {"a", "b", "c"}, options);
    for (const tree::ObliqueTree& t : forest.trees) {
      ASSERT_GT(t.nodes.size(), 3u);
      const TreeLayout layout = layout_tree(t.nodes);
      expect_valid_layout(t.nodes, layout);
      EXPECT_EQ(layout.levels, t.depth() + 1);
    }
  }
}

TEST(TreeViewport, FitShowsTheWholeTreeAndZoomKeepsThePointUnderTheCursor) {
  TreeLayout layout;
  layout.width = 20;
  layout.levels = 5;
  const TreeViewport view = fit_viewport(layout, 400, 300);
  // Every corner of the layout lies inside the 400×300 area, and one dimension fills it.
  EXPECT_GE(view.screen_x(0), -1e-3f);
  EXPECT_LE(view.screen_x(layout.width), 400 + 1e-3f);
  EXPECT_GE(view.screen_y(0), -1e-3f);
  EXPECT_LE(view.screen_y(float(layout.levels)), 300 + 1e-3f);
  EXPECT_TRUE(std::abs(view.screen_x(layout.width) - view.screen_x(0) - 400) < 1e-2f ||
              std::abs(view.screen_y(float(layout.levels)) - view.screen_y(0) - 300) < 1e-2f);

  TreeViewport zoomed = view;
  const float lx = zoomed.layout_x(123), ly = zoomed.layout_y(77);
  zoom_at(zoomed, 123, 77, 2.5f);
  EXPECT_NEAR(zoomed.zoom, view.zoom * 2.5f, 1e-4f);
  EXPECT_NEAR(zoomed.screen_x(lx), 123, 1e-3f);
  EXPECT_NEAR(zoomed.screen_y(ly), 77, 1e-3f);
  zoom_at(zoomed, 0, 0, 1e6f);
  EXPECT_EQ(zoomed.zoom, kMaxZoom);

  center_on(zoomed, 3.5f, 2.5f, 400, 300);
  EXPECT_NEAR(zoomed.screen_x(3.5f), 200, 1e-3f);
  EXPECT_NEAR(zoomed.screen_y(2.5f), 150, 1e-3f);
}

TEST(DrawingCanvas, PaintsAStrokeAndErasesIt) {
  std::vector<float> image(28 * 28, 0.0f);
  EXPECT_TRUE(paint_stroke(image, 28, 28, 4, 14, 24, 14, false));
  // The stroke's pixels are fully on, pixels far from it stay off, values stay in [0, 1].
  for (int x = 5; x < 24; ++x) EXPECT_FLOAT_EQ(image[14 * 28 + x], 1.0f) << x;
  EXPECT_FLOAT_EQ(image[2 * 28 + 14], 0.0f);
  EXPECT_FLOAT_EQ(image[25 * 28 + 14], 0.0f);
  for (float v : image) EXPECT_TRUE(v >= 0 && v <= 1);
  EXPECT_FALSE(paint_stroke(image, 28, 28, 4, 14, 24, 14, false)) << "painting the same stroke changes nothing";
  // Off-canvas strokes are clipped, not written out of bounds.
  EXPECT_FALSE(paint_stroke(image, 28, 28, -50, -50, -40, -40, false));
  EXPECT_TRUE(paint_stroke(image, 28, 28, 0, 14, 28, 14, true));
  for (int x = 0; x < 28; ++x) EXPECT_FLOAT_EQ(image[14 * 28 + x], 0.0f) << x;
  EXPECT_FALSE(paint_stroke(image, 27, 28, 0, 0, 5, 5, false)) << "a size mismatch is refused";
}

}  // namespace
}  // namespace drmm::ui
