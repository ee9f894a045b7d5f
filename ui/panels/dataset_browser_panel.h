#pragma once
// Dataset browser: a page of training images with their labels, the images whose label the model
// sees marked as labeled, and the Reconstructions panel's probes highlighted; clicking an image
// adds it to (or removes it from) the probes.
#include <memory>
#include <vector>

#include "ui/image_atlas.h"
#include "ui/imgui_panel_host.h"

namespace drmm::ui {

struct BrowsedDataset;

class DatasetBrowserPanel : public ImGuiPanelHost {
  Q_OBJECT
 public:
  DatasetBrowserPanel(SessionController* session, FrameStats* stats, QWidget* parent = nullptr);
  QString help_text() const override;
  void write_export(const QString& path, const QString& format) override;

 protected:
  void draw(const Snapshot& snapshot) override;
  uint64_t view_key(const Snapshot&) override { return 0; }  // repaints on input and on new data only

 private:
  void refilter(const BrowsedDataset& dataset);

  std::shared_ptr<const BrowsedDataset> dataset_;
  std::vector<size_t> visible_;  // dataset indices passing the filters, in order
  int class_filter_ = -1;        // −1: every class
  int marking_filter_ = 0;       // 0 all, 1 labeled only, 2 unlabeled only
  int zoom_ = 2;
  size_t page_ = 0;
  // The page's atlas, rebuilt (and uploaded) only when what the page shows changes.
  ImageAtlas atlas_;
  std::vector<size_t> atlas_indices_;
  uint64_t atlas_version_ = 0;
};

}  // namespace drmm::ui
