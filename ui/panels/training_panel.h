#pragma once
// Training panel: the run's settings (dataset, preset, N_L, α's, learning rate, backend), the
// train/pause/step/reset controls, and live curves of each loss term, train/test accuracy and
// images/s from the snapshot's history.
#include <vector>

#include "core/model/model_spec.h"
#include "core/train/train_config.h"
#include "ui/imgui_panel_host.h"
#include "ui/line_plot.h"

namespace drmm::ui {

class TrainingPanel : public ImGuiPanelHost {
  Q_OBJECT
 public:
  TrainingPanel(SessionController* session, FrameStats* stats, QWidget* parent = nullptr);
  QString help_text() const override;
  QStringList export_formats() const override { return {"png", "csv"}; }
  void write_export(const QString& path, const QString& format) override;

 protected:
  void draw(const Snapshot& snapshot) override;
  // While training runs the panel redraws at display rate: the clock of the run and the curve
  // read-out under the mouse move every frame; the curves themselves are rebuilt per snapshot.
  bool animating() const override { return training_; }

 private:
  void draw_controls(const Snapshot& snapshot);
  void draw_settings();
  void preset_combo();
  const ModelSpec& preset_spec();
  void draw_curves(const Snapshot& snapshot);
  void rebuild_series(const Snapshot& snapshot, int buckets);

  bool training_ = false;
  double trained_seconds_ = 0;  // wall time spent training in this run, for the status line
  TrainConfig pending_;               // what the settings widgets edit; applied with "Apply"
  // Which presets take the loaded dataset's images, computed once per dataset load.
  std::vector<PresetFit> preset_fits_;
  uint64_t fits_dataset_version_ = 0;
  std::string spec_preset_;  // the preset whose architecture and weights spec_of_preset_ holds
  ModelSpec spec_of_preset_;
  char dataset_path_[512] = {};
  // Curves decimated once per snapshot version and plot width, not once per frame.
  uint64_t series_version_ = ~uint64_t(0);
  int series_buckets_ = 0;
  std::vector<PlotSeries> losses_, accuracy_, speed_;
};

}  // namespace drmm::ui
