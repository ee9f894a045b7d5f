#pragma once
// Reconstructions panel: for each probe image, the input I, the top-down reconstruction Î and
// the reconstruction started from every level, updated whenever a new snapshot arrives.
#include "ui/image_atlas.h"
#include "ui/imgui_panel_host.h"

namespace drmm::ui {

class ReconstructionsPanel : public ImGuiPanelHost {
  Q_OBJECT
 public:
  ReconstructionsPanel(SessionController* session, FrameStats* stats, QWidget* parent = nullptr);
  QString help_text() const override;
  void write_export(const QString& path, const QString& format) override;

 protected:
  void draw(const Snapshot& snapshot) override;
  uint64_t view_key(const Snapshot& snapshot) override;

 private:
  void rebuild_atlas(const Snapshot& snapshot);

  ImageAtlas atlas_;  // rows: probes; columns: I, Î, level 1 … level L
  int columns_ = 0;
  uint64_t views_hash_ = 0;  // content of the newest snapshot's probes (pictures and q(c|I))
  uint64_t atlas_key_ = 0;   // what the atlas was built from: views_hash_ and the stretch choice
  bool stretch_reconstruction_ = false;
};

}  // namespace drmm::ui
