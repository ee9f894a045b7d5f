#pragma once
// Shallow RMM panel (DESIGN.md §3.3): hard EM of the shallow Rendering Mixture Model on the
// studio's dataset, run on a worker thread (core/rmm/shallow_rmm.h) with every template, the
// assignments of sample images and the likelihood curve updating after each EM iteration.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/rmm/shallow_rmm.h"
#include "ui/image_atlas.h"
#include "ui/imgui_panel_host.h"

namespace drmm::ui {

class ShallowRmmPanel : public ImGuiPanelHost {
  Q_OBJECT
 public:
  ShallowRmmPanel(SessionController* session, FrameStats* stats, QWidget* parent = nullptr);
  ~ShallowRmmPanel() override;  // stops and joins the worker
  QString help_text() const override;
  QStringList export_formats() const override { return {"png", "csv"}; }
  void write_export(const QString& path, const QString& format) override;
  bool running() const { return job_active_; }
  size_t iterations_done() const { return shown_ ? shown_->history.size() : 0; }
  const rmm::Trained* trained() const { return shown_.get(); }  // what is on screen; null before the first iteration

 protected:
  void draw(const Snapshot& snapshot) override;
  uint64_t view_key(const Snapshot&) override { return 0; }  // repaints on input and while EM runs
  bool animating() const override { return job_active_; }

 private:
  void start();
  void adopt_progress();
  void rebuild_atlases();
  void draw_controls();

  int mode_ = 0;  // 0 supervised, 1 unsupervised
  int shift_ = 2, iterations_ = 10;

  std::thread worker_;
  bool job_active_ = false, ever_started_ = false;
  std::atomic<bool> cancel_{false}, job_done_{false};
  std::mutex mutex_;
  std::shared_ptr<const rmm::Trained> latest_;  // written by the worker after each iteration
  std::shared_ptr<const Dataset> samples_data_;  // the images the samples index (test or training)
  std::string error_;  // the last run's failure; written by the worker as it ends

  std::shared_ptr<const rmm::Trained> shown_;
  uint64_t generation_ = 0;
  ImageAtlas templates_, pairs_;
};

}  // namespace drmm::ui
