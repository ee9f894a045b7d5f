#include "ui/panels/rendering_paths_panel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include <imgui.h>

#include "core/util/error.h"
#include "ui/export_files.h"
#include "ui/session_controller.h"
#include "ui/tile_grid.h"

namespace drmm::ui {
namespace {

// Re-infer at most twice a second while training: a path costs one bottom-up and a few top-down
// passes on the trainer's thread, and a person cannot follow faster changes anyway.
constexpr qint64 kRefreshMs = 500;
constexpr size_t kStrongestUnits = 12;
constexpr size_t kChannelsPerLevel = 3;  // besides the strongest units' channels, joined by thinner lines
constexpr size_t kStatisticsImages = 1000;
constexpr float kLabelWidth = 170.0f;
constexpr ImU32 kStrongColor = IM_COL32(255, 210, 60, 255);
constexpr ImU32 kOffColor = IM_COL32(235, 70, 70, 255);

std::string class_name(const Snapshot& snapshot, int c) {
  if (c < 0) return "?";
  if (size_t(c) < snapshot.class_names.size()) return snapshot.class_names[size_t(c)];
  return std::to_string(c);
}

// "conv1 32×5×5 full" → "conv1".
std::string short_name(const std::string& name) { return name.substr(0, name.find(' ')); }

ImU32 lerp_color(ImVec4 a, ImVec4 b, float t) {
  t = std::clamp(t, 0.0f, 1.0f);
  return ImGui::ColorConvertFloat4ToU32(ImVec4(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t, a.z + (b.z - a.z) * t, 1));
}

// A channel's share of its level's largest |contribution|: orange when it adds to Î, blue when
// it takes away (a unit's ⟨Î_u, Î⟩ is negative when it draws against the rest of the image).
ImU32 contribution_color(float share) {
  const ImVec4 dark(0.16f, 0.16f, 0.19f, 1);
  // sqrt: the weak channels are the many, and they must still be told apart from the unused ones.
  if (share >= 0) return lerp_color(dark, ImVec4(1.0f, 0.72f, 0.25f, 1), std::sqrt(share));
  return lerp_color(dark, ImVec4(0.35f, 0.6f, 1.0f, 1), std::sqrt(-share));
}

// Overlap 0 → dark blue, 1 → yellow (a short perceptual ramp, like viridis).
ImU32 heat_color(double v) {
  static const ImVec4 stops[] = {{0.07f, 0.04f, 0.20f, 1}, {0.23f, 0.32f, 0.55f, 1}, {0.13f, 0.57f, 0.55f, 1},
                                 {0.37f, 0.79f, 0.38f, 1}, {0.99f, 0.91f, 0.15f, 1}};
  const float t = std::clamp(float(v), 0.0f, 1.0f) * 4.0f;
  const int i = std::min(3, int(t));
  return lerp_color(stops[i], stops[i + 1], t - float(i));
}

}  // namespace

RenderingPathsPanel::RenderingPathsPanel(SessionController* session, FrameStats* stats, QWidget* parent)
    : ImGuiPanelHost(tr("Rendering paths"), session, stats, parent) {
  setObjectName("rendering_paths");
  infer_clock_.start();
  // The default image is the first probe; once the person picks one here, it stays.
  connect(session, &SessionController::probes_changed, this, [this] { request_frames(); });
  connect(session, &SessionController::dataset_loaded, this, [this] {
    infer_wanted_ = true;
    request_frames();
  });
}

RenderingPathsPanel::~RenderingPathsPanel() {
  // The jobs' destructors wait too; waiting here first keeps the order obvious.
  infer_job_.wait();
  edit_job_.wait();
  channel_job_.wait();
  statistics_job_.wait();
}

QString RenderingPathsPanel::help_text() const {
  return tr(
      "The rendering path of one training image (paper 002 §3, Fig. 2: Î is a sum over paths). Bottom-up "
      "inference fixes the latents g = (a, t) of every layer: which templates are on (a, at each conv) and where "
      "in each pooling window (t). Given g the top-down pass is linear, so Î = Σ_u Î_u over the units of any "
      "level, and a unit's contribution is ⟨Î_u, Î⟩ (the contributions of a level sum to ‖Î‖²).\n"
      "Top: the input I, Î rendered from the class, and Î re-rendered with your edit.\n"
      "Network: one row per level (top level first, pixels below), one cell per channel; brightness is the "
      "channel's contribution normalised per level (orange adds to Î, blue takes away), dark cells have no unit "
      "on. Yellow lines join the channels of the 12 strongest units across consecutive levels. Hover a cell to "
      "see what that channel renders alone; click it to switch the channel off (red cross) and Î is re-rendered "
      "without it; the checkbox switches a whole level off.\n"
      "Per-class statistics: over 1000 training images, how much two classes' paths overlap (weighted Jaccard "
      "index of the units' on-frequencies). The path follows the model as it trains (twice a second).");
}

// ---------------------------------------------------------------------------------------------
// Jobs

PathEdit RenderingPathsPanel::to_path_edit(const RenderingPath& path, const ChannelEdit& edit) {
  PathEdit result(path);
  for (size_t l = 0; l < path.levels.size() && l < edit.level_off.size(); ++l) {
    if (edit.level_off[l]) result.set_level(l, true);
    const std::vector<uint8_t>& off = edit.channel_off[l];
    for (int c = 0; c < path.levels[l].channels && size_t(c) < off.size(); ++c)
      if (off[size_t(c)]) result.set_channel(l, c, true);
  }
  return result;
}

void RenderingPathsPanel::fit_edit_to_path() {
  if (!path_) return;
  edit_.level_off.resize(path_->levels.size(), 0);
  edit_.channel_off.resize(path_->levels.size());
  for (size_t l = 0; l < path_->levels.size(); ++l) edit_.channel_off[l].resize(size_t(path_->levels[l].channels), 0);
}

bool RenderingPathsPanel::refresh_due() const {
  const std::shared_ptr<const Snapshot>& snapshot = snapshot_ptr();
  if (!snapshot || snapshot->version == 0 || infer_job_.busy()) return false;
  return infer_wanted_ || (snapshot->version != inferred_version_ && infer_clock_.elapsed() >= kRefreshMs);
}

bool RenderingPathsPanel::animating() const {
  // Busy, not just ready: the screenshot hook waits for panels that want frames, and a picture
  // must not be taken while the newest path is on its way.
  return infer_job_.busy() || edit_job_.busy() || channel_job_.busy() || statistics_job_.busy() || refresh_due() ||
         (path_ && edited_serial_ != edit_serial_ && !edit_job_.busy());
}

void RenderingPathsPanel::start_inference(const Snapshot& snapshot) {
  if (image_index_ < 0) {
    const std::vector<size_t>& probes = session()->probes();
    image_index_ = probes.empty() ? 0 : int(probes.front());
  }
  const size_t index = size_t(image_index_);
  const ChannelEdit edit = edit_;
  const uint64_t version = snapshot.version, serial = edit_serial_;
  infer_job_.start(session()->training_session(), [index, edit, version, serial](Trainer& trainer) {
    const Dataset& data = trainer.train_data();
    if (index >= data.size())
      throw Error("image " + std::to_string(index) + " is not in the training set (" + std::to_string(data.size()) +
                  " images)");
    auto path = std::make_shared<RenderingPath>(infer_path(trainer.model(), data.image(index)));
    Inferred result;
    result.edited = render_edited(trainer.model(), *path, to_path_edit(*path, edit));
    result.path = std::move(path);
    result.version = version;
    result.serial = serial;
    return result;
  });
  infer_clock_.restart();
  infer_wanted_ = false;
}

void RenderingPathsPanel::start_edit_render() {
  const std::shared_ptr<const RenderingPath> path = path_;
  const ChannelEdit edit = edit_;
  edit_job_path_ = path;
  edit_job_serial_ = edit_serial_;
  edit_job_.start(session()->training_session(), [path, edit](Trainer& trainer) {
    return render_edited(trainer.model(), *path, to_path_edit(*path, edit));
  });
}

void RenderingPathsPanel::request_channel_image(size_t level, int channel) {
  const std::pair<size_t, int> key(level, channel);
  if (!path_ || channel_images_.count(key) || channel_job_.busy()) return;
  const std::shared_ptr<const RenderingPath> path = path_;
  channel_job_path_ = path;
  channel_job_.start(session()->training_session(), [path, key](Trainer& trainer) {
    // Every other channel of the level off: what this channel draws into Î on its own.
    PathEdit alone(*path);
    alone.set_level(key.first, true);
    alone.set_channel(key.first, key.second, false);
    return std::make_pair(key, render_edited(trainer.model(), *path, alone));
  });
}

void RenderingPathsPanel::compute_statistics() {
  if (statistics_job_.busy()) return;
  statistics_done_->store(0);
  statistics_total_->store(kStatisticsImages);
  statistics_error_.clear();
  const auto done = statistics_done_, total = statistics_total_;
  statistics_job_.start(session()->training_session(), [done, total](Trainer& trainer) {
    return std::make_shared<PathStatistics>(path_statistics(
        trainer.model(), trainer.train_data(), kStatisticsImages, [done, total](size_t d, size_t t) {
          done->store(d);
          total->store(t);
        }));
  });
  request_frames();
}

void RenderingPathsPanel::set_channel_off(size_t level, int channel, bool off) {
  if (level >= edit_.channel_off.size() || channel < 0 || size_t(channel) >= edit_.channel_off[level].size()) return;
  edit_.channel_off[level][size_t(channel)] = off ? 1 : 0;
  ++edit_serial_;
  request_frames();
}

void RenderingPathsPanel::poll_jobs(const Snapshot& snapshot) {
  Inferred inferred;
  if (infer_job_.take(inferred, error_)) {
    path_ = std::move(inferred.path);
    inferred_version_ = inferred.version;
    strongest_ = strongest_units(*path_, kStrongestUnits);
    channel_images_.clear();
    fit_edit_to_path();
    edited_ = std::move(inferred.edited);
    edited_serial_ = inferred.serial;
    ++path_generation_;
    ++edited_generation_;
  } else if (!error_.empty() && !infer_job_.busy() && inferred_version_ != snapshot.version) {
    inferred_version_ = snapshot.version;  // failed: try again with the next snapshot, not every frame
  }
  std::vector<float> edited;
  std::string edit_error;
  if (edit_job_.take(edited, edit_error)) {
    if (edit_job_path_ == path_) {
      edited_ = std::move(edited);
      edited_serial_ = edit_job_serial_;
      ++edited_generation_;
    }
  } else if (!edit_error.empty()) {
    error_ = edit_error;
    edited_serial_ = edit_serial_;  // do not retry a failing render every frame
  }
  std::pair<std::pair<size_t, int>, std::vector<float>> channel;
  std::string channel_error;
  if (channel_job_.take(channel, channel_error) && channel_job_path_ == path_)
    channel_images_[channel.first] = std::move(channel.second);
  std::shared_ptr<PathStatistics> statistics;
  if (statistics_job_.take(statistics, statistics_error_)) statistics_.reset(new PathStatistics(std::move(*statistics)));

  if (refresh_due()) start_inference(snapshot);
  if (path_ && edited_serial_ != edit_serial_ && !edit_job_.busy()) start_edit_render();
}

// ---------------------------------------------------------------------------------------------
// Drawing

void RenderingPathsPanel::draw(const Snapshot& snapshot) {
  const std::shared_ptr<const BrowsedDataset> dataset = session()->dataset();
  dataset_size_ = dataset && dataset->data ? dataset->data->size() : 0;
  ImGui::TextUnformatted("Rendering path of a training image");
  draw_header_tools();
  if (snapshot.version == 0) {
    ImGui::TextDisabled("Waiting for the model…");
    return;
  }
  poll_jobs(snapshot);
  draw_controls(snapshot);
  if (!error_.empty()) ImGui::TextColored(ImVec4(1, 0.45f, 0.45f, 1), "%s", error_.c_str());
  if (!path_) {
    ImGui::TextDisabled("Inferring the path…");
    return;
  }
  const ImGuiStyle& style = ImGui::GetStyle();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  // The top row (pictures and statistics) gets about 40% of the height, the network the rest.
  const float line_h = ImGui::GetTextLineHeightWithSpacing();
  // With statistics, room for one text line per class in the heat map's rows.
  const float stats_h = statistics_ ? float(statistics_->overlap.size() + 4) * line_h : 0.0f;
  const float top_h = std::min(std::clamp(std::max(avail.y * 0.42f, stats_h), 4 * line_h + 56.0f, 360.0f), avail.y * 0.6f);
  const float image_scale =
      std::clamp(std::floor((top_h - 3 * line_h) / float(std::max(path_->height, 1))), 1.0f, 6.0f);
  const float images_w = 3 * (float(path_->width) * image_scale + style.ItemSpacing.x) + 8;
  ImGui::BeginGroup();
  draw_images(snapshot, image_scale);
  ImGui::EndGroup();
  ImGui::SameLine(0, 16);
  draw_statistics(snapshot, ImVec2(std::max(120.0f, avail.x - std::max(images_w, 260.0f) - 16), top_h));
  ImGui::Separator();
  draw_network(ImGui::GetContentRegionAvail());
}

void RenderingPathsPanel::draw_controls(const Snapshot& snapshot) {
  int index = std::max(image_index_, 0);
  ImGui::SetNextItemWidth(110);
  if (ImGui::InputInt("image", &index, 1, 10)) {
    index = std::clamp(index, 0, std::max(int(dataset_size_) - 1, 0));
    if (index != image_index_) image_index_ = index, infer_wanted_ = true;
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Index of the image in the training set");
  ImGui::SameLine();
  if (ImGui::SmallButton("first probe") && !session()->probes().empty()) {
    image_index_ = int(session()->probes().front());
    infer_wanted_ = true;
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("The first probe of the Reconstructions panel (pick probes in the Dataset browser)");
  if (path_) {
    ImGui::SameLine();
    const float q = path_->predicted >= 0 && size_t(path_->predicted) < path_->class_probabilities.size()
                        ? path_->class_probabilities[size_t(path_->predicted)]
                        : 0.0f;
    ImGui::Text("ĉ = %s (q %.2f), Î from %s", class_name(snapshot, path_->predicted).c_str(), double(q),
                class_name(snapshot, path_->rendered_class).c_str());
  }
  ImGui::SameLine();
  size_t off = 0;
  for (size_t l = 0; l < edit_.channel_off.size(); ++l)
    off += edit_.level_off[l] ? 1 : size_t(std::count(edit_.channel_off[l].begin(), edit_.channel_off[l].end(), 1));
  ImGui::BeginDisabled(off == 0);
  if (ImGui::SmallButton("Reset edits")) {
    std::fill(edit_.level_off.begin(), edit_.level_off.end(), 0);
    for (auto& level : edit_.channel_off) std::fill(level.begin(), level.end(), 0);
    ++edit_serial_;
  }
  ImGui::EndDisabled();
  if (off > 0) {
    ImGui::SameLine();
    ImGui::TextDisabled("%zu channels/levels off", off);
  }
}

void RenderingPathsPanel::draw_images(const Snapshot&, float scale) {
  const RenderingPath& path = *path_;
  // I and Î on the pixel scale [0,1] like the Reconstructions panel; the edit on the same scale,
  // so switching a channel off reads as a loss of ink, not as a re-stretched picture.
  const uint64_t version = path_generation_ * 1000003u + edited_generation_;
  const auto image = [&](const std::vector<float>& data) {
    return ImageView{path.channels, path.height, path.width, data.size() == size_t(path.channels * path.height * path.width) ? data.data() : nullptr};
  };
  static thread_local ImageAtlas atlas;
  const Texture& texture = textures().get("images", version, [&]() -> const RgbaImage& {
    const AtlasItem items[] = {{image(path.input), Normalization::UnitRange},
                               {image(path.rendered), Normalization::UnitRange},
                               {image(edited_), Normalization::UnitRange}};
    atlas = build_atlas(items, 3);
    return atlas.image;
  });
  if (atlas.tiles.size() != 3) return;
  const float caption_h = ImGui::GetTextLineHeightWithSpacing();
  GridLayout layout;
  layout.columns = 3;
  layout.rows = 1;
  layout.tile = ImVec2(float(path.width) * scale, float(path.height) * scale);
  layout.cell = ImVec2(layout.tile.x + ImGui::GetStyle().ItemSpacing.x, layout.tile.y + caption_h);
  const char* captions[] = {"I", "Î", "Î edited"};
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const GridEvents events = draw_tile_grid("##images", texture, atlas, 3, layout, [&](int i, ImVec2 p0, ImVec2 p1) {
    ImGui::GetWindowDrawList()->AddText(ImVec2(p0.x, p1.y + 1), IM_COL32(190, 190, 190, 255), captions[i]);
  });
  record_region("rendering_paths.images", origin, ImVec2(origin.x + 3 * layout.cell.x, origin.y + layout.tile.y));
  if (events.hovered == 0) ImGui::SetTooltip("Training image #%d, the input I", image_index_);
  if (events.hovered == 1) ImGui::SetTooltip("Î rendered top-down from the class with the inferred latents (‖Î‖² = %.3g)", path.rendered_energy);
  if (events.hovered == 2) ImGui::SetTooltip("Î re-rendered without the channels and levels switched off below");
}

void RenderingPathsPanel::draw_network(ImVec2 size) {
  const RenderingPath& path = *path_;
  const size_t levels = path.levels.size();
  if (levels == 0 || size.y < 40) return;
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float row_h = std::clamp(size.y / float(levels), 24.0f, 90.0f);
  const float cell_h = std::clamp(row_h * 0.42f, 10.0f, 30.0f);
  const float cells_x = origin.x + kLabelWidth, cells_w = std::max(size.x - kLabelWidth - 8, 40.0f);
  // Top level first: the rendering flows down the screen towards the pixels.
  const auto row_of = [&](size_t level) { return levels - 1 - level; };
  const auto cell_rect = [&](size_t level, int c, ImVec2& p0, ImVec2& p1) {
    const int channels = std::max(path.levels[level].channels, 1);
    const float w = std::min(cells_w / float(channels), 22.0f);
    const float x0 = cells_x + (cells_w - w * float(channels)) * 0.5f;  // centred: lines read as a tree
    const float y0 = origin.y + float(row_of(level)) * row_h + (row_h - cell_h) * 0.5f;
    p0 = ImVec2(x0 + float(c) * w, y0);
    p1 = ImVec2(x0 + float(c + 1) * w - (w >= 5 ? 1.0f : 0.0f), y0 + cell_h);
  };

  // The cells area is one button: the cell under the mouse follows from the position.
  ImGui::SetCursorScreenPos(ImVec2(cells_x, origin.y));
  ImGui::InvisibleButton("##network", ImVec2(cells_w, row_h * float(levels)));
  const bool hovered = ImGui::IsItemHovered(), clicked = ImGui::IsItemClicked(ImGuiMouseButton_Left);
  record_region("rendering_paths.network", ImVec2(cells_x, origin.y), ImVec2(cells_x + cells_w, origin.y + row_h * float(levels)));
  int hover_level = -1, hover_channel = -1;
  if (hovered) {
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    const int row = int((mouse.y - origin.y) / row_h);
    if (row >= 0 && row < int(levels)) {
      const size_t level = levels - 1 - size_t(row);
      ImVec2 p0, p1;
      cell_rect(level, 0, p0, p1);
      const float w = std::min(cells_w / float(std::max(path.levels[level].channels, 1)), 22.0f);
      const int c = int(std::floor((mouse.x - p0.x) / w));
      if (c >= 0 && c < path.levels[level].channels) hover_level = int(level), hover_channel = c;
    }
  }

  // The strongest paths: per level the channels of the strongest units, plus the level's few
  // strongest channels (the strongest units often sit in two or three levels only), joined to
  // the next level's; a line's weight is the geometric mean of its ends' contributions.
  std::vector<std::map<int, float>> strong(levels), marked(levels);
  for (const PathUnit& u : strongest_)
    if (u.level < levels) strong[u.level][u.channel] += u.contribution, marked[u.level][u.channel] = 1;
  for (size_t l = 0; l < levels; ++l) {
    const auto& cc = path.levels[l].channel_contribution;
    std::vector<int> order(cc.size());
    std::iota(order.begin(), order.end(), 0);
    const size_t top = std::min<size_t>(kChannelsPerLevel, order.size());
    std::partial_sort(order.begin(), order.begin() + long(top), order.end(),
                      [&](int a, int b) { return cc[size_t(a)] > cc[size_t(b)]; });
    for (size_t k = 0; k < top; ++k)
      if (cc[size_t(order[k])] > 0 && !strong[l].count(order[k])) strong[l][order[k]] = cc[size_t(order[k])];
  }
  std::vector<float> level_max(levels, 1e-12f);
  for (size_t l = 0; l < levels; ++l)
    for (const auto& [c, v] : strong[l]) level_max[l] = std::max(level_max[l], std::abs(v));
  for (size_t l = 0; l + 1 < levels; ++l)
    for (const auto& [upper_c, upper_v] : strong[l + 1])
      for (const auto& [lower_c, lower_v] : strong[l]) {
        ImVec2 a0, a1, b0, b1;
        cell_rect(l + 1, upper_c, a0, a1);
        cell_rect(l, lower_c, b0, b1);
        const float weight =
            std::clamp(std::sqrt(std::abs(upper_v / level_max[l + 1] * lower_v / level_max[l])), 0.0f, 1.0f);
        const bool both_strong = marked[l + 1].count(upper_c) && marked[l].count(lower_c);
        const ImU32 color = both_strong ? IM_COL32(255, 210, 60, int(90 + 165 * weight))
                                        : IM_COL32(200, 170, 110, int(25 + 110 * weight));
        draw->AddLine(ImVec2(0.5f * (a0.x + a1.x), a1.y), ImVec2(0.5f * (b0.x + b1.x), b0.y), color,
                      both_strong ? 1.5f + 2.0f * weight : 1.0f);
      }

  for (size_t l = 0; l < levels; ++l) {
    const PathLevel& level = path.levels[l];
    const size_t per_channel = size_t(level.height) * size_t(level.width);
    float largest = 1e-12f;
    for (float v : level.channel_contribution) largest = std::max(largest, std::abs(v));
    const bool level_off = l < edit_.level_off.size() && edit_.level_off[l];
    for (int c = 0; c < level.channels; ++c) {
      ImVec2 p0, p1;
      cell_rect(l, c, p0, p1);
      const auto first = level.on.begin() + long(size_t(c) * per_channel);
      const bool any_on = size_t(c + 1) * per_channel <= level.on.size() &&
                          std::any_of(first, first + long(per_channel), [](float v) { return v > 0.5f; });
      const float share = size_t(c) < level.channel_contribution.size() ? level.channel_contribution[size_t(c)] / largest : 0.0f;
      const bool off = level_off || (l < edit_.channel_off.size() && size_t(c) < edit_.channel_off[l].size() &&
                                     edit_.channel_off[l][size_t(c)]);
      if (any_on) draw->AddRectFilled(p0, p1, contribution_color(share));
      else draw->AddRect(p0, p1, IM_COL32(60, 60, 68, 255));
      if (marked[l].count(c)) draw->AddRect(ImVec2(p0.x - 1, p0.y - 1), ImVec2(p1.x + 1, p1.y + 1), kStrongColor, 0, 0, 2.0f);
      if (off) {
        draw->AddRectFilled(p0, p1, IM_COL32(0, 0, 0, 150));
        draw->AddLine(p0, p1, kOffColor, 1.5f);
        draw->AddLine(ImVec2(p0.x, p1.y), ImVec2(p1.x, p0.y), kOffColor, 1.5f);
      }
      if (int(l) == hover_level && c == hover_channel)
        draw->AddRect(ImVec2(p0.x - 2, p0.y - 2), ImVec2(p1.x + 2, p1.y + 2), IM_COL32(255, 255, 255, 255), 0, 0, 1.5f);
    }
    // The label column: the level's name, its share of ‖Î‖², and the switch for the whole level.
    const float y = origin.y + float(row_of(l)) * row_h + (row_h - cell_h) * 0.5f;
    const size_t units_on = size_t(std::count_if(level.on.begin(), level.on.end(), [](float v) { return v > 0.5f; }));
    char text[96];
    std::snprintf(text, sizeof text, "%s  %d×%d×%d", short_name(level.name).c_str(), level.channels, level.height, level.width);
    draw->AddText(ImVec2(origin.x, y - 2), IM_COL32(220, 220, 220, 255), text);
    ImGui::SetCursorScreenPos(ImVec2(origin.x, y + ImGui::GetTextLineHeight() - 2));
    ImGui::PushID(int(l));
    bool switched_off = level_off;
    if (ImGui::Checkbox("off", &switched_off) && l < edit_.level_off.size()) {
      edit_.level_off[l] = switched_off ? 1 : 0;
      ++edit_serial_;
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Switch every unit of %s off and re-render Î", level.name.c_str());
    ImGui::SameLine();
    ImGui::TextDisabled("%.0f%% on", level.on.empty() ? 0.0 : 100.0 * double(units_on) / double(level.on.size()));
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("%zu of %zu units of %s are on; the contributions of every level sum to ‖Î‖² = %.3g", units_on,
                        level.on.size(), level.name.c_str(), path.rendered_energy);
    ImGui::PopID();
  }
  ImGui::SetCursorScreenPos(ImVec2(origin.x, origin.y + row_h * float(levels)));
  ImGui::Dummy(ImVec2(1, 1));

  if (hover_level >= 0) {
    if (clicked && size_t(hover_level) < edit_.channel_off.size()) {
      uint8_t& off = edit_.channel_off[size_t(hover_level)][size_t(hover_channel)];
      off = off ? 0 : 1;
      ++edit_serial_;
    }
    draw_channel_tooltip(size_t(hover_level), hover_channel);
  }
}

void RenderingPathsPanel::draw_channel_tooltip(size_t level_index, int channel) {
  const RenderingPath& path = *path_;
  const PathLevel& level = path.levels[level_index];
  request_channel_image(level_index, channel);
  const size_t per_channel = size_t(level.height) * size_t(level.width);
  size_t on = 0;
  for (size_t i = size_t(channel) * per_channel; i < size_t(channel + 1) * per_channel && i < level.on.size(); ++i)
    on += level.on[i] > 0.5f;
  const float contribution =
      size_t(channel) < level.channel_contribution.size() ? level.channel_contribution[size_t(channel)] : 0.0f;
  ImGui::BeginTooltip();
  ImGui::Text("%s, channel %d", level.name.c_str(), channel);
  ImGui::Text("contribution %.4g (%.1f%% of ‖Î‖²), %zu of %zu units on", double(contribution),
              path.rendered_energy > 0 ? 100.0 * double(contribution) / path.rendered_energy : 0.0, on, per_channel);
  const auto found = channel_images_.find({level_index, channel});
  if (found != channel_images_.end()) {
    // Its own scale: one channel alone is faint next to the whole Î.
    const uint64_t version = path_generation_ * 4099u + level_index * 257u + uint64_t(channel) + 1;
    const Texture& texture = textures().get("channel", version, [&]() -> const RgbaImage& {
      static thread_local RgbaImage image;
      image = image_to_rgba({path.channels, path.height, path.width, found->second.data()}, Normalization::Symmetric);
      return image;
    });
    const float scale = std::max(1.0f, std::floor(140.0f / float(std::max(path.width, 1))));
    ImGui::Image(texture.imgui_id(), ImVec2(float(path.width) * scale, float(path.height) * scale));
    ImGui::TextDisabled("what this channel renders alone (gray = 0)");
  } else {
    ImGui::TextDisabled("rendering this channel alone…");
    request_frames(4);
  }
  const bool off = level_index < edit_.channel_off.size() && size_t(channel) < edit_.channel_off[level_index].size() &&
                   edit_.channel_off[level_index][size_t(channel)];
  ImGui::TextDisabled("click: switch this channel %s", off ? "on again" : "off");
  ImGui::EndTooltip();
}

void RenderingPathsPanel::draw_statistics(const Snapshot& snapshot, ImVec2 size) {
  ImGui::BeginGroup();
  const float group_top = ImGui::GetCursorScreenPos().y;
  ImGui::TextUnformatted("Per-class statistics");
  ImGui::SameLine();
  ImGui::BeginDisabled(statistics_job_.busy());
  if (ImGui::SmallButton(statistics_ ? "Recompute" : "Compute")) compute_statistics();
  ImGui::EndDisabled();
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Infer the paths of the first %zu training images with the model as it is now", kStatisticsImages);
  if (statistics_job_.busy()) {
    ImGui::SameLine();
    const size_t total = std::max<size_t>(statistics_total_->load(), 1);
    ImGui::ProgressBar(float(statistics_done_->load()) / float(total), ImVec2(120, 0));
  }
  if (!statistics_error_.empty()) ImGui::TextColored(ImVec4(1, 0.45f, 0.45f, 1), "%s", statistics_error_.c_str());
  if (!statistics_ || statistics_->overlap.empty()) {
    ImGui::TextDisabled("Overlap of the classes' paths, over %zu images", kStatisticsImages);
    ImGui::EndGroup();
    return;
  }
  const PathStatistics& stats = *statistics_;
  const int n = int(stats.overlap.size());
  ImGui::TextDisabled("path overlap between classes (weighted Jaccard)");
  const float line_h = ImGui::GetTextLineHeight();
  float name_w = 0;
  for (int c = 0; c < n; ++c) name_w = std::max(name_w, ImGui::CalcTextSize(class_name(snapshot, c).c_str()).x);
  name_w = std::min(name_w + 6, 110.0f);
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float room_h = size.y - (origin.y - group_top) - 4;
  const float cell = std::clamp(std::min((size.x - name_w) / float(n), (room_h - line_h) / float(n)), 6.0f, 36.0f);
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const ImVec2 grid0(origin.x + name_w, origin.y + line_h + 2);
  char text[16];
  for (int c = 0; c < n; ++c) {
    // Column heads are numbers (names are too wide); rows carry the names.
    std::snprintf(text, sizeof text, "%d", c);
    if (cell >= 12) draw->AddText(ImVec2(grid0.x + float(c) * cell + 2, origin.y), IM_COL32(170, 170, 170, 255), text);
    draw->PushClipRect(ImVec2(origin.x, grid0.y + float(c) * cell), ImVec2(grid0.x - 4, grid0.y + float(c + 1) * cell), true);
    if (cell >= line_h - 1) draw->AddText(ImVec2(origin.x, grid0.y + float(c) * cell + 0.5f * (cell - line_h)), IM_COL32(200, 200, 200, 255),
                  (std::to_string(c) + " " + class_name(snapshot, c)).c_str());
    draw->PopClipRect();
    for (int d = 0; d < n && size_t(d) < stats.overlap[size_t(c)].size(); ++d) {
      const double v = stats.overlap[size_t(c)][size_t(d)];
      const ImVec2 p0(grid0.x + float(d) * cell, grid0.y + float(c) * cell);
      draw->AddRectFilled(p0, ImVec2(p0.x + cell - 1, p0.y + cell - 1), heat_color(v));
      if (cell >= 30) {
        std::snprintf(text, sizeof text, "%.2f", v);
        draw->AddText(ImVec2(p0.x + 2, p0.y + 0.5f * (cell - line_h)), v > 0.6 ? IM_COL32(20, 20, 20, 255) : IM_COL32(235, 235, 235, 255), text);
      }
    }
  }
  ImGui::SetCursorScreenPos(grid0);
  ImGui::InvisibleButton("##overlap", ImVec2(std::max(cell * float(n), 1.0f), std::max(cell * float(n), 1.0f)));
  record_region("rendering_paths.overlap", grid0, ImVec2(grid0.x + cell * float(n), grid0.y + cell * float(n)));
  if (ImGui::IsItemHovered()) {
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    const int d = int((mouse.x - grid0.x) / cell), c = int((mouse.y - grid0.y) / cell);
    if (c >= 0 && c < n && d >= 0 && d < n) {
      const auto count = [&](int k) { return size_t(k) < stats.class_counts.size() ? stats.class_counts[size_t(k)] : size_t(0); };
      ImGui::SetTooltip("%s vs %s: overlap %.3f\n(%zu and %zu images)", class_name(snapshot, c).c_str(),
                        class_name(snapshot, d).c_str(), stats.overlap[size_t(c)][size_t(d)], count(c), count(d));
    }
  }
  ImGui::EndGroup();
}

void RenderingPathsPanel::write_export(const QString& path, const QString&) {
  // The panel as it is on screen: the pictures, the edit, the network and the statistics.
  export_png(path.toStdString(), screen_image());
}

}  // namespace drmm::ui
