#pragma once
// DRMM vs CNN panel (README "DRMM vs CNN, side by side"; paper 002 Table 1): the run on screen and
// its CNN twin (SessionController::set_compare_cnn: the same network, data, split, seed and batch
// order, trained on L_H alone) in one view: both test-accuracy and r(I, Î) curves on the same
// axes, the same test images rendered by both models, and both models' rendering paths of the
// first of them. The renderings and paths are computed on each run's own worker between two of
// its batches (ui/model_job.h), about once a second while they train.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <QElapsedTimer>

#include "core/train/comparison.h"
#include "ui/image_atlas.h"
#include "ui/imgui_panel_host.h"
#include "ui/line_plot.h"
#include "ui/model_job.h"

namespace drmm::ui {

class ComparisonPanel : public ImGuiPanelHost {
  Q_OBJECT
 public:
  ComparisonPanel(SessionController* session, FrameStats* stats, QWidget* parent = nullptr);
  ~ComparisonPanel() override;  // waits for the jobs in flight
  QString help_text() const override;
  QStringList export_formats() const override { return {"png", "csv"}; }
  void write_export(const QString& path, const QString& format) override;

  // For tests: what is on screen. Side 0 is the DRMM, side 1 the CNN; a view is null before its
  // first rendering.
  enum Side : size_t { kDrmm = 0, kCnn = 1 };
  const RunView* view(Side side) const { return sides_[side].shown.get(); }
  size_t accuracy_points(Side side) const { return accuracy_points_[side]; }  // on the curves
  bool shows_hint() const { return shows_hint_; }

 protected:
  void draw(const Snapshot& snapshot) override;
  bool animating() const override;

 private:
  // One of the two compared runs and what the panel last rendered of it. The run is not held (a
  // retired run must stop at once, not when the panel is next drawn): only remembered, to see
  // that a reset or a new twin replaced it.
  struct ComparedSide {
    const char* name = "";
    std::weak_ptr<TrainingSession> run, job_run;  // the run the view shows, the one the job renders
    std::shared_ptr<const RunView> shown;
    std::string error;
    QElapsedTimer clock;  // since the last view was asked for
    ModelJob<std::shared_ptr<const RunView>> job;
  };
  bool refresh_due(const ComparedSide& side, const Snapshot& latest) const;
  void follow_run(ComparedSide& side, const std::shared_ptr<TrainingSession>& run);
  void poll(ComparedSide& side, const std::shared_ptr<TrainingSession>& run, const Snapshot& latest);
  void rebuild_curves(const Snapshot& drmm, const Snapshot& cnn, int buckets);

  void draw_hint(const Snapshot& snapshot);
  void draw_speeds(const Snapshot& drmm, const Snapshot& cnn);
  void draw_images(ImVec2 size);
  void draw_paths(const Snapshot& snapshot, ImVec2 size);

  ComparedSide sides_[2];
  uint64_t views_generation_ = 0;  // texture version of the image table
  ImageAtlas table_;
  std::vector<PlotSeries> curves_;
  uint64_t curves_key_ = ~uint64_t(0);
  size_t accuracy_points_[2] = {0, 0};
  uint64_t drawn_twin_version_ = 0;
  bool shows_hint_ = false;
};

}  // namespace drmm::ui
