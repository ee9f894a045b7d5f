#include "ui/panels/nuisance_probe_panel.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <QDir>
#include <QFileInfo>
#include <imgui.h>

#include "core/analysis/nuisance_probe_plot.h"
#include "core/backend/select/backend_factory.h"
#include "core/train/model_state.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "ui/export_files.h"
#include "ui/file_dialogs.h"
#include "ui/line_plot.h"
#include "ui/panel_layout.h"
#include "ui/session_controller.h"

namespace drmm::ui {
namespace {

// Sized to take a few seconds on two cores: 1,500 images (450 held out) and levels pooled to 512
// values, the README's `drmm probe` settings but for the image count.
constexpr size_t kImages = 1500;
constexpr ImU32 kChanceColour = IM_COL32(200, 200, 200, 255);

analysis::ProbeOptions probe_options() {
  analysis::ProbeOptions options;
  // The trainer waits for the job between its batches, so the probe may take every core.
  options.threads = int(std::max(1u, std::thread::hardware_concurrency()));
  return options;
}

// A checkpoint's name in the legend: `drmm compare` writes DIR/<variant>/checkpoint.bin, where
// the folder says which model it is.
std::string checkpoint_label(const std::string& path) {
  const QFileInfo file(QString::fromStdString(path));
  return (file.completeBaseName() == "checkpoint" ? file.dir().dirName() : file.completeBaseName()).toStdString();
}

std::shared_ptr<const NuisanceProbePanel::ComparedModel> probe_checkpoint(const std::string& path, const analysis::ProbeOptions& options) {
  const CheckpointContents contents = read_checkpoint(path);
  const std::unique_ptr<Backend> backend = make_backend("cpu", options.threads, nullptr);
  const std::unique_ptr<DrmmModel> model = load_model(contents, path, *backend);
  return std::make_shared<const NuisanceProbePanel::ComparedModel>(
      NuisanceProbePanel::ComparedModel{path, checkpoint_label(path), analysis::probe_on_synthetic(*model, kImages, options)});
}

std::vector<std::string> level_names(const std::vector<analysis::ProbeScore>& table) {
  std::vector<std::string> names;
  for (const analysis::ProbeScore& s : table)
    if (s.level == names.size()) names.push_back(s.level_name);
  return names;
}

// One curve per target over the levels, in the colours of `drmm probe`'s picture, named with
// `suffix`; and, when `with_chance`, the class's chance rate as a grey dashed line.
void add_curves(const std::vector<analysis::ProbeScore>& table, const std::string& suffix, bool dashed, bool with_chance,
                std::vector<PlotSeries>& curves) {
  std::vector<const analysis::ProbeScore*> targets;  // level 0's scores: every target once, in order
  for (const analysis::ProbeScore& s : table)
    if (s.level == 0) targets.push_back(&s);
  for (size_t t = 0; t < targets.size(); ++t) {
    const auto c = analysis::probe_target_colour(t);
    PlotSeries curve{targets[t]->target + suffix, IM_COL32(c[0], c[1], c[2], 255), {}, {}, dashed};
    for (const analysis::ProbeScore& s : table)
      if (s.target == targets[t]->target) curve.x.push_back(double(s.level)), curve.y.push_back(s.score);
    curves.push_back(std::move(curve));
    if (!with_chance || !targets[t]->discrete) continue;
    PlotSeries chance{targets[t]->target + " chance" + suffix, kChanceColour, {}, {}, true};
    for (const analysis::ProbeScore& s : table)
      if (s.target == targets[t]->target) chance.x.push_back(double(s.level)), chance.y.push_back(s.chance);
    curves.push_back(std::move(chance));
  }
}

PlotOptions score_axes(std::vector<std::string> levels) {
  PlotOptions options;
  options.title = "held-out score: R² (nuisances), accuracy (class)";
  options.x_label = "level";
  options.fixed_y = true;  // −0.2 … 1 whatever the scores, so runs and models compare by eye
  options.y_min = -0.2;
  options.y_max = 1.0;
  options.x_names = std::move(levels);
  return options;
}

}  // namespace

NuisanceProbePanel::NuisanceProbePanel(SessionController* session, FrameStats* stats, QWidget* parent)
    : ImGuiPanelHost(tr("Nuisance decoding"), session, stats, parent) {
  setObjectName("nuisance_probe");
}

NuisanceProbePanel::~NuisanceProbePanel() { job_.wait(); }

QString NuisanceProbePanel::help_text() const {
  return tr(
      "Which layer still knows where the shape is? The built-in synthetic shapes are drawn with known changes: "
      "their position (shift x, y), size, rotation, brightness and noise. A linear probe is the simplest reader of "
      "a layer: a weighted sum of its values, fitted on some images and scored on others it never saw. For a change "
      "the score is R²: 1, the probe predicts it exactly; 0, no better than always guessing the average (chance); "
      "below 0, worse. For the class it is the share of images classified right, against always guessing the most "
      "common class (the grey dashed line). Levels run rightwards: the pixels, then each layer of the model. "
      "Compare with checkpoint draws another model's curves dashed, e.g. the same network trained as a plain CNN. "
      "Hover the plot for every score at a level.\n"
      "The linear decoding of nuisances of Nguyen, Liu, Perez, Baraniuk & Patel, “Semi-Supervised Learning with the "
      "Deep Rendering Mixture Model”, CVPR 2017, §5: at each level, the bottom-up features of 1,500 synthetic "
      "images (a level with more than 512 values average-pooled per channel to the largest g×g grid that fits, so "
      "position survives at g×g), standardised; 30 % of the images held out. Ridge regression ŷ = W z + b, "
      "minimising Σ‖y − W z − b‖² + λ‖W‖², λ from {0.1 … 10⁴} chosen on a quarter of the training part, then "
      "refitted on all of it. A nuisance scores held-out R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²; the class, the accuracy "
      "of a least-squares classifier (ridge on the one-hot class, argmax). A model of 3×32×32 images is probed on "
      "the coloured shapes (hue a further nuisance). It runs on the training run's weights between two batches: "
      "when the panel is first shown, on Run probes, and every N steps with auto.");
}

void NuisanceProbePanel::run_probes() {
  wanted_ = true;
  request_frames();
}

void NuisanceProbePanel::compare_with(const QString& path) {
  compare_path_ = path.toStdString();
  compare_error_.clear();
  run_probes();
}

void NuisanceProbePanel::choose_checkpoint() {
  // The file dialog runs its own event loop: open it after this frame, never inside paintGL.
  QMetaObject::invokeMethod(
      this,
      [this] {
        const QString path = dialogs::open_file(this, tr("Compare with checkpoint"),
                                                tr("DRMM checkpoints (*.drmm *.bin);;All files (*)"), "checkpoint");
        if (!path.isEmpty()) compare_with(path);
      },
      Qt::QueuedConnection);
}

void NuisanceProbePanel::start_job() {
  // A checkpoint does not change: it is probed once, when chosen, not at every refresh.
  const std::string compare = compare_path_;
  compare_path_.clear();
  const analysis::ProbeOptions options = probe_options();
  job_.start(session()->training_session(), [compare, options](Trainer& trainer) {
    const auto start = std::chrono::steady_clock::now();
    ProbeRun run;
    run.step = trainer.step_count();
    run.live = analysis::probe_on_synthetic(trainer.model(), kImages, options);
    if (!compare.empty()) {
      try {
        run.comparison = probe_checkpoint(compare, options);
      } catch (const std::exception& e) {
        run.comparison_error = e.what();  // the live model's scores still count
      }
    }
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return run;
  });
  busy_clock_.restart();
  wanted_ = false;
}

void NuisanceProbePanel::adopt_result() {
  ProbeRun run;
  if (!job_.take(run, error_)) return;
  if (run.comparison) compared_ = run.comparison;
  if (!run.comparison_error.empty()) compare_error_ = run.comparison_error;
  shown_ = std::move(run);
  ++runs_done_;
}

void NuisanceProbePanel::draw_controls() {
  ImGui::BeginDisabled(job_.busy());
  if (ImGui::Button("Run probes")) run_probes();
  same_line_if_fits(button_width("Compare with checkpoint…"));
  if (ImGui::Button("Compare with checkpoint…")) choose_checkpoint();
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Probe a saved model beside the live one (dashed), e.g. the plain CNN of drmm compare");
  ImGui::EndDisabled();
  if (compared_) {
    same_line_if_fits(button_width("Remove comparison"));
    if (ImGui::Button("Remove comparison")) compared_.reset();
  }
  same_line_if_fits(checkbox_width("auto"));
  ImGui::Checkbox("auto", &auto_refresh_);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Probe the live model again every N training steps");
  next_item_in_row(scaled(120));
  ImGui::BeginDisabled(!auto_refresh_);
  ImGui::DragInt("##every", &refresh_steps_, 5.0f, 50, 10000, "every %d steps", ImGuiSliderFlags_AlwaysClamp);
  ImGui::EndDisabled();
  // A failed job leaves the last scores on screen, with why it failed above them.
  const float right = content_right();
  if (!error_.empty() && !job_.busy()) text_wrapped(error_, right, IM_COL32(255, 110, 110, 255));
  if (!compare_error_.empty()) text_wrapped("Comparison: " + compare_error_, right, IM_COL32(255, 110, 110, 255));
}

void NuisanceProbePanel::draw_plots() {
  const std::vector<analysis::ProbeScore>& live = shown_.live.scores;
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float height = std::max(line_plot_min_height(), avail.y);
  std::vector<PlotSeries> curves;
  add_curves(live, "", false, true, curves);
  // The same levels (a DRMM and its CNN): one plot, dashed over solid. Another architecture: its
  // own plot beside, with its own levels.
  const bool overlay = compared_ && level_names(compared_->probe.scores) == level_names(live);
  if (overlay) add_curves(compared_->probe.scores, " (" + compared_->label + ")", true, false, curves);
  const float width = compared_ && !overlay ? (avail.x - ImGui::GetStyle().ItemSpacing.x) * 0.5f : avail.x;
  const PanelRect plot = draw_line_plot("##scores", ImVec2(width, height), curves, score_axes(level_names(live)));
  record_region("nuisance_probe.plot", plot.min, plot.max);
  if (compared_ && !overlay) {
    std::vector<PlotSeries> theirs;
    add_curves(compared_->probe.scores, " (" + compared_->label + ")", true, true, theirs);
    ImGui::SameLine();
    const PanelRect beside = draw_line_plot("##compared", ImVec2(width, height), theirs, score_axes(level_names(compared_->probe.scores)));
    record_region("nuisance_probe.compared", beside.min, beside.max);
  }
}

void NuisanceProbePanel::draw(const Snapshot& snapshot) {
  adopt_result();
  if (auto_refresh_ && snapshot.step >= started_step_ + refresh_steps_) wanted_ = true;
  if (wanted_ && !job_.busy() && snapshot.version > 0) {
    started_step_ = snapshot.step;
    start_job();
  }
  char header[200];
  if (job_.busy())
    std::snprintf(header, sizeof header, "Probing the live model at step %lld… %.0f s", static_cast<long long>(started_step_),
                  double(busy_clock_.elapsed()) / 1000.0);
  else if (runs_done_)
    std::snprintf(header, sizeof header, "Linear probes at step %lld, %zu %s images (%.1f s)",
                  static_cast<long long>(shown_.step), shown_.live.images, shown_.live.dataset.c_str(), shown_.seconds);
  else
    std::snprintf(header, sizeof header, "%s", snapshot.version == 0 ? "Waiting for the model…" : "Linear probes: press Run probes");
  draw_header(header);
  draw_controls();
  if (runs_done_) draw_plots();
}

void NuisanceProbePanel::write_export(const QString& path, const QString& format) {
  if (format == "csv") {
    if (!runs_done_) throw Error("nothing to export: press Run probes first");
    std::vector<std::string> labels{"live"};
    std::vector<std::vector<analysis::ProbeScore>> tables{shown_.live.scores};
    if (compared_) labels.push_back(compared_->label), tables.push_back(compared_->probe.scores);
    write_file_atomically(path.toStdString(), analysis::probe_table_csv(labels, tables));
    return;
  }
  export_png(path.toStdString(), screen_image());  // the panel as it is on screen, with its names
}

}  // namespace drmm::ui
