#include "ui/panels/filters_panel.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <imgui.h>

#include "ui/export_files.h"
#include "ui/tile_grid.h"

namespace drmm::ui {
namespace {

// Signed weights: 0 is mid-gray, so a filter's positive and negative parts read at a glance.
ImageAtlas atlas_of(const std::vector<ImageF>& images, int columns) {
  std::vector<AtlasItem> items;
  items.reserve(images.size());
  for (const ImageF& image : images) items.push_back({view_of(image), Normalization::Symmetric});
  return build_atlas(items, columns);
}

}  // namespace

FiltersPanel::FiltersPanel(SessionController* session, FrameStats* stats, QWidget* parent)
    : ImGuiPanelHost(tr("Filters"), session, stats, parent) {
  setObjectName("filters");
}

QString FiltersPanel::help_text() const {
  return tr(
      "The model's building blocks. Left: the small patterns (templates) the first layer looks for in an image, "
      "and draws with when it renders one. Right: what each unit of the deepest hidden layer draws on its own, in "
      "pixels. Gray is 0, white positive, black negative; each picture is scaled to its own largest |value|. Hover "
      "a picture to see it enlarged.\n"
      "Left: the first layer's core templates Γ^(1). In Nguyen, Liu, Perez, Baraniuk & Patel, “Semi-Supervised "
      "Learning with the Deep Rendering Mixture Model”, CVPR 2017, App. B eq. 13, the DRMM layer renders level 0 "
      "from level 1 by placing Γ^(1) templates, switched on by a^(1) and positioned by t^(1). In the bottom-up "
      "E-step they are the first convolution's filters.\n"
      "Right: each template of the deepest hidden layer rendered top-down to pixels with every switch on, z^(0) = "
      "Λ^(1) ⋯ Λ^(ℓ) e_unit (eq. 11–14 applied from that layer down): the picture that one unit draws into Î.");
}

uint64_t FiltersPanel::view_key(const Snapshot& snapshot) {
  uint64_t hash = 0;
  for (const ImageF& image : snapshot.first_layer_filters) hash = content_hash(image, hash);
  for (const ImageF& image : snapshot.filter_renderings) hash = content_hash(image, hash + 1);
  views_hash_ = hash;
  return hash;
}

void FiltersPanel::rebuild_atlases(const Snapshot& snapshot) {  filters_ = atlas_of(snapshot.first_layer_filters, square_columns(snapshot.first_layer_filters.size()));
  renderings_ = atlas_of(snapshot.filter_renderings, square_columns(snapshot.filter_renderings.size()));
}

void FiltersPanel::draw(const Snapshot& snapshot) {
  draw_header(std::to_string(snapshot.first_layer_filters.size()) + " first-layer, " +
              std::to_string(snapshot.filter_renderings.size()) + " deepest templates");
  if (snapshot.first_layer_filters.empty()) {
    ImGui::TextDisabled("Waiting for the model…");
    return;
  }
  if (views_hash_ != atlas_key_ || filters_.tiles.empty()) {
    atlas_key_ = views_hash_;
    rebuild_atlases(snapshot);
  }
  const auto filter_image = [&]() -> const RgbaImage& { return filters_.image; };
  const auto rendering_image = [&]() -> const RgbaImage& { return renderings_.image; };
  const Texture& filters = textures().get("filters", atlas_key_, filter_image);
  const Texture& renderings = textures().get("renderings", atlas_key_, rendering_image);

  const ImGuiStyle& style = ImGui::GetStyle();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const bool side_by_side = avail.x >= avail.y;  // two grids next to each other in a wide dock
  const float caption_h = ImGui::GetTextLineHeightWithSpacing();
  const ImVec2 half = side_by_side ? ImVec2(avail.x * 0.5f - style.ItemSpacing.x, avail.y - caption_h)
                                   : ImVec2(avail.x, avail.y * 0.5f - caption_h - style.ItemSpacing.y);
  PanelRect filter_rect, rendering_rect;
  const auto draw_grid = [&](const char* title, const char* id, const Texture& texture, const ImageAtlas& atlas,
                             size_t count, PanelRect& rect) {
    ImGui::BeginGroup();
    text_elided(title, half.x);
    if (!atlas.tiles.empty()) {
      const GridLayout layout = fit_grid(int(count), atlas.tiles[0].width, atlas.tiles[0].height, half, 2.0f);
      const GridEvents events = draw_tile_grid(id, texture, atlas, int(count), layout);
      rect = events.rect;
      if (events.hovered >= 0) {
        const AtlasTile& t = atlas.tiles[size_t(events.hovered)];
        ImGui::BeginTooltip();
        ImGui::Text("%s %d", title, events.hovered);
        ImGui::Image(texture.imgui_id(), picture_size(t.width, t.height, magnification_near(t.width, 140)),
                     ImVec2(t.u0, t.v0), ImVec2(t.u1, t.v1));
        ImGui::EndTooltip();
      }
    }
    ImGui::EndGroup();
  };
  draw_grid("Γ⁽¹⁾ filters", "##filters", filters, filters_, snapshot.first_layer_filters.size(), filter_rect);
  if (side_by_side) ImGui::SameLine();
  draw_grid("deepest templates rendered to pixels", "##renderings", renderings, renderings_,
            snapshot.filter_renderings.size(), rendering_rect);
  record_region("filters.grid", filter_rect.min, filter_rect.max);
  record_region("filters.renderings", rendering_rect.min, rendering_rect.max);
}

void FiltersPanel::write_export(const QString& path, const QString&) {
  // Both grids side by side, enlarged so a 5×5 filter is visible in an image viewer.
  const int factor_filters = std::max(1, 96 / std::max(filters_.tiles.empty() ? 1 : filters_.tiles[0].width, 1));
  const RgbaImage left = scale_nearest(filters_.image, factor_filters);
  const RgbaImage right = scale_nearest(renderings_.image, std::max(1, left.height / std::max(renderings_.image.height, 1)));
  RgbaImage both;
  both.width = left.width + 8 + right.width;
  both.height = std::max(left.height, right.height);
  both.pixels.assign(size_t(both.width) * size_t(both.height) * 4, 0);
  for (const auto& [part, x0] : {std::pair{&left, 0}, {&right, left.width + 8}})
    for (int y = 0; y < part->height; ++y)
      std::copy_n(&part->pixels[size_t(y) * size_t(part->width) * 4], size_t(part->width) * 4,
                  &both.pixels[(size_t(y) * size_t(both.width) + size_t(x0)) * 4]);
  export_png(path.toStdString(), both);
}

}  // namespace drmm::ui
