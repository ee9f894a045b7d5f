#pragma once
// Samples panel (DESIGN.md §3.4, §4; paper 002 App. B): what the live model generates. Top: for
// every class, images drawn from latent frequencies (the classes' own π_{g|c}, measured on training
// images, or the model's class-agnostic π_a, π_t) and rendered top-down, each
// marked with whether the model classifies it back as its class. Bottom: chosen training images
// rendered as every class with their own latents ("render like": the image's position,
// thickness and style carried to another class). Computed on the training run's worker between
// two batches (ui/model_job.h), refreshed about once a second while the model trains.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <QElapsedTimer>

#include "core/model/rendering_path.h"
#include "ui/image_atlas.h"
#include "ui/imgui_panel_host.h"
#include "ui/model_job.h"

namespace drmm::ui {

class SamplesPanel : public ImGuiPanelHost {
  Q_OBJECT
 public:
  SamplesPanel(SessionController* session, FrameStats* stats, QWidget* parent = nullptr);
  ~SamplesPanel() override;  // waits for the job in flight
  QString help_text() const override;
  void write_export(const QString& path, const QString& format) override;

  // For tests: how many samples are on screen and the share classified as their class.
  size_t sample_count() const { return shown_.predicted.size(); }
  double classified_rate() const;
  void new_samples();

 protected:
  void draw(const Snapshot& snapshot) override;
  uint64_t view_key(const Snapshot&) override { return 0; }  // frames come from the job and input
  bool animating() const override;

 private:
  struct Generated {
    int classes = 0, per_class = 0, channels = 1, height = 0, width = 0;
    std::vector<float> samples;     // classes × per_class images, class-major
    std::vector<int> predicted;     // ĉ of each sample
    std::vector<int> like_indices;  // the training images that were found
    std::vector<int> like_labels;
    std::vector<float> like_inputs;     // those images
    std::vector<float> like_rendered;   // per image, every class rendered with its latents
    std::vector<int> like_predicted;    // ĉ of each rendering
    std::shared_ptr<const PathStatistics> frequencies;  // the π_{g|c} drawn from (null: the model's π)
    uint64_t version = 0;
  };

  bool refresh_due() const;
  void start_job(const Snapshot& snapshot);
  void rebuild_atlases();
  void draw_samples(const Snapshot& snapshot, ImVec2 size);
  void draw_render_like(const Snapshot& snapshot, ImVec2 size);

  int per_class_ = 6;
  uint64_t seed_ = 1;
  std::vector<int> like_indices_;  // empty: the first probes, once known
  bool stretch_ = false;
  bool conditional_ = true;        // draw from the classes' own latent frequencies π_{g|c}
  float temperature_ = 0.5f;       // frequencies sharpened to p^(1/T) (core/model/sampler.h)
  std::shared_ptr<const PathStatistics> frequencies_;  // the newest π_{g|c}, measured on training images
  QElapsedTimer frequencies_clock_;
  bool wanted_ = true;             // a change of the controls asks for new pictures at once
  uint64_t shown_version_ = ~uint64_t(0);
  QElapsedTimer clock_;

  Generated shown_;
  uint64_t generation_ = 0;  // texture version
  ImageAtlas samples_atlas_, like_atlas_;
  uint64_t atlas_key_ = ~uint64_t(0);
  std::string error_;

  ModelJob<Generated> job_;  // last: waited for first
};

}  // namespace drmm::ui
