#include "ui/panels/training_panel.h"

#include <algorithm>
#include <cfloat>
#include <cstdio>


#include <imgui.h>

#include "core/util/error.h"
#include "ui/export_files.h"
#include "ui/session_controller.h"

namespace drmm::ui {
namespace {

const char* const kDatasets[] = {"fashion-mnist", "synthetic", "synthetic-rgb"};
const char* const kBackends[] = {"cpu", "vulkan", "auto"};

bool same_settings(const TrainConfig& a, const TrainConfig& b) {
  return a.dataset == b.dataset && a.preset == b.preset && a.labeled == b.labeled &&
         a.alpha_from_preset == b.alpha_from_preset && a.alpha.h == b.alpha.h && a.alpha.rc == b.alpha.rc &&
         a.alpha.kl == b.alpha.kl && a.alpha.nn == b.alpha.nn && a.alpha.rpn == b.alpha.rpn &&
         a.nrm_biases == b.nrm_biases && a.max_min == b.max_min && a.lr_start == b.lr_start && a.lr_end == b.lr_end &&
         a.backend == b.backend && a.epochs == b.epochs;
}

// A combo over fixed names that also shows a value outside the list (a path, a custom preset).
bool name_combo(const char* label, std::string& value, const std::vector<std::string>& names) {
  bool changed = false;
  if (ImGui::BeginCombo(label, value.c_str())) {
    for (const std::string& name : names) {
      const bool selected = name == value;
      if (ImGui::Selectable(name.c_str(), selected)) {
        value = name;
        changed = true;
      }
      if (selected) ImGui::SetItemDefaultFocus();
    }
    ImGui::EndCombo();
  }
  return changed;
}

}  // namespace

TrainingPanel::TrainingPanel(SessionController* session, FrameStats* stats, QWidget* parent)
    : ImGuiPanelHost(tr("Training"), session, stats, parent), pending_(session->config()) {
  setObjectName("training");
  connect(session, &SessionController::config_changed, this, [this] {
    pending_ = this->session()->config();
    request_frames();
  });
}

QString TrainingPanel::help_text() const {
  return tr(
      "Here the model learns from the images, one small batch at a time. Top plot: the model's errors (the "
      "losses), which should fall as it learns. Middle: the share of images it classifies correctly (train and "
      "test accuracy), which should rise, and r(I, Î), how closely the images it draws back match test images (1: "
      "a perfect match). Bottom: the speed in images per second. The horizontal axis is the training step.\n"
      "Training runs the EG algorithm of Nguyen, Liu, Perez, Baraniuk & Patel, “Semi-Supervised Learning with the "
      "Deep Rendering Mixture Model”, CVPR 2017, sec. 4.1: per batch, an E-step (bottom-up inference, which is the "
      "CNN forward pass, then top-down reconstruction Î) and an M-step (one gradient step on L = α_H·L_H + "
      "α_RC·L_RC + α_KL·L_KL + α_NN·L_NN).\n"
      "Curves: L_H cross-entropy on labeled images (eq. 5), L_RC reconstruction error ‖I − Î‖² (eq. 6), L_KL the "
      "KL penalty on q(c|I) (eq. 7; by default with the sign the authors' code uses, so L_KL and the total L can "
      "go below zero, hence the symmetric log scale), L_NN the non-negativity penalty on the intermediate "
      "templates z^ℓ (eq. 8), and the total L. Accuracy: train on recent labeled batches, test on the held-out "
      "split.\n"
      "N_L is the number of labeled images (balanced per class); the rest are used unlabeled. Changing a setting "
      "and pressing Apply starts a new run.");
}

void TrainingPanel::draw(const Snapshot& snapshot) {
  if (snapshot.step == 0) trained_seconds_ = 0;  // a new run
  training_ = snapshot.running;
  if (training_) trained_seconds_ += double(ImGui::GetIO().DeltaTime);
  draw_controls(snapshot);
  if (ImGui::CollapsingHeader("Run settings")) draw_settings();
  draw_curves(snapshot);
}

void TrainingPanel::draw_controls(const Snapshot& snapshot) {
  SessionController& run = *session();
  // The controller knows a start at once, the snapshot only at the next publish (≤ 250 ms).
  const bool busy = snapshot.running || (run.running() && !snapshot.finished);
  if (!snapshot.watched_folder.empty()) {
    ImGui::TextWrapped("Watching %s: the run trains elsewhere; every panel shows its newest checkpoint. Reset "
                       "starts a run here.", snapshot.watched_folder.c_str());
  } else if (busy) {
    if (ImGui::Button("Pause (F6)")) run.pause();
  } else {
    if (ImGui::Button("Train (F5)")) run.start();
  }
  if (snapshot.watched_folder.empty()) {
    same_line_if_fits(button_width("Step (F10)"));
    if (ImGui::Button("Step (F10)")) run.step_once();
    same_line_if_fits(button_width("Reset"));
  }
  if (ImGui::Button("Reset")) run.after_confirming("Reset starts a new run from fresh weights", [&run] { run.reset(); });
  draw_header_tools();

  // One status line: where the run is and how fast it goes.
  const MetricsRow* last = snapshot.history.empty() ? nullptr : &snapshot.history.back();
  const double total_epochs = snapshot.steps_per_epoch > 0 && snapshot.total_steps > 0
                                  ? double(snapshot.total_steps) / double(snapshot.steps_per_epoch)
                                  : run.config().epochs;
  const int seconds = int(trained_seconds_);
  // Wrapped between its figures, not clipped, on a narrow panel or at a large zoom.
  char step[48], epoch[48], speed[32], clock[48];
  std::snprintf(step, sizeof step, "step %lld ", static_cast<long long>(snapshot.step));
  std::snprintf(epoch, sizeof epoch, "epoch %.2f / %.3g ", snapshot.epoch, total_epochs);
  std::snprintf(speed, sizeof speed, "%.0f images/s ", last ? last->images_per_second : 0.0);
  std::snprintf(clock, sizeof clock, "%s  %d:%02d", snapshot.backend_name.empty() ? run.config().backend.c_str() : snapshot.backend_name.c_str(),
                seconds / 60, seconds % 60);
  text_pieces({step, epoch, speed, clock, training_ ? "training" : ""});
  const float done = total_epochs > 0 ? float(std::clamp(snapshot.epoch / total_epochs, 0.0, 1.0)) : 0.0f;
  char progress[32];
  std::snprintf(progress, sizeof progress, "%.1f%% of the run", 100.0 * double(done));
  ImGui::ProgressBar(done, ImVec2(-FLT_MIN, 0), progress);
  if (!snapshot.status.empty()) {
    const bool error = snapshot.status.rfind("error", 0) == 0;
    if (error) ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(255, 110, 100, 255));
    ImGui::TextWrapped("%s", snapshot.status.c_str());
    if (error) ImGui::PopStyleColor();
  }
  if (last != nullptr) {
    // Test accuracy is evaluated only now and then: show the newest row that has it.
    char test_text[16] = "-";
    const auto tested = std::find_if(snapshot.history.rbegin(), snapshot.history.rend(),
                                     [](const MetricsRow& r) { return r.test_accuracy >= 0; });
    if (tested != snapshot.history.rend()) std::snprintf(test_text, sizeof test_text, "%.3f", tested->test_accuracy);
    // Wrapped between the figures, not clipped: on a narrow panel the accuracies move to a second line.
    char l[32], h[32], rc[32], kl[32], nn[32], rpn[32] = "", train[32], test[40];
    std::snprintf(l, sizeof l, "L %.4g ", last->loss_total);
    std::snprintf(h, sizeof h, "H %.4g ", last->loss_h);
    std::snprintf(rc, sizeof rc, "RC %.4g ", last->loss_rc);
    std::snprintf(kl, sizeof kl, "KL %.4g ", last->loss_kl);
    std::snprintf(nn, sizeof nn, "NN %.4g  ", last->loss_nn);
    if (last->loss_rpn != 0.0) std::snprintf(rpn, sizeof rpn, "RPN %.4g  ", last->loss_rpn);
    std::snprintf(train, sizeof train, "train acc %.3f  ", last->train_accuracy);
    std::snprintf(test, sizeof test, "test acc %s", test_text);
    text_pieces({l, h, rc, kl, nn, rpn, train, test});
  }
}

// The presets, each fitted to the loaded dataset: one whose layer stack cannot take its images is
// shown greyed out with the reason (ModelSpec::fitted_to), so nobody applies a run that fails.
void TrainingPanel::preset_combo() {
  const auto browsed = session()->dataset();
  if (browsed && browsed->data && browsed->version != fits_dataset_version_) {
    const Dataset& data = *browsed->data;
    preset_fits_ = preset_fits(data.channels, data.height, data.width, data.num_classes());
    fits_dataset_version_ = browsed->version;
  } else if (preset_fits_.empty()) {
    for (const std::string& name : preset_names()) preset_fits_.push_back({name, {}});
  }
  if (!ImGui::BeginCombo("preset", pending_.preset.c_str())) return;
  for (const PresetFit& fit : preset_fits_) {
    const bool selected = fit.preset == pending_.preset;
    const std::string label = fit.problem.empty() ? fit.preset : fit.preset + "  (does not fit the dataset)";
    ImGui::BeginDisabled(!fit.problem.empty());
    if (ImGui::Selectable(label.c_str(), selected)) pending_.preset = fit.preset;
    ImGui::EndDisabled();
    if (!fit.problem.empty() && ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
      ImGui::SetTooltip("%s", fit.problem.c_str());
    if (selected) ImGui::SetItemDefaultFocus();
  }
  ImGui::EndCombo();
}

// The preset being edited (its loss weights, its NRM options), read once per preset name (the
// defaults when the file cannot be read: Apply then reports why).
const ModelSpec& TrainingPanel::preset_spec() {
  if (spec_preset_ != pending_.preset) {
    spec_preset_ = pending_.preset;
    try {
      spec_of_preset_ = load_model_spec(pending_.preset);
    } catch (const std::exception&) {
      spec_of_preset_ = ModelSpec{};
    }
  }
  return spec_of_preset_;
}

namespace {

// An NRM option: ticked and fixed when the preset's architecture has it already, else the run's
// own choice.
void nrm_option(const char* label, bool& option, bool in_preset, const char* help) {
  bool shown = option || in_preset;
  ImGui::BeginDisabled(in_preset);
  if (ImGui::Checkbox(label, &shown) && !in_preset) option = shown;
  ImGui::EndDisabled();
  if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
    ImGui::SetTooltip("%s%s", help, in_preset ? "\n(The preset's architecture has it.)" : "");
}

}  // namespace

void TrainingPanel::draw_settings() {
  ImGui::PushItemWidth(std::max(120.0f, ImGui::GetContentRegionAvail().x * 0.45f));
  std::vector<std::string> datasets(std::begin(kDatasets), std::end(kDatasets));
  if (std::find(datasets.begin(), datasets.end(), pending_.dataset) == datasets.end()) datasets.push_back(pending_.dataset);
  name_combo("dataset", pending_.dataset, datasets);
  if (ImGui::InputTextWithHint("##dataset_path", "or a path (IDX, CIFAR-10, PNG folders)", dataset_path_,
                               sizeof dataset_path_, ImGuiInputTextFlags_EnterReturnsTrue) &&
      dataset_path_[0] != '\0')
    pending_.dataset = dataset_path_;
  preset_combo();
  int labeled = int(std::min<size_t>(pending_.labeled, 1000000));
  if (ImGui::InputInt("N_L labeled", &labeled, 10, 100)) pending_.labeled = size_t(std::max(labeled, 0));
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Images whose label the model sees, balanced per class "
                                                "(Nguyen et al., CVPR 2017, sec. 5)");

  // Ticked, the sliders show the preset's weights (what the run will use); unticked, editing
  // starts from them.
  if (ImGui::Checkbox("α from preset", &pending_.alpha_from_preset) && !pending_.alpha_from_preset)
    pending_.alpha = preset_spec().alpha;
  LossWeights preset_weights = preset_spec().alpha;
  LossWeights& alpha = pending_.alpha_from_preset ? preset_weights : pending_.alpha;
  ImGui::BeginDisabled(pending_.alpha_from_preset);
  ImGui::SliderFloat("α_H  cross-entropy", &alpha.h, 0.0f, 5.0f, "%.2f");
  ImGui::SliderFloat("α_RC reconstruction", &alpha.rc, 0.0f, 5.0f, "%.2f");
  ImGui::SliderFloat("α_KL KL penalty", &alpha.kl, 0.0f, 5.0f, "%.2f");
  ImGui::SliderFloat("α_NN non-negativity", &alpha.nn, 0.0f, 5.0f, "%.2f");
  ImGui::SliderFloat("α_RPN path prior", &alpha.rpn, 0.0f, 5.0f, "%.2f");
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Rendering Path Normalization: rewards rendering paths that the biases' prior finds likely "
                      "(Ho, Nguyen, Patel, Anandkumar, Jordan, Baraniuk, \"Neural Rendering Model: Joint Generation "
                      "and Prediction for Semi-Supervised Learning\", 2019). Needs the NRM biases below.");
  ImGui::EndDisabled();
  const ModelSpec& preset = preset_spec();
  const bool preset_biased = std::all_of(preset.layers.begin(), preset.layers.end(), [](const LayerSpec& l) {
    return l.kind != LayerKind::Conv || !l.relu || l.bias;
  });
  nrm_option("NRM biases", pending_.nrm_biases, preset_biased,
             "A bias on every conv with a ReLU: in the Neural Rendering Model the bias is the prior of that "
             "template being rendered");
  ImGui::SameLine();
  nrm_option("Max-Min network", pending_.max_min, preset.max_min,
             "A second branch with the same weights that takes the minimum instead of the maximum (negative "
             "ReLU, min pool); the prediction is the mean of both branches' scores (Neural Rendering Model, §5)");

  ImGui::InputDouble("lr start", &pending_.lr_start, 0, 0, "%.4g");
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("0: the preset's; decays exponentially to 'lr end'");
  ImGui::InputDouble("lr end", &pending_.lr_end, 0, 0, "%.4g");
  ImGui::InputDouble("epochs", &pending_.epochs, 0, 0, "%.3g");
  pending_.epochs = std::max(pending_.epochs, 0.01);
  std::vector<std::string> backends(std::begin(kBackends), std::end(kBackends));
  name_combo("backend", pending_.backend, backends);
  ImGui::PopItemWidth();

  const bool changed = !same_settings(pending_, session()->config());
  ImGui::BeginDisabled(!changed);
  if (ImGui::Button("Apply (starts a new run)"))
    session()->after_confirming("Apply starts a new run with these settings",
                                [session = session(), config = pending_] { session->apply_config(config); });
  ImGui::SameLine();
  if (ImGui::Button("Revert")) pending_ = session()->config();
  ImGui::EndDisabled();
}

void TrainingPanel::rebuild_series(const Snapshot& snapshot, int buckets) {
  series_version_ = snapshot.version;
  series_buckets_ = buckets;
  PlotSeries total{"L", IM_COL32(235, 235, 235, 255), {}, {}}, h{"L_H", IM_COL32(255, 160, 60, 255), {}, {}},
      rc{"L_RC", IM_COL32(80, 200, 255, 255), {}, {}}, kl{"L_KL", IM_COL32(230, 110, 230, 255), {}, {}},
      nn{"L_NN", IM_COL32(120, 220, 120, 255), {}, {}};
  PlotSeries train{"train", IM_COL32(90, 160, 255, 255), {}, {}}, test{"test", IM_COL32(255, 215, 70, 255), {}, {}};
  // How faithfully Î renders the test images (r(I, Î), core/train/rendering_quality.h), on the
  // same axis as the accuracies: both lie in [0, 1] for a model that renders at all.
  PlotSeries rendering{"r(I, Î)", IM_COL32(120, 235, 190, 255), {}, {}};
  PlotSeries ips{"images/s", IM_COL32(160, 230, 160, 255), {}, {}};
  for (const MetricsRow& row : snapshot.history) {
    const double x = double(row.step);
    for (auto [series, value] : {std::pair{&total, row.loss_total}, {&h, row.loss_h}, {&rc, row.loss_rc},
                                 {&kl, row.loss_kl}, {&nn, row.loss_nn}}) {
      series->x.push_back(x);
      series->y.push_back(value);
    }
    train.x.push_back(x);
    train.y.push_back(row.train_accuracy);
    if (row.test_accuracy >= 0) {
      test.x.push_back(x);
      test.y.push_back(row.test_accuracy);
    }
    if (row.rendering.count > 0) {
      rendering.x.push_back(x);
      rendering.y.push_back(row.rendering.r_mean);
    }
    ips.x.push_back(x);
    ips.y.push_back(row.images_per_second);
  }
  losses_.clear();
  for (PlotSeries* s : {&total, &h, &rc, &kl, &nn}) losses_.push_back(decimate(*s, buckets));
  accuracy_ = {decimate(train, buckets), decimate(test, buckets), decimate(rendering, buckets)};
  speed_ = {decimate(ips, buckets)};
}

void TrainingPanel::draw_curves(const Snapshot& snapshot) {
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const int buckets = std::max(16, int(avail.x / 2));
  if (snapshot.version != series_version_ || buckets != series_buckets_) rebuild_series(snapshot, buckets);
  const float spacing = ImGui::GetStyle().ItemSpacing.y;
  // The speed plot, the least read, gets at least a plot's smallest height; the other two share
  // the rest 45 : 33 (the panel scrolls when even that does not fit).
  const float height = std::max(60.0f, avail.y - 2 * spacing);
  const float speed_h = std::max(height * 0.22f, line_plot_min_height()), rest = std::max(height - speed_h, 0.0f) / 0.78f;
  PlotOptions loss_options{"losses (symmetric log scale)", "step", true};
  PlotOptions accuracy_options{"accuracy and rendering r(I, Î)", "step", false, true, 0.0, 1.0};
  PlotOptions speed_options{"images/s", "step"};
  const PanelRect loss_rect = draw_line_plot("##losses", ImVec2(avail.x, rest * 0.45f), losses_, loss_options);
  const PanelRect accuracy_rect = draw_line_plot("##accuracy", ImVec2(avail.x, rest * 0.33f), accuracy_, accuracy_options);
  const PanelRect speed_rect = draw_line_plot("##speed", ImVec2(avail.x, speed_h), speed_, speed_options);
  record_region("training.losses", loss_rect.min, loss_rect.max);
  record_region("training.accuracy", accuracy_rect.min, accuracy_rect.max);
  record_region("training.speed", speed_rect.min, speed_rect.max);
}

void TrainingPanel::write_export(const QString& path, const QString& format) {
  const std::shared_ptr<const Snapshot> snapshot = snapshot_ptr();
  if (format == "csv") {
    if (!snapshot) {
      export_metrics_csv(path.toStdString(), {}, {});
      return;
    }
    // Level names are "conv1 32×5×5 full": the column takes the layer's name.
    std::vector<std::string> levels;
    for (const std::string& described : snapshot->level_names) levels.push_back(described.substr(0, described.find(' ')));
    export_metrics_csv(path.toStdString(), snapshot->history, levels);
    return;
  }
  // The curves are drawn, not computed images: the picture is the panel as it is on screen.
  export_png(path.toStdString(), screen_image());
}

}  // namespace drmm::ui
