#pragma once
// Rendering paths panel (DESIGN.md §3.4, §4; paper 002 §3, Fig. 2): one training image's path
// through the live model — which templates fired at each level and how much each channel adds
// to Î — drawn as a layered network, with the strongest units joined across levels. A selected
// channel shows its map of units; channels, levels and single units can be switched off to see Î
// re-rendered without them. The per-class statistics compare the paths of whole classes and show
// which channels a class uses, level by level. Every analysis runs on the training run's worker between two batches
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
  void toggle_unit(size_t level, size_t unit);
  bool unit_off(size_t level, size_t unit) const;  // in the edit, whether by unit, channel or level
  std::pair<size_t, int> selected_channel() const { return selected_; }  // channel −1: none
  void compute_statistics();
  bool has_statistics() const { return statistics_ != nullptr; }
  std::pair<int, int> usage_classes() const { return {usage_class_, contrast_class_}; }  // −1: none

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
  // The user's edit, kept as switches on levels, channels and unit positions so it survives
  // re-inference: the units' on/off masks change with every snapshot, the shapes do not. A unit
  // flip inverts whatever its level or channel says, so a unit can also be kept alone in a channel
  // that is off.
  struct UserEdit {
    std::vector<uint8_t> level_off;                // per level
    std::vector<std::vector<uint8_t>> channel_off;  // per level, per channel
    std::vector<std::vector<uint8_t>> unit_flip;    // per level, per unit (C×H×W)
  };
  static PathEdit to_path_edit(const RenderingPath& path, const UserEdit& edit);
  // What a tooltip renders alone: one channel of a level (unit < 0) or one unit. No member
  // initialisers: the jobs default-construct it before this class is complete.
  struct Piece {
    size_t level;
    int channel;
    long unit;
    bool operator<(const Piece& o) const;
  };

  void poll_jobs(const Snapshot& snapshot);
  void start_inference(const Snapshot& snapshot);
  void start_edit_render();
  void request_piece_image(const Piece& piece);
  bool refresh_due() const;
  void fit_edit_to_path();
  void changed_edit();
  void clear_unit_flips(size_t level, int channel);  // channel −1: the whole level
  bool channel_off(size_t level, int channel) const;
  bool has_selection() const;
  bool shows_class_usage() const;

  void draw_controls(const Snapshot& snapshot);
  void draw_images(const Snapshot& snapshot, float scale);
  void draw_network(const Snapshot& snapshot, ImVec2 size);
  void draw_channel_tooltip(size_t level, int channel);
  void draw_piece_image(const Piece& piece, const char* caption);
  float unit_map_width(ImVec2 room) const;
  void draw_unit_map(ImVec2 size);
  void draw_unit_tooltip(size_t level, size_t unit);
  void draw_statistics(const Snapshot& snapshot, ImVec2 size);
  // The channel usage of the picked classes (PathStatistics::usage), drawn under the network's rows.
  int statistics_level(size_t path_level) const;  // −1: the statistics lack it
  const std::vector<double>* usage_of(int c, size_t path_level) const;
  void draw_usage_controls(const Snapshot& snapshot);
  void draw_class_combo(const Snapshot& snapshot, const char* label, int* c);
  void draw_usage_band(size_t level, ImVec2 origin, float cell_w, float strip_h);
  void draw_usage_tooltip(const Snapshot& snapshot, size_t level, int channel);

  int image_index_ = -1;  // −1: the first probe, once the probes are known
  size_t dataset_size_ = 0;

  std::shared_ptr<const RenderingPath> path_;
  std::vector<float> edited_;
  uint64_t path_generation_ = 0, edited_generation_ = 0;  // texture versions
  uint64_t inferred_version_ = ~uint64_t(0);            // snapshot version of the shown path
  bool infer_wanted_ = true;  // a new image or edit asked for a fresh path at once
  bool edit_wanted_ = false;  // an edit changed while a render was in flight
  QElapsedTimer infer_clock_;
  UserEdit edit_;
  std::pair<size_t, int> selected_{0, -1};  // the channel whose units are shown; kept across paths
  uint64_t edit_serial_ = 0;     // grows with every change of edit_
  uint64_t edited_serial_ = 0;   // the edit edited_ shows
  uint64_t edit_job_serial_ = 0;  // the edit the render in flight shows
  std::vector<PathUnit> strongest_;
  std::string error_;

  // Channel-alone and unit-alone renderings for the tooltips, for the current path only.
  std::map<Piece, std::vector<float>> piece_images_;

  std::unique_ptr<PathStatistics> statistics_;
  std::shared_ptr<std::atomic<size_t>> statistics_done_ = std::make_shared<std::atomic<size_t>>(0);
  std::shared_ptr<std::atomic<size_t>> statistics_total_ = std::make_shared<std::atomic<size_t>>(0);
  std::string statistics_error_;
  int usage_class_ = -1, contrast_class_ = -1;  // whose channel usage is shown, and against whom

  // Declared last: destroyed (waited for) first, while the members their results go to live.
  ModelJob<Inferred> infer_job_;
  ModelJob<std::vector<float>> edit_job_;
  ModelJob<std::pair<Piece, std::vector<float>>> piece_job_;
  ModelJob<std::shared_ptr<PathStatistics>> statistics_job_;
  std::shared_ptr<const RenderingPath> edit_job_path_;     // the path the edit render was asked for
  std::shared_ptr<const RenderingPath> piece_job_path_;  // and the channel or unit render
};

}  // namespace drmm::ui
