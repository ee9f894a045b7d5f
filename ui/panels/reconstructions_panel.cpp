#include "ui/panels/reconstructions_panel.h"

#include <algorithm>
#include <numeric>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <imgui.h>

#include "ui/export_files.h"
#include "ui/session_controller.h"
#include "ui/tile_grid.h"

namespace drmm::ui {
namespace {

// Widths at 100 % zoom (scaled with the text): the label column, and in it the q(c|I) bars right
// of the label text.
constexpr float kLabelColumnWidth = 200.0f;
constexpr float kBarsWidth = 64.0f;

// "conv1 16×5×5 valid" → "conv1": the column is as narrow as a picture; the full name is in the tooltip.
std::string level_short_name(const Snapshot& snapshot, size_t level) {
  // (Appending instead of `"ℓ" + std::to_string(…)`: GCC 12 -O3 reports a false -Wrestrict there.)
  std::string title = "ℓ";
  if (level >= snapshot.level_names.size()) return title.append(std::to_string(level + 1));
  const std::string& name = snapshot.level_names[level];
  return name.substr(0, name.find(' '));
}

std::string column_title(const Snapshot& snapshot, int column) {
  if (column == 0) return "I";
  if (column == 1) return "Î";
  return level_short_name(snapshot, size_t(column - 2));
}

std::string column_description(const Snapshot& snapshot, int column) {
  if (column == 0) return "input I";
  if (column == 1) return "Î: rendered top-down from the class";
  const size_t level = size_t(column - 2);
  std::string text = "reconstruction from ";
  if (level < snapshot.level_names.size()) return text.append(snapshot.level_names[level]);
  return text.append("level ").append(std::to_string(level + 1));
}

uint64_t probes_hash(const Snapshot& snapshot) {
  uint64_t h = 1;
  for (const ProbeView& probe : snapshot.probes) {
    h = content_hash(ImageF{1, 1, int(probe.class_probabilities.size()), probe.class_probabilities}, h ^ probe.dataset_index);
    h = content_hash(probe.input, h);
    h = content_hash(probe.reconstruction, h);
    for (const ImageF& level : probe.from_level) h = content_hash(level, h);
  }
  return h;
}

}  // namespace

ReconstructionsPanel::ReconstructionsPanel(SessionController* session, FrameStats* stats, QWidget* parent)
    : ImGuiPanelHost(tr("Reconstructions"), session, stats, parent) {
  setObjectName("reconstructions");
}

QString ReconstructionsPanel::help_text() const {
  return tr(
      "How well the model draws back what it sees. Each row is a probe image (pick them in the Dataset browser; "
      "right-click a picture to drop its row). At the left: the image's number and true class, the class the model "
      "predicts (after →, green when right) with its probability, and bars for the model's belief in each class "
      "(green: the true class). Then the input I, the model's drawing Î of it, and drawings started from each "
      "layer. The more Î looks like I, the better the model explains the image. Hover a picture to enlarge it and "
      "see r, its correlation with the input (1: a perfect match).\n"
      "I: the input. Î: the DRMM's top-down E-step, rendering the image from the class (the label when known, "
      "otherwise the prediction ĉ) with the latents a (which templates are on) and t (where in each pooling "
      "window) inferred bottom-up: z^(ℓ) = Λ_g^(ℓ) z^(ℓ+1) = DRMMLayer(z^(ℓ+1), t^(ℓ), a^(ℓ), Γ^(ℓ)) (Nguyen, Liu, "
      "Perez, Baraniuk & Patel, “Semi-Supervised Learning with the Deep Rendering Mixture Model”, CVPR 2017, App. B "
      "eq. 11–14), down to pixels. L_RC (eq. 6) is the distance between I and Î.\n"
      "conv1, pool1, …: the same top-down pass started at that level from the bottom-up activations instead of the "
      "class (Ho, Nguyen, Patel, Anandkumar, Jordan & Baraniuk, “Neural Rendering Model”, 2019, Fig. 4): low "
      "levels keep almost every detail, high levels keep what the class needs.\n"
      "I and Î share the pixel scale [0,1] (tick 'stretch Î' to stretch Î to its own range); each per-level "
      "picture is stretched to its own min…max.\n"
      "Bars: q(c|I), the softmax of the bottom-up pass; the arrow line is the prediction ĉ.");
}

uint64_t ReconstructionsPanel::view_key(const Snapshot& snapshot) {
  views_hash_ = probes_hash(snapshot);
  return views_hash_;
}

void ReconstructionsPanel::rebuild_atlas(const Snapshot& snapshot) {  size_t levels = 0;
  for (const ProbeView& probe : snapshot.probes) levels = std::max(levels, probe.from_level.size());
  columns_ = int(2 + levels);
  std::vector<AtlasItem> items;
  items.reserve(snapshot.probes.size() * size_t(columns_));
  const Normalization reconstruction = stretch_reconstruction_ ? Normalization::MinMax : Normalization::UnitRange;
  for (const ProbeView& probe : snapshot.probes) {
    items.push_back({view_of(probe.input), Normalization::UnitRange});
    items.push_back({view_of(probe.reconstruction), reconstruction});
    for (size_t l = 0; l < levels; ++l)
      items.push_back({l < probe.from_level.size() ? view_of(probe.from_level[l]) : ImageView{}, Normalization::MinMax});
  }
  atlas_ = build_atlas(items, columns_);
}

void ReconstructionsPanel::draw(const Snapshot& snapshot) {
  text_elided("Input I, reconstruction Î, and from each level", ImGui::GetContentRegionAvail().x);
  same_line_if_fits(checkbox_width("stretch Î"));
  ImGui::Checkbox("stretch Î", &stretch_reconstruction_);
  // The run's newest measurement on test images: how faithful Î is beyond these probes.
  const auto measured = std::find_if(snapshot.history.rbegin(), snapshot.history.rend(),
                                     [](const MetricsRow& r) { return r.rendering.count > 0; });
  if (measured != snapshot.history.rend()) {
    char text[96];
    std::snprintf(text, sizeof text, "test: r(I, Î) %.2f, self-consistency %.2f", measured->rendering.r_mean,
                  measured->rendering.self_consistency);
    same_line_if_fits(ImGui::CalcTextSize(text).x);
    ImGui::TextDisabled("%s", text);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Measured on test images at the last evaluation, Î rendered from the predicted class:\n"
                        "r = Pearson correlation of I and Î; self-consistency = share of Î the model classifies\n"
                        "as the class it was rendered from.");
  }
  draw_header_tools();
  if (snapshot.probes.empty()) {
    ImGui::TextDisabled(snapshot.version == 0 ? "Waiting for the model…" : "No probe images: click images in the Dataset browser.");
    return;
  }
  const uint64_t key = views_hash_ ^ (stretch_reconstruction_ ? 0x5bd1e995u : 0u);
  if (key != atlas_key_ || atlas_.tiles.empty()) {
    atlas_key_ = key;
    rebuild_atlas(snapshot);
  }
  const Texture& texture = textures().get("strip", atlas_key_, [&]() -> const RgbaImage& { return atlas_.image; });
  if (texture.id == 0 || atlas_.tiles.empty()) return;

  // Tile size: fill the width and fit every row in the height, but never shorter than a row's two
  // label lines (the panel scrolls then); whole multiples of the image size keep pixels square and
  // sharp unless that would waste more than a quarter of the room.
  const ImGuiStyle& style = ImGui::GetStyle();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  // At a large zoom in a narrow dock the labels give up room (they are clipped) before the pictures.
  const float label_w = std::min(scaled(kLabelColumnWidth), 0.4f * avail.x), bars_w = std::min(scaled(kBarsWidth), 0.3f * label_w);
  const float image_w = float(std::max(atlas_.tiles[0].width, 1)), image_h = float(std::max(atlas_.tiles[0].height, 1));
  const float line_h = ImGui::GetTextLineHeightWithSpacing();
  const size_t rows = snapshot.probes.size();
  const float fit = std::min((avail.x - label_w) / float(columns_) - style.ItemSpacing.x,
                             std::max((avail.y - line_h) / float(rows) - style.ItemSpacing.y, 2 * line_h)) / image_w;
  const float whole = std::floor(fit);
  const float scale = std::max(whole >= 1 && whole >= 0.75f * fit ? whole : fit, 0.5f);
  const ImVec2 tile(image_w * scale, image_h * scale);
  const float row_h = std::max(tile.y, 2 * line_h);

  ImDrawList* draw = ImGui::GetWindowDrawList();
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float step_x = tile.x + style.ItemSpacing.x;
  for (int c = 0; c < columns_; ++c) {
    // Elided to its column (the tooltip has the full name): adjacent titles never run together.
    const std::string title = elide_to_width(column_title(snapshot, c), step_x - style.ItemSpacing.x);
    const ImVec2 at(origin.x + label_w + float(c) * step_x, origin.y);
    draw->PushClipRect(at, ImVec2(at.x + step_x, at.y + line_h), true);
    draw->AddText(at, IM_COL32(200, 200, 200, 255), title.c_str());
    draw->PopClipRect();
  }
  ImGui::Dummy(ImVec2(avail.x, line_h - style.ItemSpacing.y));

  const ImVec2 strip_min = ImGui::GetCursorScreenPos();
  size_t remove_probe = SIZE_MAX;
  int hovered_row = -1, hovered_column = -1, hovered_bars = -1;
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  for (size_t r = 0; r < rows; ++r) {
    const ProbeView& probe = snapshot.probes[r];
    const ImVec2 row_min(strip_min.x, strip_min.y + float(r) * (row_h + style.ItemSpacing.y));
    // Label column: index and true class, the prediction, and q(c|I) as bars.
    const bool correct = probe.predicted == probe.label;
    const float q = probe.predicted >= 0 && size_t(probe.predicted) < probe.class_probabilities.size()
                        ? probe.class_probabilities[size_t(probe.predicted)]
                        : 0.0f;
    std::string first = "#";
    first.append(std::to_string(probe.dataset_index)).append(" ").append(snapshot.class_name(probe.label));
    char second[96];
    std::snprintf(second, sizeof second, "→ %s %.2f", snapshot.class_name(probe.predicted).c_str(), double(q));
    const float text_w = label_w - bars_w - 8;
    draw->PushClipRect(row_min, ImVec2(row_min.x + text_w, row_min.y + row_h), true);
    draw->AddText(row_min, IM_COL32(225, 225, 225, 255), elide_to_width(first, text_w).c_str());
    draw->AddText(ImVec2(row_min.x, row_min.y + line_h), correct ? IM_COL32(130, 230, 130, 255) : IM_COL32(255, 140, 115, 255),
                  elide_to_width(second, text_w).c_str());
    draw->PopClipRect();
    const size_t classes = probe.class_probabilities.size();
    if (classes > 0) {
      const ImVec2 bars_min(row_min.x + text_w, row_min.y + 2);
      const float bars_h = std::min(row_h, 2 * line_h) - 4;
      const float bar_w = bars_w / float(classes);
      for (size_t c = 0; c < classes; ++c) {
        const float p = std::clamp(probe.class_probabilities[c], 0.0f, 1.0f);
        const ImU32 color = int(c) == probe.label ? IM_COL32(120, 220, 120, 255) : IM_COL32(120, 150, 220, 255);
        draw->AddRectFilled(ImVec2(bars_min.x + float(c) * bar_w, bars_min.y + bars_h * (1 - p)),
                            ImVec2(bars_min.x + float(c + 1) * bar_w - 1, bars_min.y + bars_h), color);
      }
      draw->AddLine(ImVec2(bars_min.x, bars_min.y + bars_h), ImVec2(bars_min.x + bars_w, bars_min.y + bars_h),
                    IM_COL32(140, 140, 140, 255));
      if (PanelRect{bars_min, ImVec2(bars_min.x + bars_w, bars_min.y + bars_h)}.contains(mouse)) hovered_bars = int(r);
    }
    for (int c = 0; c < columns_; ++c) {
      const AtlasTile& t = atlas_.tiles[r * size_t(columns_) + size_t(c)];
      if (t.width == 0) continue;
      const ImVec2 p0(row_min.x + label_w + float(c) * step_x, row_min.y);
      const ImVec2 p1(p0.x + tile.x, p0.y + tile.y);
      draw->AddImage(texture.imgui_id(), p0, p1, ImVec2(t.u0, t.v0), ImVec2(t.u1, t.v1));
      if (PanelRect{p0, p1}.contains(mouse)) hovered_row = int(r), hovered_column = c;
    }
  }
  const float strip_h = float(rows) * (row_h + style.ItemSpacing.y);
  // One item for the whole strip: hover and right-click come from the mouse position.
  ImGui::InvisibleButton("##strip", ImVec2(std::max(label_w + float(columns_) * step_x, 1.0f), std::max(strip_h, 1.0f)),
                         ImGuiButtonFlags_MouseButtonRight);
  if (ImGui::IsItemHovered() && hovered_bars >= 0) {
    // The bars' classes by name, most probable first.
    const ProbeView& probe = snapshot.probes[size_t(hovered_bars)];
    std::vector<size_t> order(probe.class_probabilities.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return probe.class_probabilities[a] > probe.class_probabilities[b]; });
    ImGui::BeginTooltip();
    ImGui::TextUnformatted("q(c|I), the model's belief in each class (green: the true class)");
    for (const size_t c : order)
      ImGui::Text("%-14s %.3f", snapshot.class_name(int(c)).c_str(), double(probe.class_probabilities[c]));
    ImGui::EndTooltip();
  } else if (ImGui::IsItemHovered() && hovered_row >= 0) {
    const AtlasTile& t = atlas_.tiles[size_t(hovered_row) * size_t(columns_) + size_t(hovered_column)];
    ImGui::BeginTooltip();
    ImGui::TextUnformatted(column_description(snapshot, hovered_column).c_str());
    const ProbeView& probe = snapshot.probes[size_t(hovered_row)];
    const size_t level = size_t(hovered_column) - 2;
    if (hovered_column == 1)
      ImGui::Text("r(I, Î) = %.3f", probe.reconstruction_r);
    else if (hovered_column >= 2 && level < probe.from_level_r.size())
      ImGui::Text("r(I, this reconstruction) = %.3f", probe.from_level_r[level]);
    ImGui::Image(texture.imgui_id(), picture_size(int(image_w), int(image_h), 6), ImVec2(t.u0, t.v0), ImVec2(t.u1, t.v1));
    ImGui::TextDisabled("right-click: drop this probe");
    ImGui::EndTooltip();
    if (ImGui::IsItemClicked(ImGuiMouseButton_Right)) remove_probe = snapshot.probes[size_t(hovered_row)].dataset_index;
  }
  record_region("reconstructions.strip", ImVec2(strip_min.x + label_w, strip_min.y),
                ImVec2(strip_min.x + label_w + float(columns_) * step_x, strip_min.y + strip_h));
  if (remove_probe != SIZE_MAX) session()->toggle_probe(remove_probe);
}

void ReconstructionsPanel::write_export(const QString& path, const QString&) {
  export_png(path.toStdString(), scale_nearest(atlas_.image, 4));
}

}  // namespace drmm::ui
