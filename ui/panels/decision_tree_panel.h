#pragma once
// Decision trees panel (DESIGN.md §3.6, §4): an E-DRMM forest trained from the panel on a worker
// thread, one tree drawn as the evolutionary tree of its templates (every node's template μ as an
// image, leaves with their label histograms), zoom and pan, and the current image's path lit up
// with each child's score ⟨W(c,g)|I0⟩ + b(c,g); beside it the input, the leaf's histogram and the
// forest's vote. The input is a probe from the dataset browser or a 28×28 drawing.
#include <atomic>
#include <future>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/train/model_state.h"
#include "core/tree/forest.h"
#include "ui/image_atlas.h"
#include "ui/imgui_panel_host.h"
#include "ui/tree_view.h"

namespace drmm::ui {

struct BrowsedDataset;

class DecisionTreePanel : public ImGuiPanelHost {
  Q_OBJECT
 public:
  DecisionTreePanel(SessionController* session, FrameStats* stats, QWidget* parent = nullptr);
  ~DecisionTreePanel() override;  // cancels and joins the training thread
  QString help_text() const override;
  QStringList export_formats() const override { return {"png", "csv"}; }
  void write_export(const QString& path, const QString& format) override;

  // What the panel shows, for tests: the path of the current input through the selected tree,
  // whether that input is the drawing, the drawing's ink and the tree view's zoom and pan.
  const std::vector<tree::PathStep>& path() const { return path_; }
  bool showing_drawing() const { return source_ == Source::Drawing; }
  size_t current_probe() const { return probe_index_; }
  float drawing_ink() const;
  float zoom() const { return view_.zoom; }
  const TreeViewport& view() const { return view_; }
  bool training() const { return job_active_; }
  // The level of the model the shown forest was trained on (−1: pixels), and a new forest on the
  // model's features at `level` (as the Train forest button with that input chosen).
  int forest_level() const { return trained_ ? trained_->level : -1; }
  void train_on_level(int level) {
    feature_level_ = level;
    start_training();
  }

 protected:
  void draw(const Snapshot& snapshot) override;
  uint64_t view_key(const Snapshot&) override { return 0; }  // repaints on input, new data and training only
  // While a forest trains (and until its result is on screen): the progress line moves, and the
  // screenshot hook waits for the finished tree.
  bool animating() const override { return job_active_ || pending_features_.valid(); }

 private:
  // A trained forest and what it was trained from.
  struct TrainedForest {
    tree::Forest forest;
    int level = -1;  // the model level whose features it was trained on; −1: pixels
    uint64_t dataset_version = 0;
    size_t train_images = 0, heldout_images = 0;
    double heldout_accuracy = 0, seconds = 0;
  };
  // Where the current input comes from.
  enum class Source { Probe, Drawing };

  void start_training();
  void adopt_finished_job();
  void on_probes_changed();
  void select_tree(int index);
  void update_path();  // routes the current input through the selected tree and the forest
  void route(const float* input);  // the path, leaf histogram and vote of one feature row
  void clear_path();
  bool forest_fits(const Dataset& data) const;

  void draw_controls(const Dataset* data);
  void draw_tree(ImVec2 size);
  void apply_view_request(ImVec2 size);
  void draw_side(const Dataset& data, bool table_beside_inputs);
  void draw_probe(const Dataset& data, ImVec2 image_size);
  void draw_drawing_canvas(const Dataset& data, float scale);
  void draw_vote(const Dataset& data, float table_w);
  // The vote table's width: the widest class name and two bars of bar_width().
  float vote_table_width() const;
  static float bar_width();

  std::shared_ptr<const BrowsedDataset> dataset_;

  // Training options (the controls).
  int trees_ = 10, depth_ = 8, children_ = 2, images_ = 10000;
  int feature_level_ = -1;                // −1: pixels; else a level of the model being trained
  std::vector<std::string> level_names_;  // of the newest snapshot

  // The worker thread and its hand-over (the GUI thread owns everything else).
  std::thread worker_;
  bool job_active_ = false;  // GUI thread: a job runs or its result waits to be adopted
  bool retrain_after_job_ = false;
  std::atomic<bool> cancel_{false}, job_done_{false};
  std::atomic<int> progress_finished_{0}, progress_total_{0};
  std::mutex result_mutex_;
  std::shared_ptr<TrainedForest> job_result_;
  std::string job_error_;

  std::shared_ptr<const TrainedForest> trained_;
  std::string error_;
  uint64_t forest_generation_ = 0;  // grows with every adopted forest (texture versions)

  // The selected tree: layout, template atlas, view.
  int tree_index_ = 0;
  TreeLayout layout_;
  ImageAtlas atlas_;
  std::vector<int> atlas_tile_;  // per node: its tile in atlas_, −1 when it did not fit
  TreeViewport view_;
  ImVec2 tree_size_{0, 0};  // the drawing area of the last frame
  // A change of view asked for (a new tree, the Fit and Path buttons), done when the area is known.
  enum class ViewRequest { None, Whole, Overview, Path };
  ViewRequest view_request_ = ViewRequest::Overview;

  // The current input and its path.
  Source source_ = Source::Probe;
  size_t probe_index_ = 0;
  bool have_probe_ = false;
  std::vector<size_t> last_probes_;
  std::vector<float> drawing_;         // height × width, one channel, values in [0, 1]
  std::vector<float> drawing_input_;   // the drawing as the forest's input (every channel)
  uint64_t drawing_version_ = 1;
  bool drawing_active_ = false;
  float last_draw_x_ = 0, last_draw_y_ = 0;
  std::vector<tree::PathStep> path_;
  std::vector<uint8_t> on_path_;       // per node
  std::vector<float> vote_;            // forest predict_proba
  std::vector<float> leaf_histogram_;  // p(c̃ | leaf) of the selected tree
  uint64_t input_key_ = 0;             // what the path was computed for
  // A forest on model features routes the input's features, which the training session computes
  // between two batches: asked for off the GUI thread, routed when they arrive.
  std::future<FeatureMatrix> pending_features_;
};

}  // namespace drmm::ui
