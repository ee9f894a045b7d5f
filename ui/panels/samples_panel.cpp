#include "ui/panels/samples_panel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <imgui.h>

#include "core/model/sampler.h"
#include "core/util/error.h"
#include "ui/export_files.h"
#include "ui/session_controller.h"
#include "ui/tile_grid.h"

namespace drmm::ui {
namespace {

// About once a second while training: sampling every class and rendering like a few images is
// some hundred top-down passes on the trainer's thread.
constexpr qint64 kRefreshMs = 1000;
constexpr int kMaxLikeImages = 8;
// The class-conditional frequencies need a bottom-up pass over this many training images: measured
// again every 10 s, not at every refresh, so the training run is not slowed much.
constexpr size_t kFrequencyImages = 1000;
constexpr qint64 kFrequencyRefreshMs = 10000;
// The samples' row names and "k/N" column, at 100 % zoom (scaled with the text).
constexpr float kNamesWidth = 96, kRateWidth = 40;
constexpr ImU32 kRight = IM_COL32(80, 200, 100, 255);
constexpr ImU32 kWrong = IM_COL32(235, 80, 80, 255);

// Row names left of a grid whose rows are `layout.cell.y` apart, clipped to `width`.
void draw_row_names(ImVec2 origin, float width, const GridLayout& layout, int rows,
                    const std::function<std::string(int)>& name) {
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const float line_h = ImGui::GetTextLineHeight();
  for (int r = 0; r < rows; ++r) {
    const float y = origin.y + float(r) * layout.cell.y + 0.5f * (layout.tile.y - line_h);
    draw->PushClipRect(ImVec2(origin.x, y), ImVec2(origin.x + width - 4, y + line_h), true);
    draw->AddText(ImVec2(origin.x, y), IM_COL32(200, 200, 200, 255), name(r).c_str());
    draw->PopClipRect();
  }
}

}  // namespace

SamplesPanel::SamplesPanel(SessionController* session, FrameStats* stats, QWidget* parent)
    : ImGuiPanelHost(tr("Samples"), session, stats, parent) {
  setObjectName("samples");
  clock_.start();
  connect(session, &SessionController::dataset_loaded, this, [this] {
    wanted_ = true;
    request_frames();
  });
  connect(session, &SessionController::probes_changed, this, [this] { request_frames(); });
}

SamplesPanel::~SamplesPanel() { job_.wait(); }

QString SamplesPanel::help_text() const {
  return tr(
      "Images the model makes up. Each row is a class: the model picks its hidden choices (which templates are on, "
      "and where) at random and draws the class with them. A green border: the model recognizes its own drawing as "
      "that class; red: it does not (the caption then names the class it sees). New samples draws again. Below, "
      "'Render like' redraws real training images (first column) as every class, keeping each one's position, "
      "thickness and style.\n"
      "Generation with the DRMM (Nguyen, Liu, Perez, Baraniuk & Patel, “Semi-Supervised Learning with the Deep "
      "Rendering Mixture Model”, CVPR 2017, App. B, eq. 11–14): for each class (a row), latents drawn — per unit a ~ Bernoulli(π), "
      "per pooling window one position t ~ Cat(π) — and the class rendered top-down through them to pixels. With "
      "'per class π' the frequencies are the class's own, measured on training images (the DRMM's prior π_cg is "
      "over class and nuisance together); without, the model's class-agnostic π_a, π_t. Green or red: whether the "
      "bottom-up q(c|I) classifies the sample back as its class (if not, the caption names ĉ). The rate line is "
      "the share over all samples.\n"
      "Render like: each chosen training image with its own latents inferred bottom-up, rendered as every class: "
      "the image's nuisances (position, thickness, style) carried to the other classes. Edit the image indices "
      "above the grid.\n"
      "Both follow the model as it trains, about once a second.");
}

double SamplesPanel::classified_rate() const {
  if (shown_.predicted.empty() || shown_.per_class == 0) return 0;
  size_t right = 0;
  for (size_t i = 0; i < shown_.predicted.size(); ++i) right += shown_.predicted[i] == int(i / size_t(shown_.per_class));
  return double(right) / double(shown_.predicted.size());
}

void SamplesPanel::new_samples() {
  ++seed_;
  wanted_ = true;
  request_frames();
}

bool SamplesPanel::refresh_due() const {
  const std::shared_ptr<const Snapshot>& snapshot = snapshot_ptr();
  if (!snapshot || snapshot->version == 0 || job_.busy()) return false;
  return wanted_ || (snapshot->version != shown_version_ && clock_.elapsed() >= kRefreshMs);
}

bool SamplesPanel::animating() const { return job_.busy() || refresh_due(); }

void SamplesPanel::start_job(const Snapshot& snapshot) {
  if (like_indices_.empty()) {
    for (size_t i : session()->probes())
      if (like_indices_.size() < 4) like_indices_.push_back(int(i));
    if (like_indices_.empty()) like_indices_ = {0, 1, 2, 3};
  }
  const int per_class = per_class_;
  const uint64_t seed = seed_, version = snapshot.version;
  const std::vector<int> indices = like_indices_;
  const bool conditional = conditional_;
  const double temperature = temperature_;
  const bool measure = conditional && (!frequencies_ || frequencies_clock_.elapsed() >= kFrequencyRefreshMs);
  if (measure) frequencies_clock_.restart();
  std::shared_ptr<const PathStatistics> frequencies = conditional ? frequencies_ : nullptr;
  job_.start(session()->training_session(), [per_class, seed, version, indices, measure, frequencies, temperature](Trainer& trainer) mutable {
    DrmmModel& model = trainer.model();
    const ModelSpec& spec = model.spec();
    if (measure) frequencies = std::make_shared<const PathStatistics>(path_statistics(model, trainer.train_data(), kFrequencyImages));
    Generated g;
    g.frequencies = frequencies;
    g.classes = spec.classes;
    g.per_class = per_class;
    g.channels = spec.channels;
    g.height = spec.height;
    g.width = spec.width;
    g.version = version;
    for (int c = 0; c < spec.classes; ++c) {
      const std::vector<float> images = sample_class(model, c, per_class, seed, frequencies.get(), temperature);
      g.samples.insert(g.samples.end(), images.begin(), images.end());
    }
    g.predicted = classify(model, g.samples);
    const Dataset& data = trainer.train_data();
    std::vector<int> all(size_t(spec.classes));
    for (int c = 0; c < spec.classes; ++c) all[size_t(c)] = c;
    for (int index : indices) {
      if (index < 0 || size_t(index) >= data.size() || data.image_size() != model.spec().channels * size_t(spec.height * spec.width))
        continue;
      const auto image = data.image(size_t(index));
      g.like_indices.push_back(index);
      g.like_labels.push_back(data.labels[size_t(index)]);
      g.like_inputs.insert(g.like_inputs.end(), image.begin(), image.end());
      const std::vector<float> rendered = render_like(model, image, all);
      g.like_rendered.insert(g.like_rendered.end(), rendered.begin(), rendered.end());
    }
    if (!g.like_rendered.empty()) g.like_predicted = classify(model, g.like_rendered);
    return g;
  });
  clock_.restart();
  wanted_ = false;
}

void SamplesPanel::rebuild_atlases() {
  const Generated& g = shown_;
  const size_t size = size_t(g.channels) * size_t(g.height) * size_t(g.width);
  const Normalization n = stretch_ ? Normalization::MinMax : Normalization::UnitRange;
  const auto view = [&](const std::vector<float>& data, size_t i) {
    return ImageView{g.channels, g.height, g.width, (i + 1) * size <= data.size() ? data.data() + i * size : nullptr};
  };
  std::vector<AtlasItem> items;
  for (size_t i = 0; i < size_t(g.classes * g.per_class); ++i) items.push_back({view(g.samples, i), n});
  samples_atlas_ = build_atlas(items, std::max(g.per_class, 1));
  items.clear();
  for (size_t r = 0; r < g.like_indices.size(); ++r) {
    items.push_back({view(g.like_inputs, r), Normalization::UnitRange});
    for (size_t c = 0; c < size_t(g.classes); ++c) items.push_back({view(g.like_rendered, r * size_t(g.classes) + c), n});
  }
  like_atlas_ = build_atlas(items, g.classes + 1);
}

void SamplesPanel::draw(const Snapshot& snapshot) {
  draw_header("Samples of every class");
  if (snapshot.version == 0) {
    ImGui::TextDisabled("Waiting for the model…");
    return;
  }
  Generated generated;
  if (job_.take(generated, error_)) {
    if (generated.frequencies) frequencies_ = generated.frequencies;
    shown_ = std::move(generated);
    shown_version_ = shown_.version;
    ++generation_;
  } else if (!error_.empty() && !job_.busy()) {
    shown_version_ = snapshot.version;  // failed: try again with the next snapshot, not every frame
  }
  if (refresh_due()) start_job(snapshot);

  // One row of controls, or as many as a narrow dock needs.
  ImGui::SetNextItemWidth(scaled(120));
  if (ImGui::SliderInt("per class", &per_class_, 1, 12)) wanted_ = true;
  same_line_if_fits(button_width("New samples"));
  if (ImGui::Button("New samples")) new_samples();
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Draw other latents (seed %llu)", static_cast<unsigned long long>(seed_ + 1));
  same_line_if_fits(checkbox_width("per class π"));
  if (ImGui::Checkbox("per class π", &conditional_)) wanted_ = true;
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("On: draw each class's latents from its own frequencies π_{g|c}, measured on %zu training images "
                      "every 10 s (the DRMM's prior is over class and nuisance together).\nOff: from the model's "
                      "class-agnostic π_a, π_t, as Nguyen et al. (CVPR 2017, App. B) write it (samples look like "
                      "textures).",
                      kFrequencyImages);
  next_item_in_row(scaled(90), "T");
  if (ImGui::SliderFloat("T", &temperature_, 0.1f, 1.0f, "%.2f")) wanted_ = true;
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Temperature: every frequency p is sharpened to p^(1/T), renormalised. T = 1 draws from the\n"
                      "frequencies themselves; lower T draws closer to the most probable latents (less varied samples).");
  same_line_if_fits(checkbox_width("stretch"));
  if (ImGui::Checkbox("stretch", &stretch_)) atlas_key_ = ~uint64_t(0);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Stretch each rendering to its own min…max instead of the pixel scale [0,1]");
  if (!shown_.predicted.empty()) {
    const double rate = classified_rate();
    char text[96];
    std::snprintf(text, sizeof text, "classified as their class: %.0f %% (%zu samples)", 100 * rate, shown_.predicted.size());
    same_line_if_fits(ImGui::CalcTextSize(text).x);
    ImGui::TextColored(rate >= 0.8 ? ImVec4(0.5f, 0.9f, 0.5f, 1) : ImVec4(1, 0.8f, 0.4f, 1), "%s", text);
  }
  if (!error_.empty()) ImGui::TextColored(ImVec4(1, 0.45f, 0.45f, 1), "%s", error_.c_str());
  if (shown_.samples.empty()) {
    ImGui::TextDisabled("Sampling…");
    return;
  }
  const uint64_t key = generation_ * 2 + (stretch_ ? 1 : 0);
  if (key != atlas_key_) {
    atlas_key_ = key;
    rebuild_atlases();
  }
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  // Side by side in a wide dock, stacked in a tall one; the samples get the larger share.
  if (avail.x >= 1.25f * avail.y) {
    // The samples take the width their rows need at the height's scale; render-like the rest.
    const GridLayout rows = grid_with_columns(shown_.classes * shown_.per_class, shown_.per_class, shown_.width,
                                              shown_.height, ImVec2(avail.x, avail.y), 4.0f, 0, 6.0f);
    const float left_w =
        std::min(std::floor(avail.x * 0.5f), scaled(kNamesWidth + kRateWidth) + rows.cell.x * float(shown_.per_class));
    ImGui::BeginGroup();
    draw_samples(snapshot, ImVec2(left_w, avail.y));
    ImGui::EndGroup();
    ImGui::SameLine(0, 18);
    ImGui::BeginGroup();
    draw_render_like(snapshot, ImVec2(avail.x - left_w - 18, avail.y));
    ImGui::EndGroup();
  } else {
    draw_samples(snapshot, ImVec2(avail.x, avail.y * 0.62f));
    ImGui::Separator();
    draw_render_like(snapshot, ImGui::GetContentRegionAvail());
  }
}

void SamplesPanel::draw_samples(const Snapshot& snapshot, ImVec2 size) {
  const Generated& g = shown_;
  const Texture& texture = textures().get("samples", atlas_key_, [&]() -> const RgbaImage& { return samples_atlas_.image; });
  const float kNames = scaled(kNamesWidth), kRate = scaled(kRateWidth);
  const GridLayout layout = grid_with_columns(g.classes * g.per_class, g.per_class, g.width, g.height,
                                              ImVec2(size.x - kNames - kRate, size.y), 4.0f, 0, 6.0f);
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  draw_row_names(origin, kNames, layout, g.classes, [&](int c) { return snapshot.class_name(c); });
  ImGui::SetCursorScreenPos(ImVec2(origin.x + kNames, origin.y));
  const GridEvents events =
      draw_tile_grid("##samples", texture, samples_atlas_, g.classes * g.per_class, layout, [&](int i, ImVec2 p0, ImVec2 p1) {
        const bool right = size_t(i) < g.predicted.size() && g.predicted[size_t(i)] == i / g.per_class;
        ImGui::GetWindowDrawList()->AddRect(ImVec2(p0.x - 1.5f, p0.y - 1.5f), ImVec2(p1.x + 1.5f, p1.y + 1.5f),
                                            right ? kRight : kWrong, 0, 0, 2.0f);
      });
  record_region("samples.grid", events.rect.min, events.rect.max);
  // The "k/N" column is drawn beside the grid: reserve it, so a group to the right starts after it.
  ImGui::SameLine(0, 0);
  ImGui::Dummy(ImVec2(kRate, 1));
  // Per row: how many of the class's samples come back as the class.
  ImDrawList* draw = ImGui::GetWindowDrawList();
  for (int c = 0; c < g.classes; ++c) {
    int right = 0;
    for (int k = 0; k < g.per_class; ++k) {
      const size_t i = size_t(c * g.per_class + k);
      right += i < g.predicted.size() && g.predicted[i] == c;
    }
    char text[16];
    std::snprintf(text, sizeof text, "%d/%d", right, g.per_class);
    draw->AddText(ImVec2(events.rect.max.x + 4, origin.y + float(c) * layout.cell.y + 0.5f * (layout.tile.y - ImGui::GetTextLineHeight())),
                  right == g.per_class ? kRight : IM_COL32(200, 200, 200, 255), text);
  }
  if (events.hovered >= 0) {
    const int c = events.hovered / g.per_class, p = size_t(events.hovered) < g.predicted.size() ? g.predicted[size_t(events.hovered)] : -1;
    const AtlasTile& t = samples_atlas_.tiles[size_t(events.hovered)];
    ImGui::BeginTooltip();
    ImGui::Text("sample %d of %s (seed %llu)", events.hovered % g.per_class, snapshot.class_name(c).c_str(),
                static_cast<unsigned long long>(seed_));
    ImGui::Image(texture.imgui_id(), picture_size(t.width, t.height, 4), ImVec2(t.u0, t.v0), ImVec2(t.u1, t.v1));
    ImGui::TextColored(p == c ? ImVec4(0.5f, 0.9f, 0.5f, 1) : ImVec4(1, 0.45f, 0.45f, 1), "classified as %s",
                       snapshot.class_name(p).c_str());
    ImGui::EndTooltip();
  }
}

void SamplesPanel::draw_render_like(const Snapshot& snapshot, ImVec2 size) {
  const Generated& g = shown_;
  const float start_y = ImGui::GetCursorScreenPos().y, right = ImGui::GetCursorScreenPos().x + size.x;
  text_wrapped("Render like: each image's latents, rendered as every class", right);
  // The indices of the training images, editable; − and + remove and add one.
  const std::shared_ptr<const BrowsedDataset> dataset = session()->dataset();
  const int last = dataset && dataset->data ? std::max(int(dataset->data->size()) - 1, 0) : 0;
  for (size_t i = 0; i < like_indices_.size(); ++i) {
    ImGui::PushID(int(i));
    if (i == 0)
      ImGui::SetNextItemWidth(scaled(62));
    else
      next_item_in_row(scaled(62), nullptr, right);
    int index = like_indices_[i];
    if (ImGui::InputInt("##index", &index, 0, 0) && std::clamp(index, 0, last) != like_indices_[i]) {
      like_indices_[i] = std::clamp(index, 0, last);
      wanted_ = true;
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Index of a training image");
    ImGui::PopID();
  }
  same_line_if_fits(button_width(" − ") + ImGui::GetStyle().ItemSpacing.x + button_width(" + "), right);
  if (like_indices_.size() > 1 && ImGui::SmallButton(" − ")) {
    like_indices_.pop_back();
    wanted_ = true;
  }
  ImGui::SameLine();
  if (int(like_indices_.size()) < kMaxLikeImages && ImGui::SmallButton(" + ")) {
    like_indices_.push_back(std::min(like_indices_.empty() ? 0 : like_indices_.back() + 1, last));
    wanted_ = true;
  }
  if (g.like_indices.empty()) {
    ImGui::TextDisabled("No training images found at these indices.");
    return;
  }
  const int rows = int(g.like_indices.size()), columns = g.classes + 1;
  const Texture& texture = textures().get("like", atlas_key_, [&]() -> const RgbaImage& { return like_atlas_.image; });
  const float header_h = ImGui::GetTextLineHeightWithSpacing();
  const float used = ImGui::GetCursorScreenPos().y - start_y;
  const GridLayout layout =
      grid_with_columns(rows * columns, columns, g.width, g.height, ImVec2(size.x, size.y - used - header_h), 4.0f, 0, 6.0f);
  // Column heads: "image", then the classes (numbers when the names do not fit).
  const ImVec2 heads = ImGui::GetCursorScreenPos();
  ImDrawList* draw = ImGui::GetWindowDrawList();
  bool names_fit = true;  // all names or all numbers (the tooltip names the class)
  for (int c = 0; c < g.classes; ++c)
    names_fit = names_fit && ImGui::CalcTextSize(snapshot.class_name(c).c_str()).x <= layout.cell.x - 2;
  for (int c = 0; c < columns; ++c) {
    const std::string text =
        c == 0 ? elide_to_width("image", layout.cell.x - 2) : names_fit ? snapshot.class_name(c - 1) : std::to_string(c - 1);
    draw->PushClipRect(ImVec2(heads.x + float(c) * layout.cell.x, heads.y),
                       ImVec2(heads.x + float(c + 1) * layout.cell.x - 2, heads.y + header_h), true);
    draw->AddText(ImVec2(heads.x + float(c) * layout.cell.x, heads.y), IM_COL32(180, 180, 180, 255), text.c_str());
    draw->PopClipRect();
  }
  ImGui::Dummy(ImVec2(layout.cell.x * float(columns), header_h));
  const GridEvents events = draw_tile_grid("##like", texture, like_atlas_, rows * columns, layout, [&](int i, ImVec2 p0, ImVec2 p1) {
    const int r = i / columns, c = i % columns;
    if (c == 0) {
      draw->AddRect(ImVec2(p0.x - 1.5f, p0.y - 1.5f), ImVec2(p1.x + 1.5f, p1.y + 1.5f), IM_COL32(150, 150, 160, 255), 0, 0, 2.0f);
      return;
    }
    const size_t k = size_t(r) * size_t(g.classes) + size_t(c - 1);
    const bool right = k < g.like_predicted.size() && g.like_predicted[k] == c - 1;
    draw->AddRect(ImVec2(p0.x - 1, p0.y - 1), ImVec2(p1.x + 1, p1.y + 1), right ? kRight : kWrong, 0, 0, 1.0f);
  });
  record_region("samples.render_like", events.rect.min, events.rect.max);
  if (events.hovered >= 0) {
    const int r = events.hovered / columns, c = events.hovered % columns;
    if (c == 0) {
      ImGui::SetTooltip("training image #%d (%s)", g.like_indices[size_t(r)], snapshot.class_name(g.like_labels[size_t(r)]).c_str());
    } else {
      const size_t k = size_t(r) * size_t(g.classes) + size_t(c - 1);
      ImGui::SetTooltip("image #%d rendered as %s with its own latents; classified as %s", g.like_indices[size_t(r)],
                        snapshot.class_name(c - 1).c_str(),
                        snapshot.class_name(k < g.like_predicted.size() ? g.like_predicted[k] : -1).c_str());
    }
  }
}

void SamplesPanel::write_export(const QString& path, const QString&) {
  // The panel as it is on screen: both grids with their borders and names.
  export_png(path.toStdString(), screen_image());
}

}  // namespace drmm::ui
