#include "ui/panels/rendering_paths_panel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>

#include <imgui.h>

#include "core/util/error.h"
#include "ui/export_files.h"
#include "ui/path_network.h"
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
constexpr ImU32 kOffColor = IM_COL32(235, 70, 70, 255);
constexpr ImU32 kSelectedColor = IM_COL32(90, 220, 255, 255);
constexpr ImU32 kContrastColor = IM_COL32(120, 170, 255, 255);
constexpr float kUnitMapMinWidth = 230.0f, kUnitMapMaxWidth = 380.0f;

// Overlap 0 → dark blue, 1 → yellow (a short perceptual ramp, like viridis).
ImU32 heat_color(double v) {
  static const ImVec4 stops[] = {{0.07f, 0.04f, 0.20f, 1}, {0.23f, 0.32f, 0.55f, 1}, {0.13f, 0.57f, 0.55f, 1},
                                 {0.37f, 0.79f, 0.38f, 1}, {0.99f, 0.91f, 0.15f, 1}};
  const float t = std::clamp(float(v), 0.0f, 1.0f) * 4.0f;
  const int i = std::min(3, int(t));
  return lerp_color(stops[i], stops[i + 1], t - float(i));
}

// The units of a level that are on in the path (a or t = 1).
bool unit_on(const PathLevel& level, size_t unit) { return unit < level.on.size() && level.on[unit] > 0.5f; }

double energy_percent(const RenderingPath& path, double contribution) {
  return path.rendered_energy > 0 ? 100.0 * contribution / path.rendered_energy : 0.0;
}

// The dimmed cell and red cross of a switched-off channel or unit.
void draw_off_mark(ImDrawList* draw, ImVec2 p0, ImVec2 p1) {
  draw->AddRectFilled(p0, p1, IM_COL32(0, 0, 0, 150));
  if (p1.x - p0.x < 4) return;  // too small for a cross: the dimming says it
  draw->AddLine(p0, p1, kOffColor, 1.5f);
  draw->AddLine(ImVec2(p0.x, p1.y), ImVec2(p1.x, p0.y), kOffColor, 1.5f);
}

}  // namespace

bool RenderingPathsPanel::Piece::operator<(const Piece& o) const {
  return std::tie(level, channel, unit) < std::tie(o.level, o.channel, o.unit);
}

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
  piece_job_.wait();
  statistics_job_.wait();
}

QString RenderingPathsPanel::help_text() const {
  return tr(
      "Which parts of the model draw one image. The model draws (renders) an image from its class down through its "
      "layers, and only some of its units take part: that choice is the image's rendering path. Top: the input I, "
      "the model's drawing Î, and Î drawn again without the parts you switch off. Below it, the network, one row "
      "of cells per layer: the brighter a cell, the more that channel adds to the drawing.\n"
      "The rendering path of one training image (Nguyen, Liu, Perez, Baraniuk & Patel, “Semi-Supervised Learning "
      "with the Deep Rendering Mixture Model”, CVPR 2017, §3, Fig. 2: Î is a sum over paths). Bottom-up inference "
      "fixes the latents g = (a, t) of every layer: which templates are on (a, at each conv) and where in each "
      "pooling window (t). Given g the top-down pass is linear, so Î = Σ_u Î_u over the units of any level, and a unit's "
      "contribution is ⟨Î_u, Î⟩ (the contributions of a level sum to ‖Î‖²).\n"
      "Network: one row per level (top level first, pixels below), one cell per channel; brightness is the "
      "channel's contribution normalised per level (orange adds to Î, blue takes away), dark cells have no unit "
      "on. Yellow lines join the channels of the 12 strongest units across consecutive levels. Hover a cell to see "
      "what that channel renders alone; right-click it to switch the channel off (red cross) and Î is re-rendered "
      "without it; the checkbox switches a whole level off.\n"
      "Click a cell to show the channel's units on the right, one cell per position, coloured by the unit's "
      "contribution on the level's scale. Hover a unit to see what it renders alone and its share of ‖Î‖²; click "
      "it to switch just that unit off (or back on inside a channel that is off). Edits stay as the path is "
      "re-inferred while the model trains.\n"
      "Per-class statistics: over 1000 training images, how much two classes' paths overlap (weighted Jaccard "
      "index of the units' on-frequencies). Click a cell of the heat map (or use the combos) to show, under each "
      "level of the network, which channels the row's class uses (orange: the mean share of a channel's units that "
      "are on) against the column's class (blue). The path follows the model as it trains (twice a second).");
}

// ---------------------------------------------------------------------------------------------
// Jobs

PathEdit RenderingPathsPanel::to_path_edit(const RenderingPath& path, const UserEdit& edit) {
  PathEdit result(path);
  for (size_t l = 0; l < path.levels.size() && l < edit.level_off.size(); ++l) {
    if (edit.level_off[l]) result.set_level(l, true);
    const std::vector<uint8_t>& off = edit.channel_off[l];
    for (int c = 0; c < path.levels[l].channels && size_t(c) < off.size(); ++c)
      if (off[size_t(c)]) result.set_channel(l, c, true);
    // Last: a flip inverts what the level and channel switches decided.
    if (l >= edit.unit_flip.size()) continue;
    const std::vector<uint8_t>& flip = edit.unit_flip[l];
    for (size_t u = 0; u < flip.size() && u < path.levels[l].unit_count(); ++u)
      if (flip[u]) result.toggle_unit(l, u);
  }
  return result;
}

void RenderingPathsPanel::fit_edit_to_path() {
  if (!path_) return;
  const size_t levels = path_->levels.size();
  edit_.level_off.resize(levels, 0);
  edit_.channel_off.resize(levels);
  edit_.unit_flip.resize(levels);
  for (size_t l = 0; l < levels; ++l) {
    edit_.channel_off[l].resize(size_t(path_->levels[l].channels), 0);
    edit_.unit_flip[l].resize(path_->levels[l].unit_count(), 0);
  }
  if (!has_selection()) selected_ = {0, -1};
}

void RenderingPathsPanel::changed_edit() {
  ++edit_serial_;
  request_frames();
}

void RenderingPathsPanel::clear_unit_flips(size_t level, int channel) {
  if (!path_ || level >= edit_.unit_flip.size()) return;
  std::vector<uint8_t>& flip = edit_.unit_flip[level];
  if (channel < 0) {
    std::fill(flip.begin(), flip.end(), 0);
    return;
  }
  const PathLevel& l = path_->levels[level];
  const size_t area = size_t(l.height) * size_t(l.width);
  if ((size_t(channel) + 1) * area <= flip.size())
    std::fill_n(flip.begin() + std::ptrdiff_t(size_t(channel) * area), area, uint8_t(0));
}

bool RenderingPathsPanel::channel_off(size_t level, int channel) const {
  if (level >= edit_.level_off.size()) return false;
  if (edit_.level_off[level]) return true;
  return channel >= 0 && size_t(channel) < edit_.channel_off[level].size() && edit_.channel_off[level][size_t(channel)];
}

bool RenderingPathsPanel::unit_off(size_t level, size_t unit) const {
  if (!path_ || level >= path_->levels.size() || unit >= path_->levels[level].unit_count()) return false;
  const PathLevel& l = path_->levels[level];
  const int channel = int(unit / (size_t(l.height) * size_t(l.width)));
  const bool flipped = level < edit_.unit_flip.size() && unit < edit_.unit_flip[level].size() && edit_.unit_flip[level][unit];
  return channel_off(level, channel) != flipped;  // the same rule as to_path_edit
}

bool RenderingPathsPanel::has_selection() const {
  return path_ && selected_.second >= 0 && selected_.first < path_->levels.size() &&
         selected_.second < path_->levels[selected_.first].channels;
}

bool RenderingPathsPanel::shows_class_usage() const {
  return statistics_ && usage_class_ >= 0 && size_t(usage_class_) < statistics_->usage.size();
}

bool RenderingPathsPanel::refresh_due() const {
  const std::shared_ptr<const Snapshot>& snapshot = snapshot_ptr();
  if (!snapshot || snapshot->version == 0 || infer_job_.busy()) return false;
  return infer_wanted_ || (snapshot->version != inferred_version_ && infer_clock_.elapsed() >= kRefreshMs);
}

bool RenderingPathsPanel::animating() const {
  // Busy, not just ready: the screenshot hook waits for panels that want frames, and a picture
  // must not be taken while the newest path is on its way.
  return infer_job_.busy() || edit_job_.busy() || piece_job_.busy() || statistics_job_.busy() || refresh_due() ||
         (path_ && edited_serial_ != edit_serial_ && !edit_job_.busy());
}

void RenderingPathsPanel::start_inference(const Snapshot& snapshot) {
  if (image_index_ < 0) {
    const std::vector<size_t>& probes = session()->probes();
    image_index_ = probes.empty() ? 0 : int(probes.front());
  }
  const size_t index = size_t(image_index_);
  const UserEdit edit = edit_;
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
  const UserEdit edit = edit_;
  edit_job_path_ = path;
  edit_job_serial_ = edit_serial_;
  edit_job_.start(session()->training_session(), [path, edit](Trainer& trainer) {
    return render_edited(trainer.model(), *path, to_path_edit(*path, edit));
  });
}

void RenderingPathsPanel::request_piece_image(const Piece& piece) {
  // One render at a time: the tooltip asks again every frame, so the piece under the mouse wins
  // once the worker is free, and pieces merely passed over are not queued.
  if (!path_ || piece_images_.count(piece) || piece_job_.busy()) return;
  const std::shared_ptr<const RenderingPath> path = path_;
  piece_job_path_ = path;
  piece_job_.start(session()->training_session(), [path, piece](Trainer& trainer) {
    if (piece.unit >= 0)
      return std::make_pair(piece, render_unit_alone(trainer.model(), *path, piece.level, size_t(piece.unit)));
    // Every other channel of the level off: what this channel draws into Î on its own.
    PathEdit alone(*path);
    alone.set_level(piece.level, true);
    alone.set_channel(piece.level, piece.channel, false);
    return std::make_pair(piece, render_edited(trainer.model(), *path, alone));
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
  // A channel switch means the whole channel: earlier unit flips in it would invert it again.
  clear_unit_flips(level, channel);
  changed_edit();
}

void RenderingPathsPanel::toggle_unit(size_t level, size_t unit) {
  if (level >= edit_.unit_flip.size() || unit >= edit_.unit_flip[level].size()) return;
  edit_.unit_flip[level][unit] ^= 1;
  changed_edit();
}

void RenderingPathsPanel::poll_jobs(const Snapshot& snapshot) {
  Inferred inferred;
  if (infer_job_.take(inferred, error_)) {
    path_ = std::move(inferred.path);
    inferred_version_ = inferred.version;
    strongest_ = strongest_units(*path_, kStrongestUnits);
    piece_images_.clear();
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
  std::pair<Piece, std::vector<float>> piece;
  std::string piece_error;
  if (piece_job_.take(piece, piece_error) && piece_job_path_ == path_) piece_images_[piece.first] = std::move(piece.second);
  std::shared_ptr<PathStatistics> statistics;
  if (statistics_job_.take(statistics, statistics_error_)) {
    statistics_.reset(new PathStatistics(std::move(*statistics)));
    // Start with the class the image is rendered from: its usage reads next to its own path.
    if (usage_class_ < 0 && path_ && size_t(path_->rendered_class) < statistics_->usage.size())
      usage_class_ = path_->rendered_class;
    if (usage_class_ >= int(statistics_->usage.size())) usage_class_ = -1;
    if (contrast_class_ >= int(statistics_->usage.size())) contrast_class_ = -1;
  }

  if (refresh_due()) start_inference(snapshot);
  if (path_ && edited_serial_ != edit_serial_ && !edit_job_.busy()) start_edit_render();
}

// ---------------------------------------------------------------------------------------------
// Drawing

void RenderingPathsPanel::draw(const Snapshot& snapshot) {
  const std::shared_ptr<const BrowsedDataset> dataset = session()->dataset();
  dataset_size_ = dataset && dataset->data ? dataset->data->size() : 0;
  draw_header("Rendering path of a training image");
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
  const float top_h =
      std::min(std::clamp(std::max(avail.y * 0.42f, stats_h), 4 * line_h + scaled(56), scaled(360)), avail.y * 0.6f);
  const float image_scale =
      std::clamp(std::floor((top_h - 3 * line_h) / float(std::max(path_->height, 1))), 1.0f, 6.0f * ui_scale());
  const float images_w = 3 * (float(path_->width) * image_scale + style.ItemSpacing.x) + 8;
  ImGui::BeginGroup();
  draw_images(snapshot, image_scale);
  ImGui::EndGroup();
  ImGui::SameLine(0, 16);
  draw_statistics(snapshot, ImVec2(std::max(120.0f, avail.x - std::max(images_w, 260.0f) - 16), top_h));
  ImGui::Separator();
  if (statistics_ && !statistics_->usage.empty()) draw_usage_controls(snapshot);
  // Below: the network, and on its right the selected channel's units, about square.
  const ImVec2 rest = ImGui::GetContentRegionAvail(), below = ImGui::GetCursorScreenPos();
  const float map_w = has_selection() ? unit_map_width(rest) : 0.0f;
  draw_network(snapshot, ImVec2(rest.x - map_w - (map_w > 0 ? 12.0f : 0.0f), rest.y));
  if (map_w <= 0) return;
  ImGui::SetCursorScreenPos(ImVec2(below.x + rest.x - map_w, below.y));
  ImGui::BeginGroup();
  draw_unit_map(ImVec2(map_w, rest.y));
  ImGui::EndGroup();
}

float RenderingPathsPanel::unit_map_width(ImVec2 room) const {
  // As wide as the room is high (less the map's three text lines), within bounds that leave the
  // network its cells.
  const float text_h = 3 * ImGui::GetTextLineHeightWithSpacing();
  const float widest = std::max(kUnitMapMinWidth, std::min(kUnitMapMaxWidth, room.x * 0.4f));
  return std::clamp(room.y - text_h, kUnitMapMinWidth, widest);
}

void RenderingPathsPanel::draw_controls(const Snapshot& snapshot) {
  int index = std::max(image_index_, 0);
  ImGui::SetNextItemWidth(scaled(110));
  if (ImGui::InputInt("image", &index, 1, 10)) {
    index = std::clamp(index, 0, std::max(int(dataset_size_) - 1, 0));
    if (index != image_index_) image_index_ = index, infer_wanted_ = true;
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Index of the image in the training set");
  same_line_if_fits(button_width("first probe"));
  if (ImGui::SmallButton("first probe") && !session()->probes().empty()) {
    image_index_ = int(session()->probes().front());
    infer_wanted_ = true;
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("The first probe of the Reconstructions panel (pick probes in the Dataset browser)");
  if (path_) {
    const float q = path_->predicted >= 0 && size_t(path_->predicted) < path_->class_probabilities.size()
                        ? path_->class_probabilities[size_t(path_->predicted)]
                        : 0.0f;
    char text[160];
    std::snprintf(text, sizeof text, "ĉ = %s (q %.2f), Î from %s", snapshot.class_name(path_->predicted).c_str(), double(q),
                  snapshot.class_name(path_->rendered_class).c_str());
    same_line_if_fits(ImGui::CalcTextSize(text).x);
    ImGui::TextUnformatted(text);
  }
  same_line_if_fits(button_width("Reset edits"));
  size_t off = 0, flipped = 0;
  for (size_t l = 0; l < edit_.channel_off.size(); ++l)
    off += edit_.level_off[l] ? 1 : size_t(std::count(edit_.channel_off[l].begin(), edit_.channel_off[l].end(), 1));
  for (const auto& level : edit_.unit_flip) flipped += size_t(std::count(level.begin(), level.end(), 1));
  ImGui::BeginDisabled(off + flipped == 0);
  if (ImGui::SmallButton("Reset edits")) {
    std::fill(edit_.level_off.begin(), edit_.level_off.end(), 0);
    for (auto& level : edit_.channel_off) std::fill(level.begin(), level.end(), 0);
    for (auto& level : edit_.unit_flip) std::fill(level.begin(), level.end(), 0);
    changed_edit();
  }
  ImGui::EndDisabled();
  if (off + flipped > 0) {
    char text[96];
    std::snprintf(text, sizeof text, "%zu channels/levels off, %zu units switched", off, flipped);
    same_line_if_fits(ImGui::CalcTextSize(text).x);
    ImGui::TextDisabled("%s", text);
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
  if (events.hovered == 2) ImGui::SetTooltip("Î re-rendered without the levels, channels and units switched off below");
}

void RenderingPathsPanel::draw_network(const Snapshot& snapshot, ImVec2 size) {
  const RenderingPath& path = *path_;
  const size_t levels = path.levels.size();
  if (levels == 0 || size.y < 40) return;
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  NetworkLayout layout = network_layout(path, origin, size, kLabelWidth, 24.0f);
  const float row_h = layout.row_h, cell_h = layout.cell_h, cells_x = layout.cells_x, cells_w = layout.cells_w;
  // Under each row's cells, the class usage: one strip per class shown, channel under channel.
  const int strips = shows_class_usage() ? (contrast_class_ >= 0 ? 2 : 1) : 0;
  const float strip_h = std::clamp(row_h * 0.13f, 5.0f, 12.0f), band_h = float(strips) * (strip_h + 2);
  layout.band_h = band_h;

  // The cells area is one button: the cell under the mouse follows from the position.
  ImGui::SetCursorScreenPos(ImVec2(cells_x, origin.y));
  ImGui::InvisibleButton("##network", ImVec2(cells_w, row_h * float(levels)));
  // Left click selects a channel (its units show on the right); right click switches it off.
  const bool hovered = ImGui::IsItemHovered(), clicked = ImGui::IsItemClicked(ImGuiMouseButton_Left);
  const bool right_clicked = ImGui::IsItemClicked(ImGuiMouseButton_Right);
  record_region("rendering_paths.network", ImVec2(cells_x, origin.y), ImVec2(cells_x + cells_w, origin.y + row_h * float(levels)));
  int hover_level = -1, hover_channel = -1;
  bool hover_usage = false;  // on the usage strips rather than the cell
  if (hovered) {
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    const int row = int((mouse.y - origin.y) / row_h);
    if (row >= 0 && row < int(levels)) {
      const size_t level = levels - 1 - size_t(row);
      ImVec2 p0, p1;
      layout.cell(level, 0, p0, p1);
      const int c = int(std::floor((mouse.x - p0.x) / layout.cell_width(level)));
      if (c >= 0 && c < path.levels[level].channels) hover_level = int(level), hover_channel = c;
      hover_usage = strips > 0 && mouse.y > p1.y + 1;
    }
  }

  // The strongest paths, drawn first so that the cells lie on top of their lines.
  const StrongChannels strong = strong_channels(path, strongest_, kChannelsPerLevel);
  draw_strong_links(draw, strong, layout);

  for (size_t l = 0; l < levels; ++l) {
    const PathLevel& level = path.levels[l];
    const float largest = largest_abs(level.channel_contribution);
    const bool level_off = l < edit_.level_off.size() && edit_.level_off[l];
    for (int c = 0; c < level.channels; ++c) {
      ImVec2 p0, p1;
      layout.cell(l, c, p0, p1);
      draw_channel_cell(draw, level, c, largest, strong.marked[l].count(c) > 0, p0, p1);
      if (channel_off(l, c)) draw_off_mark(draw, p0, p1);
      if (has_selection() && selected_.first == l && selected_.second == c)
        draw->AddRect(ImVec2(p0.x - 2, p0.y - 3), ImVec2(p1.x + 2, p1.y + 3), kSelectedColor, 0, 0, 2.0f);
      if (int(l) == hover_level && c == hover_channel)
        draw->AddRect(ImVec2(p0.x - 2, p0.y - 2), ImVec2(p1.x + 2, p1.y + 2 + band_h), IM_COL32(255, 255, 255, 255), 0, 0, 1.5f);
    }
    if (strips > 0) {
      ImVec2 p0, p1;
      layout.cell(l, 0, p0, p1);
      draw_usage_band(l, ImVec2(p0.x, p1.y + 2), layout.cell_width(l), strip_h);
    }
    // The label column: the level's name, its share of ‖Î‖², and the switch for the whole level.
    const float y = origin.y + float(layout.row_of(l)) * row_h + (row_h - cell_h) * 0.5f;
    const size_t units_on = size_t(std::count_if(level.on.begin(), level.on.end(), [](float v) { return v > 0.5f; }));
    char text[96];
    std::snprintf(text, sizeof text, "%s  %d×%d×%d", short_level_name(level.name).c_str(), level.channels, level.height, level.width);
    draw->AddText(ImVec2(origin.x, y - 2), IM_COL32(220, 220, 220, 255), text);
    ImGui::SetCursorScreenPos(ImVec2(origin.x, y + ImGui::GetTextLineHeight() - 2));
    ImGui::PushID(int(l));
    bool switched_off = level_off;
    if (ImGui::Checkbox("off", &switched_off) && l < edit_.level_off.size()) {
      edit_.level_off[l] = switched_off ? 1 : 0;
      clear_unit_flips(l, -1);  // the switch means every unit of the level
      changed_edit();
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
    const std::pair<size_t, int> hovered_channel(size_t(hover_level), hover_channel);
    if (clicked) selected_ = selected_ == hovered_channel ? std::pair<size_t, int>(0, -1) : hovered_channel;
    if (right_clicked && size_t(hover_level) < edit_.channel_off.size())
      set_channel_off(size_t(hover_level), hover_channel, !edit_.channel_off[size_t(hover_level)][size_t(hover_channel)]);
    if (hover_usage) draw_usage_tooltip(snapshot, size_t(hover_level), hover_channel);
    else draw_channel_tooltip(size_t(hover_level), hover_channel);
  }
}

void RenderingPathsPanel::draw_channel_tooltip(size_t level_index, int channel) {
  const RenderingPath& path = *path_;
  const PathLevel& level = path.levels[level_index];
  const size_t per_channel = size_t(level.height) * size_t(level.width), on = channel_units_on(level, channel);
  const float contribution =
      size_t(channel) < level.channel_contribution.size() ? level.channel_contribution[size_t(channel)] : 0.0f;
  ImGui::BeginTooltip();
  ImGui::Text("%s, channel %d", level.name.c_str(), channel);
  ImGui::Text("contribution %.4g (%.1f%% of ‖Î‖²), %zu of %zu units on", double(contribution),
              energy_percent(path, double(contribution)), on, per_channel);
  draw_piece_image({level_index, channel, -1}, "what this channel renders alone (gray = 0)");
  const bool off = level_index < edit_.channel_off.size() && size_t(channel) < edit_.channel_off[level_index].size() &&
                   edit_.channel_off[level_index][size_t(channel)];
  ImGui::TextDisabled("click: %s its units; right-click: switch this channel %s",
                      selected_ == std::pair<size_t, int>(level_index, channel) ? "hide" : "show",
                      off ? "on again" : "off");
  ImGui::EndTooltip();
}

void RenderingPathsPanel::draw_piece_image(const Piece& piece, const char* caption) {
  const RenderingPath& path = *path_;
  const auto found = piece_images_.find(piece);
  if (found == piece_images_.end()) {
    request_piece_image(piece);
    ImGui::TextDisabled("rendering it alone…");
    request_frames(4);
    return;
  }
  // One texture for whichever piece the tooltip shows; the version names the piece and the path.
  const uint64_t version = ((path_generation_ * 64u + piece.level) * 4096u + uint64_t(piece.channel)) * 1048576u +
                           uint64_t(piece.unit + 1);
  const Texture& texture = textures().get("piece", version, [&]() -> const RgbaImage& {
    // Its own scale: one channel or unit alone is faint next to the whole Î.
    static thread_local RgbaImage image;
    image = image_to_rgba({path.channels, path.height, path.width, found->second.data()}, Normalization::Symmetric);
    return image;
  });
  ImGui::Image(texture.imgui_id(), picture_size(path.width, path.height, magnification_near(path.width, 140)));
  ImGui::TextDisabled("%s", caption);
}

void RenderingPathsPanel::draw_unit_map(ImVec2 size) {
  const size_t l = selected_.first;
  const int c = selected_.second;
  const PathLevel& level = path_->levels[l];
  const float start_y = ImGui::GetCursorScreenPos().y;
  ImGui::Text("%s, channel %d", short_level_name(level.name).c_str(), c);
  ImGui::SameLine();
  bool off = l < edit_.channel_off.size() && edit_.channel_off[l][size_t(c)];
  if (ImGui::Checkbox("off##channel", &off)) set_channel_off(l, c, off);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Switch every unit of this channel off (or on again) and re-render Î");
  ImGui::SameLine();
  if (ImGui::SmallButton("close")) selected_ = {0, -1};
  const size_t area = size_t(level.height) * size_t(level.width), on = channel_units_on(level, c);
  const float contribution = size_t(c) < level.channel_contribution.size() ? level.channel_contribution[size_t(c)] : 0.0f;
  ImGui::TextDisabled("%zu of %zu units on, %.1f%% of ‖Î‖²", on, area, energy_percent(*path_, double(contribution)));

  // Cells coloured like the channel cells, but normalised over the level's units: a unit's colour
  // compares it with every unit of its level, not only with its channel's.
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float room_h = size.y - (origin.y - start_y) - ImGui::GetTextLineHeightWithSpacing();
  const float cell = std::clamp(std::floor(std::min(size.x / float(std::max(level.width, 1)),
                                                    room_h / float(std::max(level.height, 1)))), 2.0f, 18.0f);
  const ImVec2 grid(cell * float(level.width), cell * float(level.height));
  ImGui::InvisibleButton("##units", ImVec2(std::max(grid.x, 1.0f), std::max(grid.y, 1.0f)));
  const bool hovered = ImGui::IsItemHovered(), clicked = ImGui::IsItemClicked(ImGuiMouseButton_Left);
  record_region("rendering_paths.units", origin, ImVec2(origin.x + grid.x, origin.y + grid.y));
  ImDrawList* draw = ImGui::GetWindowDrawList();
  draw->AddRectFilled(origin, ImVec2(origin.x + grid.x, origin.y + grid.y), IM_COL32(22, 22, 26, 255));
  const float largest = largest_abs(level.contribution);
  const float gap = cell >= 5 ? 1.0f : 0.0f;
  for (int y = 0; y < level.height; ++y)
    for (int x = 0; x < level.width; ++x) {
      const size_t u = level.unit(c, y, x);
      const ImVec2 p0(origin.x + float(x) * cell, origin.y + float(y) * cell), p1(p0.x + cell - gap, p0.y + cell - gap);
      const float share = u < level.contribution.size() ? level.contribution[u] / largest : 0.0f;
      draw->AddRectFilled(p0, p1, unit_on(level, u) ? contribution_color(share) : IM_COL32(34, 34, 40, 255));
      if (unit_off(l, u)) draw_off_mark(draw, p0, p1);
      else if (channel_off(l, c)) draw->AddRect(p0, p1, kSelectedColor);  // kept on alone in an off channel
    }
  if (hovered) {
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    const int x = int((mouse.x - origin.x) / cell), y = int((mouse.y - origin.y) / cell);
    if (x >= 0 && x < level.width && y >= 0 && y < level.height) {
      const size_t u = level.unit(c, y, x);
      const ImVec2 p0(origin.x + float(x) * cell, origin.y + float(y) * cell);
      draw->AddRect(ImVec2(p0.x - 1, p0.y - 1), ImVec2(p0.x + cell + 1, p0.y + cell + 1), IM_COL32(255, 255, 255, 255), 0, 0, 1.5f);
      if (clicked) toggle_unit(l, u);
      // Beside the map, not over it: the person is reading the map around the unit. The pivot
      // follows the row, so the tooltip hangs down from the top rows and rises from the bottom ones
      // and stays inside the panel.
      const float pivot_y = grid.y > 0 ? std::clamp((mouse.y - origin.y) / grid.y, 0.0f, 1.0f) : 0.5f;
      ImGui::SetNextWindowPos(ImVec2(origin.x - 12, mouse.y), ImGuiCond_Always, ImVec2(1.0f, pivot_y));
      draw_unit_tooltip(l, u);
    }
  }
  ImGui::TextDisabled("hover: a unit alone; click: switch it");
}

void RenderingPathsPanel::draw_unit_tooltip(size_t level_index, size_t unit) {
  const PathLevel& level = path_->levels[level_index];
  const size_t area = size_t(level.height) * size_t(level.width);
  const int channel = int(unit / area), y = int(unit % area) / level.width, x = int(unit % area) % level.width;
  const float contribution = unit < level.contribution.size() ? level.contribution[unit] : 0.0f;
  ImGui::BeginTooltip();
  ImGui::Text("%s, channel %d at (%d, %d)", level.name.c_str(), channel, x, y);
  if (unit_on(level, unit)) {
    ImGui::Text("contribution %.4g (%.2f%% of ‖Î‖²)", double(contribution), energy_percent(*path_, double(contribution)));
    draw_piece_image({level_index, channel, long(unit)}, "what this unit renders alone (gray = 0)");
  } else {
    // No render job: a unit that is off in the path draws nothing.
    ImGui::TextDisabled(level.is_pool ? "off in the path: not the position its pooling window chose"
                                      : "off in the path: this template did not fire here");
  }
  ImGui::TextDisabled("click: switch this unit %s%s", unit_off(level_index, unit) ? "on again" : "off",
                      unit_on(level, unit) ? "" : " (matters once it fires)");
  ImGui::EndTooltip();
}

int RenderingPathsPanel::statistics_level(size_t path_level) const {
  if (!statistics_ || !path_ || path_level >= path_->levels.size()) return -1;
  const std::vector<size_t>& layers = statistics_->level_layers;
  const auto found = std::find(layers.begin(), layers.end(), path_->levels[path_level].layer);
  return found == layers.end() ? -1 : int(found - layers.begin());
}

const std::vector<double>* RenderingPathsPanel::usage_of(int c, size_t path_level) const {
  const int s = statistics_level(path_level);
  if (s < 0 || c < 0 || size_t(c) >= statistics_->usage.size() || size_t(s) >= statistics_->usage[size_t(c)].size()) return nullptr;
  return &statistics_->usage[size_t(c)][size_t(s)];
}

void RenderingPathsPanel::draw_usage_controls(const Snapshot& snapshot) {
  ImGui::TextUnformatted("Channel usage under each level:");
  ImGui::SameLine();
  ImGui::TextColored(ImVec4(1.0f, 0.72f, 0.25f, 1), "■");
  ImGui::SameLine(0, 2);
  draw_class_combo(snapshot, "##usage_class", &usage_class_);
  ImGui::SameLine();
  ImGui::TextUnformatted("vs");
  ImGui::SameLine();
  ImGui::TextColored(ImVec4(0.47f, 0.67f, 1.0f, 1), "■");
  ImGui::SameLine(0, 2);
  draw_class_combo(snapshot, "##contrast_class", &contrast_class_);
  ImGui::SameLine();
  ImGui::TextDisabled("(?)");
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Per channel, the mean over a class's images of the fraction of the channel's units that are on\n"
                      "(bars scaled to the level's largest value). Pick classes here or click the overlap heat map:\n"
                      "the row's class against the column's.");
}

void RenderingPathsPanel::draw_class_combo(const Snapshot& snapshot, const char* label, int* c) {
  const int n = int(statistics_->usage.size());
  const std::string shown = *c >= 0 ? std::to_string(*c) + " " + snapshot.class_name(*c) : std::string("none");
  ImGui::SetNextItemWidth(120);
  if (!ImGui::BeginCombo(label, shown.c_str())) return;
  if (ImGui::Selectable("none", *c < 0)) *c = -1;
  for (int k = 0; k < n; ++k)
    if (ImGui::Selectable((std::to_string(k) + " " + snapshot.class_name(k)).c_str(), *c == k)) *c = k;
  ImGui::EndCombo();
}

void RenderingPathsPanel::draw_usage_band(size_t level, ImVec2 origin, float cell_w, float strip_h) {
  // Both strips on the level's largest value over the two classes, so they compare bar by bar.
  const std::vector<double>* a = usage_of(usage_class_, level);
  const std::vector<double>* b = usage_of(contrast_class_, level);
  double top = 1e-9;
  for (const std::vector<double>* u : {a, b})
    if (u) top = std::max(top, *std::max_element(u->begin(), u->end()));
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const float gap = cell_w >= 5 ? 1.0f : 0.0f;
  float y = origin.y;
  for (const auto& [usage, color] : {std::make_pair(a, IM_COL32(255, 184, 64, 255)), std::make_pair(b, kContrastColor)}) {
    if (!usage) continue;
    const float width = cell_w * float(usage->size());
    draw->AddRectFilled(ImVec2(origin.x, y), ImVec2(origin.x + width - gap, y + strip_h), IM_COL32(26, 26, 31, 255));
    for (size_t k = 0; k < usage->size(); ++k) {
      const float x0 = origin.x + float(k) * cell_w, h = strip_h * float((*usage)[k] / top);
      draw->AddRectFilled(ImVec2(x0, y + strip_h - h), ImVec2(x0 + cell_w - gap, y + strip_h), color);
    }
    if (level == 0 && usage == a) record_region("rendering_paths.usage", ImVec2(origin.x, y), ImVec2(origin.x + width, y + strip_h));
    y += strip_h + 2;
  }
}

void RenderingPathsPanel::draw_usage_tooltip(const Snapshot& snapshot, size_t level, int channel) {
  const std::vector<double>* a = usage_of(usage_class_, level);
  const std::vector<double>* b = usage_of(contrast_class_, level);
  const PathLevel& here = path_->levels[level];
  const size_t area = size_t(here.height) * size_t(here.width);
  const auto images = [&](int c) {
    return size_t(c) < statistics_->class_counts.size() ? statistics_->class_counts[size_t(c)] : size_t(0);
  };
  ImGui::BeginTooltip();
  ImGui::Text("%s, channel %d: the share of its units on", here.name.c_str(), channel);
  if (a && size_t(channel) < a->size())
    ImGui::TextColored(ImVec4(1.0f, 0.72f, 0.25f, 1), "%s: %.1f%% (mean over %zu images)", snapshot.class_name(usage_class_).c_str(),
                       100 * (*a)[size_t(channel)], images(usage_class_));
  if (b && size_t(channel) < b->size())
    ImGui::TextColored(ImVec4(0.47f, 0.67f, 1.0f, 1), "%s: %.1f%% (mean over %zu images)", snapshot.class_name(contrast_class_).c_str(),
                       100 * (*b)[size_t(channel)], images(contrast_class_));
  ImGui::Text("this image: %.1f%%", area ? 100.0 * double(channel_units_on(here, channel)) / double(area) : 0.0);
  ImGui::TextDisabled("click: show its units; right-click: switch it off");
  ImGui::EndTooltip();
}

void RenderingPathsPanel::draw_statistics(const Snapshot& snapshot, ImVec2 size) {
  ImGui::BeginGroup();
  const float group_top = ImGui::GetCursorScreenPos().y, right = ImGui::GetCursorScreenPos().x + size.x;
  ImGui::TextUnformatted("Per-class statistics");
  same_line_if_fits(button_width(statistics_ ? "Recompute" : "Compute"), right);
  ImGui::BeginDisabled(statistics_job_.busy());
  if (ImGui::SmallButton(statistics_ ? "Recompute" : "Compute")) compute_statistics();
  ImGui::EndDisabled();
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Infer the paths of the first %zu training images with the model as it is now", kStatisticsImages);
  if (statistics_job_.busy()) {
    same_line_if_fits(scaled(120), right);
    const size_t total = std::max<size_t>(statistics_total_->load(), 1);
    ImGui::ProgressBar(float(statistics_done_->load()) / float(total), ImVec2(scaled(120), 0));
  }
  if (!statistics_error_.empty()) ImGui::TextColored(ImVec4(1, 0.45f, 0.45f, 1), "%s", statistics_error_.c_str());
  if (!statistics_ || statistics_->overlap.empty()) {
    text_wrapped("Overlap of the classes' paths, over " + std::to_string(kStatisticsImages) + " images", right,
                 ImGui::GetColorU32(ImGuiCol_TextDisabled));
    ImGui::EndGroup();
    return;
  }
  const PathStatistics& stats = *statistics_;
  const int n = int(stats.overlap.size());
  text_wrapped("path overlap between classes (weighted Jaccard)", right, ImGui::GetColorU32(ImGuiCol_TextDisabled));
  const float line_h = ImGui::GetTextLineHeight();
  float name_w = 0;
  for (int c = 0; c < n; ++c) name_w = std::max(name_w, ImGui::CalcTextSize(snapshot.class_name(c).c_str()).x);
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
                  (std::to_string(c) + " " + snapshot.class_name(c)).c_str());
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
  // The classes whose channel usage is shown: their row and column outlined.
  if (usage_class_ >= 0 && usage_class_ < n)
    draw->AddRect(ImVec2(grid0.x - 1, grid0.y + float(usage_class_) * cell - 1),
                  ImVec2(grid0.x + cell * float(n), grid0.y + float(usage_class_ + 1) * cell), kSelectedColor, 0, 0, 1.5f);
  if (contrast_class_ >= 0 && contrast_class_ < n)
    draw->AddRect(ImVec2(grid0.x + float(contrast_class_) * cell - 1, grid0.y - 1),
                  ImVec2(grid0.x + float(contrast_class_ + 1) * cell, grid0.y + cell * float(n)), kContrastColor, 0, 0, 1.5f);
  if (ImGui::IsItemHovered()) {
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    const int d = int((mouse.x - grid0.x) / cell), c = int((mouse.y - grid0.y) / cell);
    if (c >= 0 && c < n && d >= 0 && d < n) {
      // A click picks the row's class and contrasts it with the column's (none on the diagonal).
      if (ImGui::IsItemClicked(ImGuiMouseButton_Left)) usage_class_ = c, contrast_class_ = d == c ? -1 : d;
      const auto count = [&](int k) { return size_t(k) < stats.class_counts.size() ? stats.class_counts[size_t(k)] : size_t(0); };
      ImGui::SetTooltip("%s vs %s: overlap %.3f\n(%zu and %zu images)\nclick: compare the channels they use", snapshot.class_name(c).c_str(),
                        snapshot.class_name(d).c_str(), stats.overlap[size_t(c)][size_t(d)], count(c), count(d));
    }
  }
  ImGui::EndGroup();
}

void RenderingPathsPanel::write_export(const QString& path, const QString&) {
  // The panel as it is on screen: the pictures, the edit, the network and the statistics.
  export_png(path.toStdString(), screen_image());
}

}  // namespace drmm::ui
