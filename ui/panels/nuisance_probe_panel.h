#pragma once
// Nuisance decoding panel (paper 002 §5; core/analysis/model_probe.h): how linearly each level of
// the live model — the pixels, then every layer's bottom-up output — still encodes the class and
// the synthetic set's known nuisances (shift, scale, rotation, intensity, noise), as held-out
// scores of ridge probes, one curve per target over the levels. Probed on the training run's
// worker between two batches (ui/model_job.h): the first time the panel is shown, on Run probes,
// and every N steps when asked. A checkpoint (the same net trained with L_H only, as `drmm
// compare` writes it) can be probed beside it: its curves are dashed.
#include <cstdint>
#include <memory>
#include <string>

#include <QElapsedTimer>
#include <QString>

#include "core/analysis/model_probe.h"
#include "ui/imgui_panel_host.h"
#include "ui/model_job.h"

namespace drmm::ui {

class NuisanceProbePanel : public ImGuiPanelHost {
  Q_OBJECT
 public:
  // A model probed beside the live one, from a checkpoint.
  struct ComparedModel {
    std::string path, label;
    analysis::SyntheticProbe probe;
  };

  NuisanceProbePanel(SessionController* session, FrameStats* stats, QWidget* parent = nullptr);
  ~NuisanceProbePanel() override;  // waits for the job in flight
  QString help_text() const override;
  QStringList export_formats() const override { return {"png", "csv"}; }
  void write_export(const QString& path, const QString& format) override;

  // Probes the live model again at the next frame (the Run probes button).
  void run_probes();
  // Probes the checkpoint at `path` beside the live model at the next frame (the Compare button,
  // after its file dialog).
  void compare_with(const QString& path);

  // For tests: what is on screen.
  bool busy() const { return job_.busy(); }
  size_t runs_done() const { return runs_done_; }
  const analysis::SyntheticProbe* live() const { return runs_done_ ? &shown_.live : nullptr; }
  const ComparedModel* comparison() const { return compared_.get(); }
  const std::string& error() const { return error_; }

 protected:
  void draw(const Snapshot& snapshot) override;
  // Frames come from the job and input; with the automatic refresh on, from each new step too.
  uint64_t view_key(const Snapshot& snapshot) override { return auto_refresh_ ? uint64_t(snapshot.step) : 0; }
  bool animating() const override { return job_.busy(); }

 private:
  struct ProbeRun {
    int64_t step = 0;  // of the live model when it was probed
    analysis::SyntheticProbe live;
    std::shared_ptr<const ComparedModel> comparison;  // newly probed, else null
    std::string comparison_error;
    double seconds = 0;
  };

  void start_job();
  void adopt_result();
  void draw_controls();
  void draw_plots();
  void choose_checkpoint();

  bool wanted_ = true;  // the first frame the panel is shown probes at once
  bool auto_refresh_ = false;
  int refresh_steps_ = 500;
  int64_t started_step_ = -1;  // of the snapshot when the last job started
  std::string compare_path_;   // a checkpoint to probe with the next job
  QElapsedTimer busy_clock_;

  ProbeRun shown_;
  size_t runs_done_ = 0;
  std::shared_ptr<const ComparedModel> compared_;
  std::string error_, compare_error_;

  ModelJob<ProbeRun> job_;  // last: waited for first
};

}  // namespace drmm::ui
