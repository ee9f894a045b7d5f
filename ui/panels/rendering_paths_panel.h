#pragma once
// Rendering paths panel (DESIGN.md §3.4, §4; paper 002 §3, Fig. 2): one training image's path
// through the live model — which templates fired at each level and how much each channel adds
// to Î — drawn as a layered network, with the strongest units joined across levels. Channels can
// be switched off to see Î re-rendered without them; the per-class statistics compare the paths
// of whole classes. Every analysis runs on the training run's worker between two batches
// (ui/model_job.h), so the view follows the weights as they train.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <QElapsedTimer>

#include "core/model/rendering_path.h"
#include "ui/image_atlas.h"
#include "ui/imgui_panel_host.h"
#include "ui/model_job.h"

namespace drmm::ui {

class RenderingPathsPanel : public ImGuiPanelHost {
  Q_OBJECT
 public:
  RenderingPathsPanel(SessionController* session, FrameStats* stats, QWidget* parent = nullptr);
  ~RenderingPathsPanel() override;  // waits for the jobs in flight
  QString help_text() const override;
  void write_export(const QString& path, const QString& format) override;

  // For tests: the path on screen (null before the first inference) and the edit.
  const RenderingPath* path() const { return path_.get(); }
  size_t image_index() const { return image_index_ < 0 ? 0 : size_t(image_index_); }
  const std::vector<float>& edited() const { return edited_; }  // Î with the edit
  void set_channel_off(size_t level, int channel, bool off);
  void compute_statistics();
  bool has_statistics() const { return statistics_ != nullptr; }

 protected:
  void draw(const Snapshot& snapshot) override;
  uint64_t view_key(const Snapshot&) override { return 0; }  // frames come from jobs and input
  bool animating() const override;

 private:
  // What an inference brings back: the path and Î re-rendered with the edit of the time.
  struct Inferred {
    std::shared_ptr<const RenderingPath> path;
    std::vector<float> edited;
    uint64_t version = 0;  // the snapshot version the request was made at
    uint64_t serial = 0;   // the edit it was rendered with (edit_serial_ of the time)
  };
  // The user's edit, kept per channel so it survives re-inference (the units' on/off masks change
  // with every snapshot, the channels do not).
  struct ChannelEdit {
    std::vector<uint8_t> level_off;                // per level
    std::vector<std::vector<uint8_t>> channel_off;  // per level, per channel
  };
  static PathEdit to_path_edit(const RenderingPath& path, const ChannelEdit& edit);

  void poll_jobs(const Snapshot& snapshot);
  void start_inference(const Snapshot& snapshot);
  void start_edit_render();
  void request_channel_image(size_t level, int channel);
  bool refresh_due() const;
  void fit_edit_to_path();

  void draw_controls(const Snapshot& snapshot);
  void draw_images(const Snapshot& snapshot, float scale);
  void draw_network(ImVec2 size);
  void draw_channel_tooltip(size_t level, int channel);
  void draw_statistics(const Snapshot& snapshot, ImVec2 size);

  int image_index_ = -1;  // −1: the first probe, once the probes are known
  size_t dataset_size_ = 0;

  std::shared_ptr<const RenderingPath> path_;
  std::vector<float> edited_;
  uint64_t path_generation_ = 0, edited_generation_ = 0;  // texture versions
  uint64_t inferred_version_ = ~uint64_t(0);            // snapshot version of the shown path
  bool infer_wanted_ = true;  // a new image or edit asked for a fresh path at once
  bool edit_wanted_ = false;  // an edit changed while a render was in flight
  QElapsedTimer infer_clock_;
  ChannelEdit edit_;
  uint64_t edit_serial_ = 0;     // grows with every change of edit_
  uint64_t edited_serial_ = 0;   // the edit edited_ shows
  uint64_t edit_job_serial_ = 0;  // the edit the render in flight shows
  std::vector<PathUnit> strongest_;
  std::string error_;

  // Channel-alone renderings for the tooltip, for the current path only.
  std::map<std::pair<size_t, int>, std::vector<float>> channel_images_;
  std::pair<size_t, int> channel_requested_{~size_t(0), -1};

  std::unique_ptr<PathStatistics> statistics_;
  std::shared_ptr<std::atomic<size_t>> statistics_done_ = std::make_shared<std::atomic<size_t>>(0);
  std::shared_ptr<std::atomic<size_t>> statistics_total_ = std::make_shared<std::atomic<size_t>>(0);
  std::string statistics_error_;

  // Declared last: destroyed (waited for) first, while the members their results go to live.
  ModelJob<Inferred> infer_job_;
  ModelJob<std::vector<float>> edit_job_;
  ModelJob<std::pair<std::pair<size_t, int>, std::vector<float>>> channel_job_;
  ModelJob<std::shared_ptr<PathStatistics>> statistics_job_;
  std::shared_ptr<const RenderingPath> edit_job_path_;     // the path the edit render was asked for
  std::shared_ptr<const RenderingPath> channel_job_path_;  // and the channel render
};

}  // namespace drmm::ui
