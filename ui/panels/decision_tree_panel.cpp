#include "ui/panels/decision_tree_panel.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <numeric>

#include <QImage>

#include <imgui.h>


#include "core/train/training_session.h"
#include "core/tree/features.h"
#include "core/tree/forest_job.h"
#include "core/util/error.h"
#include "core/util/atomic_file.h"
#include "ui/export_files.h"
#include "ui/session_controller.h"

namespace drmm::ui {
namespace {

// The training thread stops at the next finished tree when this is thrown from the progress callback.
struct Cancelled {};

constexpr ImU32 kPathColor = IM_COL32(255, 200, 40, 255);
constexpr ImU32 kEdgeColor = IM_COL32(95, 95, 110, 255);
constexpr ImU32 kSiblingEdgeColor = IM_COL32(200, 170, 90, 255);
constexpr ImU32 kNodeBorder = IM_COL32(70, 70, 82, 255);
constexpr ImU32 kCanvasColor = IM_COL32(22, 22, 27, 255);
constexpr size_t kMaxAtlasNodes = 4096;  // the shallowest nodes get a template tile; deeper ones a box
constexpr size_t kHeldOutImages = 2000;
// Sizes at 100 % zoom: the probe and the canvas at 3 screen pixels per image pixel, a vote bar no
// narrower than this, and the tree no narrower than this beside the inputs and the vote table.
constexpr float kSideMagnification = 3, kMinBarWidth = 36, kMinTreeWidth = 240;

// One color per class (Tableau 10), so a leaf's bars and the vote read alike.
ImU32 class_color(int c) {
  static const ImU32 palette[] = {IM_COL32(78, 121, 167, 255),  IM_COL32(242, 142, 43, 255), IM_COL32(225, 87, 89, 255),
                                  IM_COL32(118, 183, 178, 255), IM_COL32(89, 161, 79, 255),  IM_COL32(237, 201, 72, 255),
                                  IM_COL32(176, 122, 161, 255), IM_COL32(255, 157, 167, 255), IM_COL32(156, 117, 95, 255),
                                  IM_COL32(186, 176, 172, 255)};
  return palette[size_t(std::max(c, 0)) % std::size(palette)];
}

std::vector<float> normalized(std::span<const float> counts) {
  const float total = std::accumulate(counts.begin(), counts.end(), 0.0f);
  std::vector<float> p(counts.begin(), counts.end());
  if (total > 0)
    for (float& v : p) v /= total;
  return p;
}

// Bars of a class histogram (values in [0, 1]) filling [p0, p1], one per class, bottom-aligned.
void draw_histogram(ImDrawList* draw, ImVec2 p0, ImVec2 p1, std::span<const float> values) {
  if (values.empty()) return;
  const float w = (p1.x - p0.x) / float(values.size()), h = p1.y - p0.y;
  draw->AddRectFilled(p0, p1, IM_COL32(40, 40, 48, 255));
  for (size_t c = 0; c < values.size(); ++c) {
    const float v = std::clamp(values[c], 0.0f, 1.0f);
    if (v <= 0) continue;
    const float x0 = p0.x + float(c) * w;
    draw->AddRectFilled(ImVec2(x0, p1.y - std::max(1.0f, v * h)), ImVec2(x0 + std::max(1.0f, w - (w > 3 ? 1.0f : 0.0f)), p1.y),
                        class_color(int(c)));
  }
}

bool segment_visible(ImVec2 a, ImVec2 b, ImVec2 min, ImVec2 max) {
  return std::max(a.x, b.x) >= min.x && std::min(a.x, b.x) <= max.x && std::max(a.y, b.y) >= min.y &&
         std::min(a.y, b.y) <= max.y;
}

}  // namespace

DecisionTreePanel::DecisionTreePanel(SessionController* session, FrameStats* stats, QWidget* parent)
    : ImGuiPanelHost(tr("Decision trees"), session, stats, parent) {
  setObjectName("decision_tree");
  // A new dataset: the forest of the old one no longer applies; train one on the new data.
  connect(session, &SessionController::dataset_loaded, this, [this] {
    const std::shared_ptr<const BrowsedDataset> dataset = this->session()->dataset();
    if (dataset == dataset_) return;
    dataset_ = dataset;
    if (dataset_ && dataset_->data) {
      drawing_.assign(size_t(dataset_->data->height) * size_t(dataset_->data->width), 0.0f);
      ++drawing_version_;
      if (!trained_ || trained_->dataset_version != dataset_->version) start_training();
    }
    request_frames();
  });
  connect(session, &SessionController::probes_changed, this, [this] {
    on_probes_changed();
    request_frames();
  });
}

DecisionTreePanel::~DecisionTreePanel() {
  cancel_ = true;
  if (worker_.joinable()) worker_.join();
}

QString DecisionTreePanel::help_text() const {
  return tr(
      "A decision tree sorts an image by asking, at each node, which child's picture it resembles most. Each node "
      "is drawn as its template picture (min→black, max→white). The yellow path is where the current image goes, "
      "the number on each edge is that child's score, and the colored bars at a leaf show the classes of the "
      "training images that ended there. Many trees vote together: a forest.\n"
      "This is an E-DRMM forest (Patel, Nguyen & Baraniuk, “A Probabilistic Theory of Deep Learning”, arXiv 2015, "
      "sec. 4; and their “A Probabilistic Framework for Deep Learning”, NIPS 2016, App. F): oblique decision trees "
      "whose nodes are templates. Each node c has a template μ(c); a child's template is its parent's plus an "
      "additive mutation, μ(c^ℓ) = μ(c^(ℓ+1)) + α(g^(ℓ+1)) (Patel et al. 2015, eq. 29), so the tree is the "
      "evolutionary tree of the templates, from the data's mean at the root down to the leaves.\n"
      "Inference is coarse to fine, always on the input I0 (Patel et al. 2015, eq. 31, ChooseChild(Filter(I0))): "
      "at node c go to g* = argmax_g ⟨W(c,g)|I0⟩ + b(c,g) with W(c,g) = μ(c) + α(g). Leaves hold label histograms "
      "p(c | path), drawn as bars in class colors; the forest's vote is the mean of the trees' leaf histograms (eq. 32, "
      "bagging).\n"
      "Learning is InfoMax (eq. 33): each split maximises the information gain between labels and children over "
      "candidate mutations (class means, the mutation templates α = mean(cluster) − mean(node) of a K-means "
      "clustering of the node's data, random projections).\n"
      "Train forest: trees on a random subset of the training images' pixels, or on the model's bottom-up features "
      "at a level chosen beside it, taken from the run as it trains (the accuracy shown is on other training "
      "images held out). The wheel zooms, dragging pans, a double click fits the tree. The current image is the "
      "probe last clicked in the dataset browser; draw in the canvas (left drag paints, right drag erases) and "
      "watch the path change.");
}

// ---------------------------------------------------------------------------------------------
// Training on a worker thread

void DecisionTreePanel::start_training() {
  if (job_active_) {  // a new request while one runs: stop it at its next tree and start afresh
    cancel_ = true;
    retrain_after_job_ = true;
    return;
  }
  const std::shared_ptr<const BrowsedDataset> dataset = dataset_;
  if (!dataset || !dataset->data || dataset->data->size() == 0) return;
  if (worker_.joinable()) worker_.join();
  tree::ForestOptions options;
  options.trees = trees_;
  options.tree.max_depth = depth_;
  options.tree.children = children_;
  // The trainer has one core and the GUI needs one: on a small machine the forest takes what is left.
  options.threads = std::max(1, int(std::thread::hardware_concurrency()) - 2);
  const size_t images = size_t(images_);
  const int level = feature_level_;
  const std::shared_ptr<TrainingSession> run = session()->training_session();
  cancel_ = false;
  job_done_ = false;
  progress_finished_ = 0;
  progress_total_ = trees_;
  job_active_ = true;
  error_.clear();
  worker_ = std::thread([this, dataset, options, images, level, run] {
    auto result = std::make_shared<TrainedForest>();
    std::string error;
    try {
      tree::ForestJob job;
      job.options = options;
      job.train_images = images;
      job.heldout_images = kHeldOutImages;
      // The model's features at `level` instead of the pixels, from the run as it is now:
      // computed by the training session between two of its batches.
      if (level >= 0 && run)
        job.features = [run, level](std::vector<float> pixels, tree::FeatureShape& shape) {
          FeatureMatrix features = run->features_of_images(size_t(level), std::move(pixels));
          shape = tree::FeatureShape{features.shape.c, features.shape.h, features.shape.w};
          return std::move(features.values);
        };
      tree::ForestJobResult r = tree::run_forest_job(*dataset->data, job, [this](int finished, int) {
        progress_finished_ = finished;
        if (cancel_) throw Cancelled{};
      });
      result->forest = std::move(r.forest);
      result->dataset_version = dataset->version;
      result->level = run ? level : -1;
      result->train_images = r.train_images;
      result->heldout_images = r.heldout_images;
      result->heldout_accuracy = r.heldout_accuracy;
      result->seconds = r.seconds;
    } catch (const Cancelled&) {
      result.reset();
    } catch (const std::exception& e) {
      result.reset();
      error = e.what();
    }
    {
      std::lock_guard lock(result_mutex_);
      job_result_ = std::move(result);
      job_error_ = std::move(error);
    }
    job_done_ = true;
    QMetaObject::invokeMethod(this, [this] { request_frames(); }, Qt::QueuedConnection);
  });
}

void DecisionTreePanel::adopt_finished_job() {
  if (!job_active_ || !job_done_) return;
  worker_.join();
  std::shared_ptr<TrainedForest> result;
  {
    std::lock_guard lock(result_mutex_);
    result = std::move(job_result_);
    error_ = std::move(job_error_);
  }
  job_active_ = false;
  if (result && (!dataset_ || result->dataset_version == dataset_->version)) {
    trained_ = std::move(result);
    ++forest_generation_;
    select_tree(tree_index_);
  }
  if (std::exchange(retrain_after_job_, false)) start_training();
}

void DecisionTreePanel::select_tree(int index) {
  if (!trained_ || trained_->forest.trees.empty()) return;
  const tree::Forest& forest = trained_->forest;
  tree_index_ = std::clamp(index, 0, int(forest.trees.size()) - 1);
  const tree::ObliqueTree& t = forest.trees[size_t(tree_index_)];
  layout_ = layout_tree(t.nodes);
  // Templates of the shallowest nodes (breadth first), one atlas and one upload per tree.
  std::vector<int> order(t.nodes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return t.nodes[size_t(a)].depth < t.nodes[size_t(b)].depth; });
  order.resize(std::min(order.size(), kMaxAtlasNodes));
  std::vector<std::vector<float>> templates;
  templates.reserve(order.size());
  std::vector<AtlasItem> items;
  items.reserve(order.size());
  atlas_tile_.assign(t.nodes.size(), -1);
  for (size_t i = 0; i < order.size(); ++i) {
    templates.push_back(t.node_template(order[i]));
    items.push_back({{forest.shape.channels, forest.shape.height, forest.shape.width, templates.back().data()},
                     Normalization::MinMax});
    atlas_tile_[size_t(order[i])] = int(i);
  }
  atlas_ = build_atlas(items, square_columns(items.size()));
  view_request_ = ViewRequest::Overview;
  input_key_ = 0;  // recompute the path
  clear_path();    // its nodes belong to the previous tree until then (feature paths arrive later)
}

// ---------------------------------------------------------------------------------------------
// The current input and its path

void DecisionTreePanel::on_probes_changed() {
  const std::vector<size_t>& probes = session()->probes();
  std::vector<size_t> added;
  for (size_t p : probes)
    if (std::find(last_probes_.begin(), last_probes_.end(), p) == last_probes_.end()) added.push_back(p);
  const bool current_kept = have_probe_ && std::find(probes.begin(), probes.end(), probe_index_) != probes.end();
  if (added.size() == 1) {  // a click in the dataset browser: show that image
    probe_index_ = added[0];
    have_probe_ = true;
    source_ = Source::Probe;
  } else if (!current_kept && !probes.empty()) {  // a new set of probes: the first one
    probe_index_ = probes[0];
    have_probe_ = true;
  }
  last_probes_ = probes;
}

bool DecisionTreePanel::forest_fits(const Dataset& data) const {
  if (!trained_ || trained_->forest.trees.empty()) return false;
  return trained_->level >= 0 || size_t(trained_->forest.num_features) == data.image_size();
}

void DecisionTreePanel::update_path() {
  if (!dataset_ || !dataset_->data || !forest_fits(*dataset_->data)) return;
  const Dataset& data = *dataset_->data;
  if (pending_features_.valid() && pending_features_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    try {
      const FeatureMatrix features = pending_features_.get();
      if (features.values.size() == size_t(trained_->forest.num_features)) route(features.values.data());
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }
  uint64_t key = forest_generation_ * 0x9e3779b97f4a7c15ull + uint64_t(tree_index_) * 1315423911ull;
  key ^= source_ == Source::Drawing ? (drawing_version_ << 1) | 1 : (uint64_t(probe_index_) + 1) << 1;
  key ^= dataset_->version << 40;
  // One feature request at a time: a newer input waits for the one in flight (no stall on it).
  if (key == input_key_ || pending_features_.valid()) return;
  input_key_ = key;
  const float* input = nullptr;
  if (source_ == Source::Drawing) {
    const size_t plane = size_t(data.height) * size_t(data.width);
    drawing_input_.resize(data.image_size());
    for (int c = 0; c < data.channels; ++c) std::copy(drawing_.begin(), drawing_.end(), drawing_input_.begin() + long(size_t(c) * plane));
    input = drawing_input_.data();
  } else {
    if (!have_probe_ || probe_index_ >= data.size()) {
      clear_path();
      return;
    }
    input = data.image(probe_index_).data();
  }
  if (trained_->level < 0) {
    route(input);
    return;
  }
  const std::shared_ptr<TrainingSession> run = session()->training_session();
  if (!run) return;
  pending_features_ = std::async(std::launch::async, [run, level = size_t(trained_->level),
                                                      pixels = std::vector<float>(input, input + data.image_size())] {
    return run->features_of_images(level, pixels);
  });
}

void DecisionTreePanel::clear_path() {
  path_.clear();
  on_path_.clear();
  vote_.clear();
  leaf_histogram_.clear();
}

void DecisionTreePanel::route(const float* input) {
  const tree::Forest& forest = trained_->forest;
  const tree::ObliqueTree& t = forest.trees[size_t(tree_index_)];
  path_ = t.path(input);
  on_path_.assign(t.nodes.size(), 0);
  for (const tree::PathStep& step : path_) on_path_[size_t(step.node)] = 1;
  leaf_histogram_ = path_.empty() ? std::vector<float>() : normalized(t.node_class_counts(path_.back().node));
  vote_ = forest.predict_proba(input);
}

// ---------------------------------------------------------------------------------------------
// Drawing

void DecisionTreePanel::draw(const Snapshot& snapshot) {
  level_names_ = snapshot.level_names;
  adopt_finished_job();
  if (!dataset_) dataset_ = session()->dataset();
  const Dataset* data = dataset_ && dataset_->data ? dataset_->data.get() : nullptr;
  if (data && drawing_.size() != size_t(data->height) * size_t(data->width))
    drawing_.assign(size_t(data->height) * size_t(data->width), 0.0f);
  if (data && !trained_ && !job_active_ && error_.empty()) start_training();  // first time only
  draw_controls(data);
  if (!data) return;
  if (!forest_fits(*data)) {
    if (!job_active_) ImGui::TextDisabled("Press \"Train forest\" to grow an E-DRMM forest on the training images.");
    return;
  }
  update_path();
  // Beside the tree: the inputs (probe over canvas) with the vote table to their right when that
  // leaves the tree its room; in a narrow dock probe and canvas side by side over the table (the
  // column scrolls when it is taller than the panel).
  const float spacing = ImGui::GetStyle().ItemSpacing.x;
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float image_w = picture_size(data->width, data->height, kSideMagnification).x;
  const float table_w = vote_table_width();
  const bool table_beside_inputs = avail.x - (image_w + spacing + table_w) - spacing >= scaled(kMinTreeWidth);
  // Room for the scrollbar the column shows when it is taller than the panel.
  const float side_w = (table_beside_inputs ? image_w + spacing + table_w : std::max(2 * image_w + spacing, table_w)) +
                       ImGui::GetStyle().ScrollbarSize;
  const float height = std::max(scaled(60), avail.y);
  draw_tree(ImVec2(std::max(scaled(60), avail.x - side_w - spacing), height));
  ImGui::SameLine();
  ImGui::BeginChild("##side", ImVec2(side_w, height), false);
  draw_side(*data, table_beside_inputs);
  ImGui::EndChild();
}

void DecisionTreePanel::draw_controls(const Dataset* data) {
  if (trained_ && !trained_->forest.trees.empty()) {
    const tree::Forest& f = trained_->forest;
    size_t nodes = 0;
    for (const tree::ObliqueTree& t : f.trees) nodes += t.nodes.size();
    text_elided("forest: " + std::to_string(f.trees.size()) + " trees, " + std::to_string(trained_->train_images) + " images",
                ImGui::GetContentRegionAvail().x);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("%zu trees, %zu nodes in all, trained on %zu training images' %s in %.1f s", f.trees.size(), nodes,
                        trained_->train_images,
                        trained_->level >= 0 && size_t(trained_->level) < level_names_.size()
                            ? (level_names_[size_t(trained_->level)] + " features").c_str()
                            : "pixels",
                        trained_->seconds);
    if (trained_->heldout_images > 0) {
      char accuracy[32];
      std::snprintf(accuracy, sizeof accuracy, "acc %.3f", trained_->heldout_accuracy);
      same_line_if_fits(ImGui::CalcTextSize(accuracy).x);
      ImGui::TextColored(ImVec4(0.55f, 0.85f, 0.55f, 1), "%s", accuracy);
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Accuracy of the forest's vote on %zu training images it did not see", trained_->heldout_images);
    }
  } else {
    ImGui::TextUnformatted(data ? "E-DRMM forest: none yet" : "Loading the dataset…");
  }
  draw_header_tools();

  if (job_active_) {
    ImGui::Text("training tree %d of %d…", std::min(progress_finished_.load() + 1, progress_total_.load()),
                progress_total_.load());
    same_line_if_fits(button_width("Cancel"));
    if (ImGui::SmallButton("Cancel")) {
      cancel_ = true;
      retrain_after_job_ = false;
    }
  } else {
    ImGui::BeginDisabled(data == nullptr);
    if (ImGui::Button("Train forest")) start_training();
    ImGui::EndDisabled();
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Grow a new forest (InfoMax, bagging) on the chosen input, on a worker thread");
  }
  const int max_images = data ? int(std::max<size_t>(100, data->size())) : 60000;
  images_ = std::clamp(images_, std::min(100, max_images), max_images);
  next_item_in_row(scaled(62));
  ImGui::DragInt("##trees", &trees_, 0.2f, 1, 200, "%d trees", ImGuiSliderFlags_AlwaysClamp);
  next_item_in_row(scaled(66));
  ImGui::DragInt("##depth", &depth_, 0.1f, 1, 40, "depth %d", ImGuiSliderFlags_AlwaysClamp);
  next_item_in_row(scaled(46));
  ImGui::DragInt("##children", &children_, 0.05f, 2, 8, "K %d", ImGuiSliderFlags_AlwaysClamp);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("K: children per node");
  next_item_in_row(scaled(110));
  ImGui::DragInt("##images", &images_, 50.0f, std::min(100, max_images), max_images, "%d images",
                 ImGuiSliderFlags_AlwaysClamp);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Training images (a random subset). Drag to change.");
  next_item_in_row(scaled(120));
  const bool level_known = feature_level_ >= 0 && size_t(feature_level_) < level_names_.size();
  if (!level_known) feature_level_ = -1;
  if (ImGui::BeginCombo("##input", level_known ? level_names_[size_t(feature_level_)].c_str() : "pixels")) {
    if (ImGui::Selectable("pixels", feature_level_ < 0)) feature_level_ = -1;
    for (size_t i = 0; i < level_names_.size(); ++i)
      if (ImGui::Selectable(level_names_[i].c_str(), feature_level_ == int(i))) feature_level_ = int(i);
    ImGui::EndCombo();
  }
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("What the trees see: the pixels, or the model's bottom-up features at a level, taken from the "
                      "run as it trains (press Train forest again to follow the model)");
  if (!error_.empty()) ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "%s", error_.c_str());

  if (!trained_ || trained_->forest.trees.empty()) return;
  const tree::Forest& f = trained_->forest;
  int index = tree_index_;
  ImGui::SetNextItemWidth(scaled(110));
  // Not "##tree", the canvas's id: an item sharing it takes the slider's drag for a pan of the
  // tree (the view flies off, blank until Fit) and trips ImGui's button assertion.
  if (ImGui::SliderInt("##tree_index", &index, 0, int(f.trees.size()) - 1, "tree %d") && index != tree_index_)
    select_tree(index);
  record_region("decision_tree.tree_index", ImGui::GetItemRectMin(), ImGui::GetItemRectMax());
  const tree::ObliqueTree& t = f.trees[size_t(tree_index_)];
  char shape[64];
  std::snprintf(shape, sizeof shape, "depth %d, %zu nodes, %d leaves", t.depth(), t.nodes.size(), t.leaf_count());
  same_line_if_fits(ImGui::CalcTextSize(shape).x);
  ImGui::TextUnformatted(shape);
  same_line_if_fits(button_width("Fit"));
  if (ImGui::SmallButton("Fit")) view_request_ = ViewRequest::Whole;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Show the whole tree (or double-click it)");
  same_line_if_fits(button_width("Path"));
  if (ImGui::SmallButton("Path")) view_request_ = ViewRequest::Path;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Zoom in on the current image's path");
}

void DecisionTreePanel::apply_view_request(ImVec2 size) {
  const ViewRequest request = std::exchange(view_request_, ViewRequest::None);
  if (request == ViewRequest::None) return;
  view_ = fit_viewport(layout_, size.x, size.y);
  if (request == ViewRequest::Whole || path_.empty()) return;
  const float leaf_x = layout_.x[size_t(path_.back().node)];
  float mean_x = 0;
  for (const tree::PathStep& step : path_) mean_x += layout_.x[size_t(step.node)];
  mean_x /= float(path_.size());
  if (request == ViewRequest::Overview) {
    // The whole tree when its templates are legible that way; otherwise every level, centred on the
    // path (the rest of the tree is a drag or a "Fit" away).
    if (view_.zoom >= 14) return;
    view_.zoom = std::clamp(size.y / (float(layout_.levels) * view_.level_factor), view_.zoom, 40.0f);
  } else {  // Path: the path's nodes large enough to read the scores
    view_.zoom = std::clamp(size.y / ((float(path_.size()) + 0.3f) * view_.level_factor), 34.0f, 56.0f);
  }
  // Centred on the path, but never so far from its leaf that the leaf leaves the view, and with
  // no empty space beside the tree when it is wider than the view.
  const float half = 0.5f * size.x / view_.zoom;
  const float reach = std::max(0.0f, half - 1.5f);
  float x = leaf_x + std::clamp(mean_x - leaf_x, -reach, reach);
  // The overview starts at the root: it stays in view, even if the leaf then does not.
  if (request == ViewRequest::Overview) x = std::clamp(x, layout_.x[0] - reach, layout_.x[0] + reach);
  if (layout_.width > 2 * half) x = std::clamp(x, half - 1.0f, layout_.width - half + 1.0f);
  const float y = request == ViewRequest::Overview ? 0.5f * float(layout_.levels)
                                                   : 0.5f * (layout_.y[size_t(path_.front().node)] + layout_.y[size_t(path_.back().node)]);
  center_on(view_, x, y, size.x, size.y);
}

void DecisionTreePanel::draw_tree(ImVec2 size) {
  const tree::Forest& forest = trained_->forest;
  const tree::ObliqueTree& t = forest.trees[size_t(tree_index_)];
  tree_size_ = size;
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const ImVec2 p1(p0.x + size.x, p0.y + size.y);
  ImGui::InvisibleButton("##tree", size, ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
  // The rectangle rather than IsItemHovered, and not blocked by an active item: a wheel step that
  // arrives while ImGui still holds an item active (its release is seen a frame later) must zoom.
  const bool active = ImGui::IsItemActive();
  const bool hovered =
      active || (ImGui::IsWindowHovered(ImGuiHoveredFlags_AllowWhenBlockedByActiveItem) && ImGui::IsMouseHoveringRect(p0, p1));
  const ImGuiIO& io = ImGui::GetIO();
  if (hovered && ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) view_request_ = ViewRequest::Whole;
  apply_view_request(size);
  if (active && (io.MouseDelta.x != 0 || io.MouseDelta.y != 0)) {
    view_.offset_x += io.MouseDelta.x;
    view_.offset_y += io.MouseDelta.y;
  }
  if (hovered && io.MouseWheel != 0)
    zoom_at(view_, io.MousePos.x - p0.x, io.MousePos.y - p0.y, std::pow(1.25f, io.MouseWheel));
  record_region("decision_tree.tree", p0, p1);

  ImDrawList* draw = ImGui::GetWindowDrawList();
  draw->AddRectFilled(p0, p1, kCanvasColor);
  draw->PushClipRect(p0, p1, true);
  const float zoom = view_.zoom, level_px = zoom * view_.level_factor;
  const float s = std::min(zoom * 0.78f, level_px * 0.5f);  // node image size
  const float bar_h = std::min(s * 0.45f, (level_px - s) * 0.45f);
  const auto center = [&](int node) {
    return ImVec2(p0.x + view_.screen_x(layout_.x[size_t(node)]), p0.y + view_.screen_y(layout_.y[size_t(node)]));
  };
  const ImVec2 clip_min(p0.x - s, p0.y - s), clip_max(p1.x + s, p1.y + s + bar_h);
  const bool has_path = on_path_.size() == t.nodes.size();

  // Edges first (under the nodes): parent's bottom to child's top; the path's thick and yellow.
  for (size_t i = 1; i < t.nodes.size(); ++i) {
    const int parent = t.nodes[i].parent;
    ImVec2 a = center(parent), b = center(int(i));
    a.y += s * 0.5f;
    b.y -= s * 0.5f;
    if (!segment_visible(a, b, clip_min, clip_max)) continue;
    const bool lit = has_path && on_path_[size_t(parent)] && on_path_[i];
    const bool sibling = has_path && on_path_[size_t(parent)] && !on_path_[i];
    draw->AddLine(a, b, lit ? kPathColor : sibling ? kSiblingEdgeColor : kEdgeColor,
                  lit ? std::clamp(zoom * 0.08f, 2.0f, 4.0f) : 1.0f);
  }

  // Nodes: template images when they are large enough to read, boxes otherwise.
  const Texture& texture = textures().get("templates", forest_generation_ * 4096 + uint64_t(tree_index_) + 1,
                                          [&]() -> const RgbaImage& { return atlas_.image; });
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    const ImVec2 c = center(int(i));
    if (c.x < clip_min.x || c.x > clip_max.x || c.y < clip_min.y || c.y > clip_max.y) continue;
    const bool lit = has_path && on_path_[i];
    const ImVec2 n0(c.x - s * 0.5f, c.y - s * 0.5f), n1(c.x + s * 0.5f, c.y + s * 0.5f);
    const tree::TreeNode& node = t.nodes[i];
    if (s >= 6) {
      const int tile = atlas_tile_[i];
      if (tile >= 0) {
        const AtlasTile& at = atlas_.tiles[size_t(tile)];
        draw->AddImage(texture.imgui_id(), n0, n1, ImVec2(at.u0, at.v0), ImVec2(at.u1, at.v1));
      } else {
        draw->AddRectFilled(n0, n1, IM_COL32(60, 60, 70, 255));
      }
      draw->AddRect(ImVec2(n0.x - 1, n0.y - 1), ImVec2(n1.x + 1, n1.y + 1), lit ? kPathColor : kNodeBorder, 0, 0,
                    lit ? 2.0f : 1.0f);
    } else {
      ImU32 color = lit ? kPathColor : IM_COL32(120, 120, 132, 255);
      if (node.is_leaf() && !lit) {
        const auto counts = t.node_class_counts(int(i));
        color = class_color(int(std::max_element(counts.begin(), counts.end()) - counts.begin()));
      }
      const float half = std::max(1.0f, s * 0.5f);
      draw->AddRectFilled(ImVec2(c.x - half, c.y - half), ImVec2(c.x + half, c.y + half), color);
    }
    if (node.is_leaf() && s >= 10) {
      const std::vector<float> p = normalized(t.node_class_counts(int(i)));
      draw_histogram(draw, ImVec2(n0.x, n1.y + 3), ImVec2(n1.x, n1.y + 3 + bar_h), p);
    }
  }

  // Each child's score ⟨W(c,g)|I0⟩ + b(c,g) on its edge, for the nodes on the path.
  char text[32];
  for (const tree::PathStep& step : path_) {
    const tree::TreeNode& node = t.nodes[size_t(step.node)];
    for (size_t g = 0; g < step.child_scores.size(); ++g) {
      const int child = node.first_child + int(g);
      const bool chosen = int(g) == step.chosen;
      std::snprintf(text, sizeof text, "%.1f", double(step.child_scores[g]));
      const ImVec2 a = center(step.node), b = center(child);
      const ImVec2 at(a.x + (b.x - a.x) * 0.62f, a.y + s * 0.5f + (b.y - a.y - s) * 0.62f);
      const ImVec2 extent = ImGui::CalcTextSize(text);
      // Siblings' labels need room side by side, and every label a level's height: zoomed far out
      // (a whole 300-node tree fitted) the chosen ones would stack on each other.
      if (!chosen && zoom * 0.6f < extent.x + 4) continue;
      if (level_px < extent.y * 1.4f) continue;
      if (at.x < p0.x - extent.x || at.x > p1.x + extent.x || at.y < p0.y - extent.y || at.y > p1.y) continue;
      const ImVec2 t0(at.x - extent.x * 0.5f - 2, at.y - extent.y * 0.5f);
      draw->AddRectFilled(t0, ImVec2(t0.x + extent.x + 4, t0.y + extent.y), IM_COL32(15, 15, 18, 220), 2);
      draw->AddText(ImVec2(t0.x + 2, t0.y), chosen ? kPathColor : IM_COL32(210, 210, 210, 255), text);
    }
  }
  draw->PopClipRect();

  // A node under the mouse: its template enlarged, its training data's labels.
  if (hovered && !active) {
    const float lx = view_.layout_x(io.MousePos.x - p0.x), ly = view_.layout_y(io.MousePos.y - p0.y);
    const float rx = std::max(0.5f * s, 3.0f) / zoom, ry = std::max(0.5f * s, 3.0f) / level_px;
    int found = -1;
    for (size_t i = 0; i < t.nodes.size() && found < 0; ++i)
      if (std::abs(layout_.x[i] - lx) <= rx && std::abs(layout_.y[i] - ly) <= ry) found = int(i);
    if (found >= 0) {
      const tree::TreeNode& node = t.nodes[size_t(found)];
      const auto counts = t.node_class_counts(found);
      const float total = std::accumulate(counts.begin(), counts.end(), 0.0f);
      const float enlarged = scaled(112);
      ImGui::BeginTooltip();
      ImGui::Text("node %d, depth %u, %s, %.0f training images", found, node.depth,
                  node.is_leaf() ? "leaf" : (std::to_string(node.num_children) + " children").c_str(), double(total));
      if (atlas_tile_[size_t(found)] >= 0) {
        const AtlasTile& at = atlas_.tiles[size_t(atlas_tile_[size_t(found)])];
        ImGui::Image(texture.imgui_id(), ImVec2(enlarged, enlarged), ImVec2(at.u0, at.v0), ImVec2(at.u1, at.v1));
        ImGui::SameLine();
      }
      const ImVec2 h0 = ImGui::GetCursorScreenPos();
      ImGui::Dummy(ImVec2(enlarged, enlarged));
      draw_histogram(ImGui::GetWindowDrawList(), h0, ImVec2(h0.x + enlarged, h0.y + enlarged), normalized(counts));
      ImGui::TextDisabled(node.is_leaf() ? "p(c | leaf) in class colors" : "labels of its training images");
      ImGui::EndTooltip();
    }
  }
}

float DecisionTreePanel::drawing_ink() const { return std::accumulate(drawing_.begin(), drawing_.end(), 0.0f); }

void DecisionTreePanel::draw_drawing_canvas(const Dataset& data, float scale) {
  const ImVec2 size(float(data.width) * scale, float(data.height) * scale);
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton("##drawing", size, ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
  record_region("decision_tree.drawing", p0, ImVec2(p0.x + size.x, p0.y + size.y));
  const ImGuiIO& io = ImGui::GetIO();
  if (ImGui::IsItemActive()) {
    const float x = (io.MousePos.x - p0.x) / scale, y = (io.MousePos.y - p0.y) / scale;
    const bool erase = io.MouseDown[ImGuiMouseButton_Right] && !io.MouseDown[ImGuiMouseButton_Left];
    if (!drawing_active_) last_draw_x_ = x, last_draw_y_ = y;
    if (paint_stroke(drawing_, data.width, data.height, last_draw_x_, last_draw_y_, x, y, erase)) ++drawing_version_;
    last_draw_x_ = x;
    last_draw_y_ = y;
    drawing_active_ = true;
    source_ = Source::Drawing;
  } else {
    drawing_active_ = false;
  }
  const Texture& texture = textures().get("drawing", drawing_version_, [&]() -> const RgbaImage& {
    static thread_local RgbaImage image;
    image = image_to_rgba({1, data.height, data.width, drawing_.data()}, Normalization::UnitRange);
    return image;
  });
  ImDrawList* draw = ImGui::GetWindowDrawList();
  draw->AddImage(texture.imgui_id(), p0, ImVec2(p0.x + size.x, p0.y + size.y));
  draw->AddRect(ImVec2(p0.x - 1, p0.y - 1), ImVec2(p0.x + size.x + 1, p0.y + size.y + 1),
                source_ == Source::Drawing ? kPathColor : kNodeBorder, 0, 0, source_ == Source::Drawing ? 2.0f : 1.0f);
  if (ImGui::IsItemHovered() && !ImGui::IsItemActive())
    ImGui::SetTooltip("Left drag paints, right drag erases: the path follows the drawing");
}

float DecisionTreePanel::vote_table_width() const {
  float names = 0;
  for (const std::string& name : trained_->forest.class_names) names = std::max(names, ImGui::CalcTextSize(name.c_str()).x);
  return names + scaled(6) + 2 * bar_width() + scaled(6);
}

float DecisionTreePanel::bar_width() { return std::max(scaled(kMinBarWidth), ImGui::CalcTextSize("forest").x + scaled(2)); }

void DecisionTreePanel::draw_side(const Dataset& data, bool table_beside_inputs) {
  // The inputs: the probe (click it to route it again) and the drawing canvas, the current input
  // framed in yellow; and the forest's vote and this tree's leaf histogram, class by class.
  const ImVec2 image_size = picture_size(data.width, data.height, kSideMagnification);
  ImGui::BeginGroup();
  draw_probe(data, image_size);
  if (!table_beside_inputs) ImGui::SameLine();
  ImGui::BeginGroup();
  const ImVec2 canvas_origin = ImGui::GetCursorScreenPos();
  draw_drawing_canvas(data, image_size.x / float(std::max(data.width, 1)));
  if (ImGui::SmallButton("Clear")) {
    std::fill(drawing_.begin(), drawing_.end(), 0.0f);
    ++drawing_version_;
    source_ = Source::Drawing;
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Clear the drawing");
  same_line_if_fits(button_width("Copy"), canvas_origin.x + image_size.x);
  if (ImGui::SmallButton("Copy") && have_probe_ && probe_index_ < data.size()) {
    const auto image = data.image(probe_index_);  // the first channel, to edit by hand
    std::copy(image.begin(), image.begin() + long(drawing_.size()), drawing_.begin());
    ++drawing_version_;
    source_ = Source::Drawing;
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Copy the probe into the drawing, to edit it by hand");
  ImGui::EndGroup();
  ImGui::EndGroup();
  if (table_beside_inputs) ImGui::SameLine();
  draw_vote(data, vote_table_width());
}

void DecisionTreePanel::draw_probe(const Dataset& data, ImVec2 image_size) {
  ImGui::BeginGroup();
  const ImVec2 q0 = ImGui::GetCursorScreenPos();
  if (have_probe_ && probe_index_ < data.size()) {
    const Texture& texture = textures().get("probe", (dataset_->version << 32) ^ (uint64_t(probe_index_) + 1), [&]() -> const RgbaImage& {
      static thread_local RgbaImage image;
      image = image_to_rgba({data.channels, data.height, data.width, data.image(probe_index_).data()}, Normalization::UnitRange);
      return image;
    });
    if (ImGui::ImageButton(texture.imgui_id(), image_size, ImVec2(0, 0), ImVec2(1, 1), 0)) source_ = Source::Probe;
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Probe #%zu (%s): click to route it (pick another in the dataset browser)", probe_index_,
                        data.class_names[size_t(data.labels[probe_index_])].c_str());
    ImGui::GetWindowDrawList()->AddRect(ImVec2(q0.x - 1, q0.y - 1), ImVec2(q0.x + image_size.x + 1, q0.y + image_size.y + 1),
                                        source_ == Source::Probe ? kPathColor : kNodeBorder, 0, 0,
                                        source_ == Source::Probe ? 2.0f : 1.0f);
    char caption[96];
    std::snprintf(caption, sizeof caption, "#%zu %s", probe_index_, data.class_names[size_t(data.labels[probe_index_])].c_str());
    text_elided(caption, image_size.x, IM_COL32(170, 170, 170, 255));
  } else {
    ImGui::Dummy(image_size);
    ImGui::TextDisabled("no probe");
  }
  ImGui::EndGroup();
}

void DecisionTreePanel::draw_vote(const Dataset& data, float table_w) {
  if (path_.empty() || vote_.empty()) return;
  const tree::Forest& forest = trained_->forest;
  const int voted = int(std::max_element(vote_.begin(), vote_.end()) - vote_.begin());
  const tree::ObliqueTree& t = forest.trees[size_t(tree_index_)];
  const int leaf = path_.back().node;
  ImGui::BeginGroup();
  const bool known = source_ == Source::Probe && have_probe_ && probe_index_ < data.size();
  const bool correct = known && data.labels[probe_index_] == voted;
  ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + table_w);
  ImGui::TextColored(!known ? ImVec4(1, 0.8f, 0.3f, 1) : correct ? ImVec4(0.5f, 0.9f, 0.5f, 1) : ImVec4(1, 0.45f, 0.45f, 1),
                     "→ %s %.2f", forest.class_names[size_t(voted)].c_str(), double(vote_[size_t(voted)]));
  ImGui::PopTextWrapPos();
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("The forest's vote (mean of its %zu trees' leaf histograms)", forest.trees.size());

  // vote_table_width() leaves room for the widest class name and two bars of at least bar_width().
  const float row_h = ImGui::GetTextLineHeight() + 1, gap = scaled(6);
  const float bar_w = bar_width(), name_w = table_w - 2 * bar_w - gap;
  ImDrawList* draw = ImGui::GetWindowDrawList();
  ImVec2 origin = ImGui::GetCursorScreenPos();
  draw->AddText(ImVec2(origin.x + name_w, origin.y), IM_COL32(160, 160, 160, 255), "leaf");
  draw->AddText(ImVec2(origin.x + name_w + bar_w + gap, origin.y), IM_COL32(160, 160, 160, 255), "forest");
  origin.y += row_h;
  const PanelRect vote_rect{origin, ImVec2(origin.x + table_w, origin.y + row_h * float(forest.num_classes))};
  for (int c = 0; c < forest.num_classes; ++c) {
    const float y = origin.y + float(c) * row_h;
    draw->PushClipRect(ImVec2(origin.x, y), ImVec2(origin.x + name_w - 3, y + row_h), true);
    draw->AddText(ImVec2(origin.x, y), c == voted ? IM_COL32(255, 255, 255, 255) : IM_COL32(175, 175, 175, 255),
                  forest.class_names[size_t(c)].c_str());
    draw->PopClipRect();
    const float leaf_p = c < int(leaf_histogram_.size()) ? leaf_histogram_[size_t(c)] : 0.0f;
    const float x0 = origin.x + name_w, x1 = x0 + bar_w + gap;
    draw->AddRectFilled(ImVec2(x0, y + 2), ImVec2(x0 + bar_w, y + row_h - 2), IM_COL32(38, 38, 46, 255));
    draw->AddRectFilled(ImVec2(x0, y + 2), ImVec2(x0 + bar_w * leaf_p, y + row_h - 2), class_color(c));
    draw->AddRectFilled(ImVec2(x1, y + 2), ImVec2(x1 + bar_w, y + row_h - 2), IM_COL32(38, 38, 46, 255));
    draw->AddRectFilled(ImVec2(x1, y + 2), ImVec2(x1 + bar_w * vote_[size_t(c)], y + row_h - 2), class_color(c));
  }
  ImGui::Dummy(ImVec2(table_w, row_h * float(forest.num_classes + 1)));
  record_region("decision_tree.vote", vote_rect.min, vote_rect.max);
  if (ImGui::IsItemHovered()) {
    const int c = int((ImGui::GetIO().MousePos.y - origin.y) / row_h);
    if (c >= 0 && c < forest.num_classes)
      ImGui::SetTooltip("%s: tree %d's leaf %.3f, forest (%zu trees) %.3f", forest.class_names[size_t(c)].c_str(),
                        tree_index_, double(c < int(leaf_histogram_.size()) ? leaf_histogram_[size_t(c)] : 0.0f),
                        forest.trees.size(), double(vote_[size_t(c)]));
  }
  const auto counts = t.node_class_counts(leaf);
  ImGui::TextDisabled("leaf %d: %.0f images", leaf, double(std::accumulate(counts.begin(), counts.end(), 0.0f)));
  ImGui::EndGroup();
}

// ---------------------------------------------------------------------------------------------
// Export

void DecisionTreePanel::write_export(const QString& path, const QString& format) {
  if (format == "csv") {
    // The path with every child's score, then the leaf's histogram and the forest's vote.
    if (!trained_ || path_.empty()) throw Error("no path to export: train a forest and pick an image first");
    const tree::Forest& forest = trained_->forest;
    const std::string file = path.toStdString();
    std::ostringstream out;
    out << "tree,depth,node,child,child_node,score,chosen\n";
    const tree::ObliqueTree& t = forest.trees[size_t(tree_index_)];
    for (const tree::PathStep& step : path_)
      for (size_t g = 0; g < step.child_scores.size(); ++g)
        out << tree_index_ << ',' << t.nodes[size_t(step.node)].depth << ',' << step.node << ',' << g << ','
            << t.nodes[size_t(step.node)].first_child + int(g) << ',' << step.child_scores[g] << ','
            << (int(g) == step.chosen ? 1 : 0) << '\n';
    out << "\nclass,name,leaf_p,forest_p\n";
    for (int c = 0; c < forest.num_classes; ++c)
      out << c << ",\"" << forest.class_names[size_t(c)] << "\","
          << (c < int(leaf_histogram_.size()) ? leaf_histogram_[size_t(c)] : 0.0f) << ',' << vote_[size_t(c)] << '\n';
    write_file_atomically(file, out.str());  // as every export (ui/export_files.h)
    return;
  }
  // The panel as it is on screen (the tree at its current zoom, the input and the vote).
  export_png(path.toStdString(), screen_image());
}

}  // namespace drmm::ui
