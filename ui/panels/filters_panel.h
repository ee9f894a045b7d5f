#pragma once
// Filters panel: the first layer's templates Γ^(1) and each one rendered top-down to pixels.
#include "ui/image_atlas.h"
#include "ui/imgui_panel_host.h"

namespace drmm::ui {

class FiltersPanel : public ImGuiPanelHost {
  Q_OBJECT
 public:
  FiltersPanel(SessionController* session, FrameStats* stats, QWidget* parent = nullptr);
  QString help_text() const override;
  void write_export(const QString& path, const QString& format) override;

 protected:
  void draw(const Snapshot& snapshot) override;
  uint64_t view_key(const Snapshot& snapshot) override;

 private:
  void rebuild_atlases(const Snapshot& snapshot);

  ImageAtlas filters_, renderings_;
  uint64_t views_hash_ = 0;  // content of the newest snapshot's filters and renderings
  uint64_t atlas_key_ = 0;   // the content the atlases were built from
};

}  // namespace drmm::ui
