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

 private:
  void refresh_atlas(const Snapshot& snapshot);

  ImageAtlas atlas_;  // rows: probes; columns: I, Î, level 1 … level L
  int columns_ = 0;
  uint64_t seen_version_ = ~uint64_t(0);  // snapshot whose content was last checked
  uint64_t atlas_hash_ = 0;  // content of the probes' pictures the atlas was built from
  bool stretch_reconstruction_ = false;
};

}  // namespace drmm::ui
