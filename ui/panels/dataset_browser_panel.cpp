#include "ui/panels/dataset_browser_panel.h"

#include <algorithm>
#include <string>

#include <imgui.h>

#include "ui/export_files.h"
#include "ui/session_controller.h"
#include "ui/tile_grid.h"

namespace drmm::ui {
namespace {

constexpr ImU32 kLabeledColor = IM_COL32(90, 220, 110, 255);
constexpr ImU32 kUnlabeledColor = IM_COL32(130, 130, 140, 255);
constexpr ImU32 kProbeColor = IM_COL32(255, 200, 40, 255);

}  // namespace

DatasetBrowserPanel::DatasetBrowserPanel(SessionController* session, FrameStats* stats, QWidget* parent)
    : ImGuiPanelHost(tr("Dataset browser"), session, stats, parent) {
  setObjectName("dataset_browser");
  connect(session, &SessionController::dataset_loaded, this, [this] { request_frames(); });
  connect(session, &SessionController::probes_changed, this, [this] { request_frames(); });
  connect(session, &SessionController::config_changed, this, [this] { request_frames(); });
}

QString DatasetBrowserPanel::help_text() const {
  return tr(
      "The images the model trains on, a page at a time; each caption is the image's class. Click an image to make "
      "it a probe (one of the images the Reconstructions panel shows) or to remove it (at most 8). The wheel or "
      "the arrows turn pages; the two lists above show one class only, or only labeled or unlabeled images.\n"
      "A green frame and caption: one of the N_L images whose label the model sees. A gray caption: an image the "
      "model learns from without its label. A yellow frame: a probe.\n"
      "The labeled images are the balanced semi-supervised split of Nguyen, Liu, Perez, Baraniuk & Patel, "
      "“Semi-Supervised Learning with the Deep Rendering Mixture Model”, CVPR 2017, sec. 4–5, drawn with the run's "
      "seed. On unlabeled images only L_RC, L_KL and L_NN (eq. 6–8) act.");
}

void DatasetBrowserPanel::refilter(const BrowsedDataset& dataset) {
  visible_.clear();
  if (!dataset.data) return;
  const Dataset& data = *dataset.data;
  for (size_t i = 0; i < data.size(); ++i) {
    if (class_filter_ >= 0 && data.labels[i] != class_filter_) continue;
    const bool labeled = i < dataset.labeled.size() && dataset.labeled[i] != 0;
    if ((marking_filter_ == 1 && !labeled) || (marking_filter_ == 2 && labeled)) continue;
    visible_.push_back(i);
  }
  ++atlas_version_;
}

void DatasetBrowserPanel::draw(const Snapshot&) {
  const std::shared_ptr<const BrowsedDataset> dataset = session()->dataset();
  if (dataset != dataset_) {
    dataset_ = dataset;
    page_ = 0;
    class_filter_ = -1;
    if (dataset_) refilter(*dataset_);
  }
  if (!dataset_ || !dataset_->data) {
    draw_header(dataset_ && !dataset_->error.empty() ? "Could not load the dataset:" : "Loading the dataset…");
    if (dataset_ && !dataset_->error.empty()) ImGui::TextWrapped("%s", dataset_->error.c_str());
    return;
  }
  const Dataset& data = *dataset_->data;
  const size_t labeled_count = size_t(std::count(dataset_->labeled.begin(), dataset_->labeled.end(), 1));
  draw_header(data.name + ": " + std::to_string(data.size()) + " training images, " + std::to_string(data.num_classes()) +
              " classes, " + std::to_string(labeled_count) + " labeled");

  // Filters and zoom on one line, or as many lines as a narrow dock needs; pages on the next.
  bool changed = false;
  float class_w = combo_width("all classes");
  for (const std::string& name : data.class_names) class_w = std::max(class_w, combo_width(name.c_str()));
  ImGui::SetNextItemWidth(class_w);
  const char* class_preview = class_filter_ < 0 ? "all classes" : data.class_names[size_t(class_filter_)].c_str();
  if (ImGui::BeginCombo("##class", class_preview)) {
    if (ImGui::Selectable("all classes", class_filter_ < 0)) class_filter_ = -1, changed = true;
    for (int c = 0; c < data.num_classes(); ++c)
      if (ImGui::Selectable(data.class_names[size_t(c)].c_str(), c == class_filter_)) class_filter_ = c, changed = true;
    ImGui::EndCombo();
  }
  const float marking_w = combo_width("labeled and unlabeled");
  same_line_if_fits(marking_w);
  ImGui::SetNextItemWidth(marking_w);
  changed |= ImGui::Combo("##marking", &marking_filter_, "labeled and unlabeled\0labeled only\0unlabeled only\0");
  const float zoom_w = scaled(70);
  same_line_if_fits(zoom_w + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize("zoom").x);
  ImGui::SetNextItemWidth(zoom_w);
  ImGui::SliderInt("zoom", &zoom_, 1, 4, "%d×");
  if (changed) {
    page_ = 0;
    refilter(*dataset_);
  }

  // Page size follows the panel: as many cells as fit below the page controls.
  const float caption_h = ImGui::GetTextLineHeight();
  ImVec2 avail = ImGui::GetContentRegionAvail();
  avail.y -= ImGui::GetFrameHeightWithSpacing();
  const GridLayout layout = grid_at_scale(data.width, data.height, float(zoom_), avail, 4.0f, caption_h);
  const size_t per_page = size_t(layout.columns) * size_t(layout.rows);
  const size_t pages = std::max<size_t>(1, (visible_.size() + per_page - 1) / per_page);
  page_ = std::min(page_, pages - 1);

  if (ImGui::ArrowButton("##prev", ImGuiDir_Left) && page_ > 0) --page_;
  ImGui::SameLine();
  if (ImGui::ArrowButton("##next", ImGuiDir_Right) && page_ + 1 < pages) ++page_;
  ImGui::SameLine();
  int page_number = int(page_) + 1;
  const std::string page_format = "page %d of " + std::to_string(pages);
  ImGui::SetNextItemWidth(std::max(80.0f, ImGui::GetContentRegionAvail().x));
  if (ImGui::SliderInt("##page", &page_number, 1, int(pages), page_format.c_str()))
    page_ = size_t(std::clamp(page_number, 1, int(pages)) - 1);

  // The page's atlas: rebuilt only when the images on it change.
  const size_t first = page_ * per_page;
  const size_t count = first < visible_.size() ? std::min(per_page, visible_.size() - first) : 0;
  if (atlas_indices_.size() != count || !std::equal(atlas_indices_.begin(), atlas_indices_.end(), visible_.begin() + long(first))) {
    atlas_indices_.assign(visible_.begin() + long(first), visible_.begin() + long(first + count));
    std::vector<AtlasItem> items;
    items.reserve(count);
    for (size_t i : atlas_indices_)
      items.push_back({{data.channels, data.height, data.width, data.image(i).data()}, Normalization::UnitRange});
    atlas_ = build_atlas(items, std::max(layout.columns, 1));
    ++atlas_version_;
  }
  if (count == 0) {
    ImGui::TextDisabled("No image matches the filters.");
    return;
  }
  const Texture& texture = textures().get("page", atlas_version_, [&]() -> const RgbaImage& { return atlas_.image; });

  const std::vector<size_t>& probes = session()->probes();
  const GridEvents events = draw_tile_grid("##images", texture, atlas_, int(count), layout, [&](int i, ImVec2 p0, ImVec2 p1) {
    const size_t index = atlas_indices_[size_t(i)];
    const bool labeled = index < dataset_->labeled.size() && dataset_->labeled[index] != 0;
    const bool probe = std::find(probes.begin(), probes.end(), index) != probes.end();
    ImDrawList* draw = ImGui::GetWindowDrawList();
    if (labeled) draw->AddRect(ImVec2(p0.x - 1, p0.y - 1), ImVec2(p1.x + 1, p1.y + 1), kLabeledColor, 0, 0, 1.5f);
    if (probe) draw->AddRect(ImVec2(p0.x - 2, p0.y - 2), ImVec2(p1.x + 2, p1.y + 2), kProbeColor, 0, 0, 2.5f);
    const std::string name = elide_to_width(data.class_names[size_t(data.labels[index])], p1.x - p0.x + 2);
    draw->PushClipRect(ImVec2(p0.x, p1.y), ImVec2(p1.x + 3, p1.y + caption_h + 2), true);
    draw->AddText(ImVec2(p0.x, p1.y + 1), labeled ? kLabeledColor : kUnlabeledColor, name.c_str());
    draw->PopClipRect();
  });
  record_region("dataset_browser.grid", events.rect.min, events.rect.max);
  if (events.hovered >= 0) {
    const size_t index = atlas_indices_[size_t(events.hovered)];
    const bool labeled = dataset_->labeled[index] != 0;
    ImGui::SetTooltip("#%zu  %s  (%s)\nclick: %s probe", index, data.class_names[size_t(data.labels[index])].c_str(),
                      labeled ? "labeled" : "unlabeled",
                      std::find(probes.begin(), probes.end(), index) != probes.end() ? "remove from" : "add as");
    const float wheel = ImGui::GetIO().MouseWheel;
    if (wheel < 0 && page_ + 1 < pages) ++page_;
    if (wheel > 0 && page_ > 0) --page_;
  }
  if (events.clicked >= 0) session()->toggle_probe(atlas_indices_[size_t(events.clicked)]);
}

void DatasetBrowserPanel::write_export(const QString& path, const QString&) {
  export_png(path.toStdString(), scale_nearest(atlas_.image, 2));
}

}  // namespace drmm::ui
