#include "core/data/preview.h"

#include <cmath>
#include <string>

#include "core/data/pixels.h"
#include "core/util/error.h"

namespace drmm {
namespace {

constexpr uint8_t kSeparatorGray = 128;  // mid-gray: visible against black and white images
constexpr int kMaxSide = 16384;          // what read_png accepts back

struct Grid {
  int columns, rows, cell_width, cell_height, width, height;
};

int grid_columns(const PreviewLayout& layout) {
  return layout.columns > 0 ? layout.columns : int(std::ceil(std::sqrt(double(layout.count))));
}

Grid grid_for(const Dataset& data, const PreviewLayout& layout) {
  Grid grid{};
  grid.columns = grid_columns(layout);
  grid.rows = int((layout.count + size_t(grid.columns) - 1) / size_t(grid.columns));
  grid.cell_width = data.width * layout.scale;
  grid.cell_height = data.height * layout.scale;
  grid.width = grid.columns * grid.cell_width + (grid.columns - 1) * layout.separator;
  grid.height = grid.rows * grid.cell_height + (grid.rows - 1) * layout.separator;
  return grid;
}

std::string image_range(const PreviewLayout& layout) {
  if (layout.count == 1) return "image " + std::to_string(layout.first) + " is";
  return "images " + std::to_string(layout.first) + ".." + std::to_string(layout.first + layout.count - 1) + " are";
}

void check_layout(const Dataset& data, const PreviewLayout& layout) {
  if (layout.count == 0 || layout.scale < 1 || layout.separator < 0)
    throw Error("preview: count and scale must be at least 1");
  if (layout.first >= data.size() || layout.count > data.size() - layout.first)
    throw Error(data.name + ": " + image_range(layout) + " out of range (the dataset has " +
                std::to_string(data.size()) + " images, 0.." + std::to_string(data.size() - 1) + ")");
  if (data.channels != 1 && data.channels != 3)
    throw Error(data.name + ": cannot show images with " + std::to_string(data.channels) + " channels");
  // Checked in double: a huge count or scale must not overflow before it is refused.
  const double columns = grid_columns(layout), rows = std::ceil(double(layout.count) / columns);
  const double side = std::max(columns, rows) * (double(std::max(data.width, data.height)) * layout.scale + layout.separator);
  if (side > kMaxSide)
    throw Error("preview: " + std::to_string(layout.count) + " images at scale " + std::to_string(layout.scale) +
                " would exceed " + std::to_string(kMaxSide) + " pixels; lower --count or --scale");
}

// Copies image `index` of `data`, upscaled, into the cell whose top-left corner is (x0, y0).
void draw_cell(const Dataset& data, size_t index, int scale, int x0, int y0, Image8& out) {
  const std::span<const float> image = data.image(index);
  const size_t plane = size_t(data.height) * size_t(data.width);
  for (int y = 0; y < data.height * scale; ++y) {
    for (int x = 0; x < data.width * scale; ++x) {
      const size_t source = size_t(y / scale) * size_t(data.width) + size_t(x / scale);
      uint8_t* target = out.pixels.data() + (size_t(y0 + y) * size_t(out.width) + size_t(x0 + x)) * size_t(out.channels);
      for (int c = 0; c < data.channels; ++c) target[c] = byte_from_unit(image[size_t(c) * plane + source]);
    }
  }
}

}  // namespace

Image8 render_preview(const Dataset& data, const PreviewLayout& layout) {
  check_layout(data, layout);
  const Grid grid = grid_for(data, layout);
  Image8 out;
  out.width = grid.width;
  out.height = grid.height;
  out.channels = data.channels;
  out.pixels.assign(size_t(out.width) * size_t(out.height) * size_t(out.channels), kSeparatorGray);
  for (size_t k = 0; k < layout.count; ++k) {
    const int column = int(k % size_t(grid.columns)), row = int(k / size_t(grid.columns));
    draw_cell(data, layout.first + k, layout.scale, column * (grid.cell_width + layout.separator),
              row * (grid.cell_height + layout.separator), out);
  }
  return out;
}

}  // namespace drmm
