#pragma once
// Activity maximization panel (DESIGN.md §3.5, §4): the images the live model likes most.
// Left: the closed form of paper 000 App. E for every class at once (no optimisation: per patch
// the best rendering μ(c, g*)), at the data's mean L2 norm, recomputed as the model trains.
// Right: gradient ascent on the input (Simonyan et al. 2014) for a class score or any unit,
// from noise, a training image or a canvas the person paints, evolving on screen while it runs.
// All of it runs on the training run's worker between two batches (ui/model_job.h): the ascent
// in chunks of ~30 ms, so training and the picture both move.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <QElapsedTimer>

#include "core/analysis/activity_max.h"
#include "ui/image_atlas.h"
#include "ui/imgui_panel_host.h"
#include "ui/model_job.h"

namespace drmm::ui {

class ActivityMaxPanel : public ImGuiPanelHost {
  Q_OBJECT
 public:
  ActivityMaxPanel(SessionController* session, FrameStats* stats, QWidget* parent = nullptr);
  ~ActivityMaxPanel() override;  // waits for the jobs in flight
  QString help_text() const override;
  void write_export(const QString& path, const QString& format) override;

  // For tests and automation: the closed-form images shown, and the gradient ascent.
  size_t closed_form_count() const { return closed_.images.size(); }
  void set_running(bool running);
  bool running() const { return running_; }
  // Running, with the closed form of the newest snapshot and some steps of the ascent on screen.
  bool evolving() const override;
  int ascent_steps() const { return ascent_.steps; }
  double steps_per_second() const { return steps_per_second_; }

 protected:
  void draw(const Snapshot& snapshot) override;
  uint64_t view_key(const Snapshot&) override { return 0; }  // frames come from the jobs and input
  bool animating() const override;

 private:
  // The model's layers as the target combo shows them (from the run, not the snapshot).
  struct LayerInfo {
    std::string name;
    int channels = 0;
  };
  struct ClosedForm {
    std::vector<ClosedFormImage> images;
    double norm = 0;
    int channels = 1, height = 0, width = 0;
    std::vector<LayerInfo> layers;
    uint64_t version = 0;
    double seconds = 0;
  };
  // The gradient ascent's state lives on the worker's side between chunks; the GUI only reads
  // what each chunk returns, and hands over changes (target, options, a new start) with the
  // next chunk, so nothing is shared while a chunk runs.
  struct AscentHolder {
    std::unique_ptr<GradientAscent> ascent;
  };
  enum class Start { Noise, DatasetImage, Canvas };
  struct AscentRequest {
    bool restart = false;
    Start start = Start::Noise;
    int dataset_index = 0;
    std::vector<float> canvas;  // one channel
    uint64_t seed = 1;
    UnitTarget target;
    GradientAscentOptions options;
  };
  struct AscentChunk {
    std::vector<float> image;
    int steps = 0, chunk_steps = 0;
    double chunk_seconds = 0;
    double score = 0;
    std::vector<float> class_probabilities;
    UnitTarget target;
  };

  bool closed_form_due() const;
  void start_closed_form(const Snapshot& snapshot);
  void start_chunk();
  UnitTarget current_target() const;
  AscentRequest make_request(bool restart);

  void draw_closed_form(const Snapshot& snapshot, ImVec2 size);
  void draw_ascent(const Snapshot& snapshot, ImVec2 size);
  void draw_canvas(float scale);

  // Closed form.
  int refinements_ = 1;
  bool closed_wanted_ = true;
  uint64_t closed_version_ = ~uint64_t(0);
  QElapsedTimer closed_clock_;
  ClosedForm closed_;
  uint64_t closed_generation_ = 0;
  ImageAtlas closed_atlas_;
  std::string closed_error_;

  // Gradient ascent.
  int target_kind_ = 0;  // 0: a class, 1: a unit
  int target_class_ = 0, target_layer_ = 0, target_channel_ = 0;
  int start_kind_ = 0;   // Start
  int start_index_ = 0;
  // The engine's defaults (core/analysis/activity_max.h).
  float step_ = float(GradientAscentOptions{}.step), l2_ = float(GradientAscentOptions{}.l2), tv_ = float(GradientAscentOptions{}.tv);
  int jitter_ = GradientAscentOptions{}.jitter;
  bool running_ = true;  // the picture evolves as soon as the panel is on screen; Pause stops it
  bool restart_wanted_ = true;  // the next chunk starts from the chosen start image
  uint64_t restart_seed_ = 1;
  std::shared_ptr<AscentHolder> holder_ = std::make_shared<AscentHolder>();
  AscentChunk ascent_;
  uint64_t ascent_generation_ = 0;
  double steps_per_second_ = 0;    // wall clock, training included
  double compute_per_second_ = 0;  // inside the chunks
  QElapsedTimer rate_clock_;
  int rate_steps_ = 0;
  std::string ascent_error_;

  // The paint canvas: the model's input size, one channel, values in [0, 1].
  std::vector<float> canvas_;
  int canvas_w_ = 0, canvas_h_ = 0;
  uint64_t canvas_version_ = 1;
  float brush_ = 1.6f;
  bool painting_ = false;
  float last_x_ = 0, last_y_ = 0;

  // Last: destroyed (waited for) first.
  ModelJob<ClosedForm> closed_job_;
  ModelJob<AscentChunk> ascent_job_;
};

}  // namespace drmm::ui
