#include "ui/panels/comparison_panel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <imgui.h>

#include "core/train/training_session.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "ui/export_files.h"
#include "ui/path_network.h"
#include "ui/session_controller.h"
#include "ui/tile_grid.h"

namespace drmm::ui {
namespace {

// A view costs a few bottom-up and top-down passes on the run's own thread: once a second is
// enough to follow training, and leaves the batches their time.
constexpr qint64 kRefreshMs = 1000;
constexpr size_t kComparedImages = 6;
constexpr size_t kStrongestUnits = 12;  // as in the Rendering paths panel
constexpr size_t kChannelsPerLevel = 3;

// The runs' colours of `drmm compare`'s picture (blue DRMM, red CNN), lifted towards white so
// they read on the panels' dark background; the r(I, Î) curves in a paler tint of the same.
ImU32 side_color(size_t side, float lift) {
  const std::array<uint8_t, 3> c = run_color(side);
  const auto mix = [lift](uint8_t v) { return int(float(v) + (255.0f - float(v)) * lift); };
  return IM_COL32(mix(c[0]), mix(c[1]), mix(c[2]), 255);
}

// The median ms per step of the newest logged rows (images/s over batches of `batch_size`): the
// two runs share the cores with each other and the GUI, and a median rides out the moments one
// of them had both.
double ms_per_step(const Snapshot& snapshot, int batch_size) {
  constexpr size_t kRows = 40;
  std::vector<double> ms;
  for (size_t i = snapshot.history.size() > kRows ? snapshot.history.size() - kRows : 0; i < snapshot.history.size(); ++i)
    if (snapshot.history[i].images_per_second > 0) ms.push_back(1000.0 * batch_size / snapshot.history[i].images_per_second);
  if (ms.empty()) return 0;
  std::nth_element(ms.begin(), ms.begin() + long(ms.size() / 2), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

ComparisonPanel::ComparisonPanel(SessionController* session, FrameStats* stats, QWidget* parent)
    : ImGuiPanelHost(tr("DRMM vs CNN"), session, stats, parent) {
  setObjectName("comparison");
  sides_[kDrmm].name = "DRMM";
  sides_[kCnn].name = "CNN";
  for (ComparedSide& side : sides_) side.clock.start();
  connect(session, &SessionController::compare_cnn_changed, this, [this] { request_frames(); });
}

ComparisonPanel::~ComparisonPanel() {
  for (ComparedSide& side : sides_) side.job.wait();
}

QString ComparisonPanel::help_text() const {
  return tr(
      "The same network trained two ways, side by side, on the same images, the same labeled images and in the "
      "same order: once as a DRMM, which learns to classify and to draw the images back, and once as a plain CNN, "
      "which only learns to classify. Top: the test accuracy of both (solid) and how closely each one's drawings "
      "match the test images (r, paler), over the training steps. Below: test images, each beside what the DRMM "
      "and the CNN draw of it, and on the right which parts of each network draw the first one. The CNN never "
      "learned to draw, so its drawings are poor (r near 0), while its accuracy is similar or lower with few "
      "labels (100 in the paper's table); a CNN step skips the drawing, so it is faster (the line above says by "
      "how much: about 1.4× for the tiny preset on a quiet 2-core machine, less when both runs share it).\n"
      "Nguyen, Liu, Perez, Baraniuk & Patel, “Semi-Supervised Learning with the Deep Rendering Mixture Model”, "
      "CVPR 2017: the DRMM minimises L = α_H·L_H + α_RC·L_RC + α_KL·L_KL + α_NN·L_NN (eq. 5–8); the CNN is the "
      "same architecture with α_RC = α_KL = α_NN = 0, i.e. the cross-entropy L_H alone (the paper's baseline "
      "\"without KL and NN\", Table 1, and plain supervised training). Both infer bottom-up the same way, and "
      "both have a top-down pass Î = μ(ĉ, g) through their own weights, drawn here from the predicted class ĉ. "
      "r(I, Î) is the Pearson correlation of image and rendering; each Î is shown stretched to its own range, "
      "since r ignores scale. The networks show each model's rendering path of the first image: one row per "
      "level, one cell per channel coloured by its contribution ⟨Î_u, Î⟩ to ‖Î‖² (orange adds, blue takes "
      "away), the channels of the 12 strongest units outlined and joined.\n"
      "Start it from Train ▸ Compare with a CNN (L_H only), or launch the studio with --compare-cnn. Reset, Apply, "
      "a new dataset or an opened checkpoint start a fresh CNN beside the new run.");
}

bool ComparisonPanel::refresh_due(const ComparedSide& side, const Snapshot& latest) const {
  if (side.job.busy() || latest.version == 0 || latest.status.rfind("error", 0) == 0) return false;
  if (!side.shown && side.error.empty()) return true;
  return (!side.shown || side.shown->step != latest.step) && side.clock.elapsed() >= kRefreshMs;
}

bool ComparisonPanel::animating() const {
  // Busy, not just ready: the screenshot hook must not take the picture while a view is on its way.
  const std::shared_ptr<TrainingSession> twin = session()->cnn_twin_session();
  if (!twin) return false;
  for (const ComparedSide& side : sides_)
    if (side.job.busy()) return true;
  const auto twin_latest = twin->latest();
  const Snapshot* drmm = snapshot_ptr().get();
  return twin_latest->version != drawn_twin_version_ || (drmm && refresh_due(sides_[kDrmm], *drmm)) ||
         refresh_due(sides_[kCnn], *twin_latest);
}

// A new run (a reset, a checkpoint) or a new twin: the old view shows another model.
void ComparisonPanel::follow_run(ComparedSide& side, const std::shared_ptr<TrainingSession>& run) {
  if (side.run.lock() == run) return;
  side.run = run;
  side.shown.reset();
  side.error.clear();
  ++views_generation_;
}

void ComparisonPanel::poll(ComparedSide& side, const std::shared_ptr<TrainingSession>& run, const Snapshot& latest) {
  std::shared_ptr<const RunView> view;
  std::string error;
  const bool of_this_run = side.job_run.lock() == run;  // a job of a replaced run renders another model
  if (side.job.take(view, error)) {
    if (of_this_run) {
      side.shown = std::move(view);
      side.error.clear();
      ++views_generation_;
    }
  } else if (!error.empty() && of_this_run) {
    side.error = error;  // retried after kRefreshMs
  }
  if (!refresh_due(side, latest)) return;
  side.clock.restart();
  side.job_run = run;
  side.job.start(run, [](Trainer& trainer) {
    return std::make_shared<const RunView>(view_of_run(trainer, kComparedImages, kStrongestUnits));
  });
}

void ComparisonPanel::draw(const Snapshot& snapshot) {
  const std::shared_ptr<TrainingSession> twin = session()->cnn_twin_session();
  shows_hint_ = !twin;
  draw_header("DRMM vs CNN (L_H only): the same network trained two ways");
  if (!twin) return draw_hint(snapshot);
  const std::shared_ptr<const Snapshot> cnn = twin->latest();
  drawn_twin_version_ = cnn->version;
  const std::shared_ptr<TrainingSession> drmm = session()->training_session();
  follow_run(sides_[kDrmm], drmm);
  follow_run(sides_[kCnn], twin);
  poll(sides_[kDrmm], drmm, snapshot);
  poll(sides_[kCnn], twin, *cnn);
  draw_speeds(snapshot, *cnn);
  for (const ComparedSide& side : sides_)
    if (!side.error.empty()) ImGui::TextColored(ImVec4(1, 0.45f, 0.45f, 1), "%s: %s", side.name, side.error.c_str());

  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const int buckets = std::max(16, int(avail.x / 2));
  rebuild_curves(snapshot, *cnn, buckets);
  PlotOptions options{"test accuracy and r(I, Î), both runs", "step", false, true, 0.0, 1.0};
  const float plot_h = std::max(line_plot_min_height(), avail.y * 0.36f);
  const PanelRect plot = draw_line_plot("##curves", ImVec2(avail.x, plot_h), curves_, options);
  record_region("comparison.curves", plot.min, plot.max);

  const ImVec2 below = ImGui::GetContentRegionAvail();
  const float images_w = std::max(below.x * 0.42f, scaled(150));
  const ImVec2 start = ImGui::GetCursorScreenPos();
  ImGui::BeginGroup();
  draw_images(ImVec2(images_w, below.y));
  ImGui::EndGroup();
  ImGui::SetCursorScreenPos(ImVec2(start.x + images_w + scaled(12), start.y));
  ImGui::BeginGroup();
  draw_paths(snapshot, ImVec2(std::max(below.x - images_w - scaled(12), scaled(120)), below.y));
  ImGui::EndGroup();
}

void ComparisonPanel::draw_hint(const Snapshot& snapshot) {
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float right = content_right();
  const std::string text =
      !snapshot.watched_folder.empty()
          ? "The run on screen is watched, not trained here: there is no CNN to train beside it. Start a run here "
            "(Reset) to compare."
          : "Train the same network as a plain CNN beside this run: Train ▸ Compare with a CNN (L_H only), or start "
            "the studio with --compare-cnn. Both then train on the same data, labeled split, seed and batch order; "
            "this panel shows both accuracy curves, both models' renderings of the same test images and both "
            "rendering paths.";
  text_wrapped(text, right);
  if (snapshot.watched_folder.empty() && ImGui::Button("Compare with a CNN (L_H only)"))
    session()->set_compare_cnn(true);
  record_region("comparison.hint", origin, ImVec2(right, ImGui::GetCursorScreenPos().y));
}

void ComparisonPanel::draw_speeds(const Snapshot& drmm, const Snapshot& cnn) {
  const int batch = session()->config().batch_size;
  const double drmm_ms = ms_per_step(drmm, batch), cnn_ms = ms_per_step(cnn, batch);
  char drmm_text[64], cnn_text[64], ratio[64];
  std::snprintf(drmm_text, sizeof drmm_text, "DRMM step %lld, %.0f ms/step   ", static_cast<long long>(drmm.step), drmm_ms);
  std::snprintf(cnn_text, sizeof cnn_text, "CNN step %lld, %.0f ms/step   ", static_cast<long long>(cnn.step), cnn_ms);
  if (drmm_ms > 0 && cnn_ms > 0) std::snprintf(ratio, sizeof ratio, "the CNN is %.1f× faster per step", drmm_ms / cnn_ms);
  else std::snprintf(ratio, sizeof ratio, "%s", drmm.running || cnn.running ? "measuring the speeds…" : "paused");
  ImGui::PushStyleColor(ImGuiCol_Text, side_color(kDrmm, 0.35f));
  text_pieces({drmm_text});
  ImGui::PopStyleColor();
  same_line_if_fits(ImGui::CalcTextSize(cnn_text).x);
  ImGui::PushStyleColor(ImGuiCol_Text, side_color(kCnn, 0.35f));
  text_pieces({cnn_text});
  ImGui::PopStyleColor();
  same_line_if_fits(ImGui::CalcTextSize(ratio).x);
  ImGui::TextUnformatted(ratio);
}

void ComparisonPanel::rebuild_curves(const Snapshot& drmm, const Snapshot& cnn, int buckets) {
  const uint64_t key = (drmm.version * 1000003u + cnn.version) * 4099u + uint64_t(buckets);
  if (key == curves_key_) return;
  curves_key_ = key;
  curves_.clear();
  const Snapshot* runs[2] = {&drmm, &cnn};
  std::vector<PlotSeries> rendering;
  for (size_t s = 0; s < 2; ++s) {
    PlotSeries accuracy{std::string(sides_[s].name) + " test accuracy", side_color(s, 0.35f), {}, {}};
    PlotSeries r{std::string(sides_[s].name) + " r(I, Î)", side_color(s, 0.7f), {}, {}};
    for (const MetricsRow& row : runs[s]->history) {
      if (row.test_accuracy >= 0) accuracy.x.push_back(double(row.step)), accuracy.y.push_back(row.test_accuracy);
      if (row.rendering.count > 0) r.x.push_back(double(row.step)), r.y.push_back(row.rendering.r_mean);
    }
    accuracy_points_[s] = accuracy.x.size();
    curves_.push_back(decimate(accuracy, buckets));
    rendering.push_back(decimate(r, buckets));
  }
  curves_.insert(curves_.end(), rendering.begin(), rendering.end());
}

// The table of test images: I, the DRMM's Î and the CNN's Î side by side, each Î with its r.
void ComparisonPanel::draw_images(ImVec2 size) {
  const RunView* views[2] = {sides_[kDrmm].shown.get(), sides_[kCnn].shown.get()};
  const RunView* any = views[kDrmm] ? views[kDrmm] : views[kCnn];
  if (!any || any->inputs.empty()) {
    ImGui::TextDisabled("Rendering the test images…");
    return;
  }
  const ImageF& first = any->inputs.front();
  // As many rows as fit at twice the image size at least (smaller, the images and their r captions
  // cannot be read); the others wait for a taller panel.
  const float line_h = ImGui::GetTextLineHeightWithSpacing();
  const float row_h = 2.0f * ui_scale() * float(first.height) + line_h + 2.0f;
  const size_t count = std::clamp<size_t>(size_t(std::max((size.y - line_h) / row_h, 1.0f)), 1, any->inputs.size());
  const Texture& texture = textures().get("table", views_generation_, [&]() -> const RgbaImage& {
    std::vector<AtlasItem> items;
    for (size_t i = 0; i < any->inputs.size(); ++i) {
      items.push_back({view_of(any->inputs[i]), Normalization::UnitRange});
      // Stretched: r ignores scale, and the CNN's Î is faint on the pixel scale.
      for (const RunView* v : views)
        items.push_back({v && i < v->renderings.size() ? view_of(v->renderings[i]) : ImageView{}, Normalization::MinMax});
    }
    table_ = build_atlas(items, 3);
    return table_.image;
  });
  if (table_.tiles.size() < 3 * count) return;
  const ImVec2 header = ImGui::GetCursorScreenPos();
  ImGui::Dummy(ImVec2(size.x, line_h));
  const GridLayout layout = grid_with_columns(int(3 * count), 3, first.width, first.height,
                                              ImVec2(size.x, size.y - line_h), 2.0f, line_h);
  const char* heads[3] = {"I", "DRMM Î", "CNN Î"};
  const ImU32 head_colors[3] = {IM_COL32(210, 210, 210, 255), side_color(kDrmm, 0.35f), side_color(kCnn, 0.35f)};
  ImDrawList* draw = ImGui::GetWindowDrawList();
  // Texts stay inside their column: a caption running into the next picture would read as its.
  const auto text_in_cell = [&](ImVec2 at, ImU32 color, const char* text) {
    draw->PushClipRect(at, ImVec2(at.x + layout.cell.x - 2, at.y + line_h), true);
    draw->AddText(at, color, text);
    draw->PopClipRect();
  };
  for (int k = 0; k < 3; ++k) text_in_cell(ImVec2(header.x + float(k) * layout.cell.x, header.y), head_colors[k], heads[k]);
  const GridEvents events = draw_tile_grid("##table", texture, table_, int(3 * count), layout, [&](int i, ImVec2 p0, ImVec2 p1) {
    const size_t image = size_t(i) / 3, column = size_t(i) % 3;
    const RunView* v = column == 0 ? nullptr : views[column - 1];
    if (!v || image >= v->r.size()) return;
    char text[24];
    std::snprintf(text, sizeof text, "r %.2f", v->r[image]);
    text_in_cell(ImVec2(p0.x, p1.y + 1), head_colors[column], text);
  });
  for (int k = 0; k < 3; ++k) {
    const float x0 = events.rect.min.x + float(k) * layout.cell.x;
    const char* names[3] = {"comparison.inputs", "comparison.drmm_renderings", "comparison.cnn_renderings"};
    record_region(names[k], ImVec2(x0, events.rect.min.y), ImVec2(x0 + layout.tile.x, events.rect.max.y));
  }
  if (events.hovered >= 0) {
    const size_t image = size_t(events.hovered) / 3, column = size_t(events.hovered) % 3;
    if (column == 0) ImGui::SetTooltip("Test image #%zu", image);
    else if (const RunView* v = views[column - 1])
      ImGui::SetTooltip("%s's Î of test image #%zu at step %lld, rendered from its predicted class, stretched; "
                        "r(I, Î) = %.3f", sides_[column - 1].name, image, static_cast<long long>(v->step), v->r[image]);
  }
}

// Both models' rendering paths of the first test image, the DRMM's above the CNN's.
void ComparisonPanel::draw_paths(const Snapshot& snapshot, ImVec2 size) {
  const float line_h = ImGui::GetTextLineHeightWithSpacing();
  const float each_h = std::max((size.y - 2 * line_h) * 0.5f, scaled(40));
  const char* regions[2] = {"comparison.drmm_path", "comparison.cnn_path"};
  for (size_t s = 0; s < 2; ++s) {
    const RunView* v = sides_[s].shown.get();
    if (!v || v->path.levels.empty()) {
      ImGui::TextDisabled("%s: inferring the rendering path…", sides_[s].name);
      ImGui::Dummy(ImVec2(size.x, each_h));
      continue;
    }
    const RenderingPath& path = v->path;
    const float q = size_t(path.predicted) < path.class_probabilities.size() ? path.class_probabilities[size_t(path.predicted)] : 0.0f;
    char text[160];
    std::snprintf(text, sizeof text, "%s path of test image #0: ĉ = %s (q %.2f)", sides_[s].name,
                  snapshot.class_name(path.predicted).c_str(), double(q));
    ImGui::PushStyleColor(ImGuiCol_Text, side_color(s, 0.35f));
    text_elided(text, size.x);
    ImGui::PopStyleColor();
    const PanelRect rect = draw_path_network(path, v->strongest, kChannelsPerLevel, ImVec2(size.x, each_h));
    record_region(regions[s], rect.min, rect.max);
  }
}

void ComparisonPanel::write_export(const QString& path, const QString& format) {
  if (format != "csv") {
    export_png(path.toStdString(), screen_image());  // the curves are drawn, not computed images
    return;
  }
  const std::shared_ptr<TrainingSession> twin = session()->cnn_twin_session();
  if (!twin) throw Error("nothing to export: the CNN twin is not running (Train ▸ Compare with a CNN)");
  const std::shared_ptr<const Snapshot> runs[2] = {session()->latest(), twin->latest()};
  std::ostringstream csv;
  csv << "run,step,test_accuracy,r_mean\n";
  for (size_t s = 0; s < 2; ++s)
    for (const MetricsRow& row : runs[s]->history)
      if (row.test_accuracy >= 0)
        csv << sides_[s].name << "," << row.step << "," << row.test_accuracy << ","
            << (row.rendering.count > 0 ? std::to_string(row.rendering.r_mean) : std::string()) << "\n";
  write_file_atomically(path.toStdString(), csv.str());
}

}  // namespace drmm::ui
