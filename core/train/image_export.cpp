#include "core/train/image_export.h"

#include <algorithm>
#include <cmath>

#include "core/train/model_state.h"

namespace drmm {

ImageF image_from(std::span<const float> values, int channels, int height, int width) {
  return ImageF{channels, height, width, std::vector<float>(values.begin(), values.end())};
}

ImageF slice_image(std::span<const float> batch, size_t index, const Shape& shape) {
  const size_t size = shape.per_image();
  return image_from(batch.subspan(index * size, size), shape.c, shape.h, shape.w);
}

namespace {

constexpr int kStripGap = 2;  // pixels between the pictures of strip.png

uint8_t to_byte(float v) { return uint8_t(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f)); }

ImageF slice(const std::vector<float>& values, const Dataset& data) {
  return ImageF{data.channels, data.height, data.width, values};
}

}  // namespace

Image8 grid_of(const std::vector<Image8>& pictures, int columns) {
  Image8 grid;
  if (pictures.empty()) return grid;
  columns = std::clamp(columns, 1, int(pictures.size()));
  const int rows = (int(pictures.size()) + columns - 1) / columns;
  int cell_w = 0, cell_h = 0;
  for (const Image8& p : pictures) cell_w = std::max(cell_w, p.width), cell_h = std::max(cell_h, p.height);
  grid.channels = pictures.front().channels;
  grid.width = columns * (cell_w + kStripGap) - kStripGap;
  grid.height = rows * (cell_h + kStripGap) - kStripGap;
  grid.pixels.assign(size_t(grid.width) * grid.height * grid.channels, 255);
  for (size_t i = 0; i < pictures.size(); ++i) {
    const Image8& p = pictures[i];
    const int x0 = int(i % size_t(columns)) * (cell_w + kStripGap), y0 = int(i / size_t(columns)) * (cell_h + kStripGap);
    for (int y = 0; y < p.height; ++y)
      std::copy_n(p.pixels.begin() + size_t(y) * p.width * p.channels, size_t(p.width) * p.channels,
                  grid.pixels.begin() + (size_t(y0 + y) * grid.width + x0) * grid.channels);
  }
  return grid;
}

namespace {

std::string file_safe(std::string name) {
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '-';
  return name;
}

}  // namespace

Image8 to_image8(const ImageF& image, DisplayRange range, int scale) {
  float lo = 0.0f, hi = 1.0f;
  if (range == DisplayRange::MinMax && !image.data.empty()) {
    const auto [min_it, max_it] = std::minmax_element(image.data.begin(), image.data.end());
    lo = *min_it;
    hi = *max_it > *min_it ? *max_it : *min_it + 1.0f;
  }
  Image8 out;
  out.width = image.width * scale;
  out.height = image.height * scale;
  out.channels = image.channels == 3 ? 3 : 1;
  out.pixels.resize(size_t(out.width) * out.height * out.channels);
  const size_t plane = size_t(image.height) * image.width;
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x)
      for (int c = 0; c < out.channels; ++c) {
        const float v = image.data[c * plane + size_t(y / scale) * image.width + size_t(x / scale)];
        out.pixels[(size_t(y) * out.width + x) * out.channels + c] = to_byte((v - lo) / (hi - lo));
      }
  return out;
}

std::vector<std::string> write_reconstructions(DrmmModel& model, const Dataset& data, size_t index, bool render_label,
                                               const std::string& folder, int scale) {
  Backend& backend = model.backend();
  model.bottom_up(model.upload_images(data.image(index)), false);
  Tensor label = backend.alloc(Shape{1, 1, 1, 1});
  backend.upload(label, std::vector<float>{float(data.labels[index])});
  std::vector<std::pair<std::string, Image8>> pictures;
  const auto input = data.image(index);
  pictures.emplace_back("input.png", to_image8(ImageF{data.channels, data.height, data.width, {input.begin(), input.end()}},
                                               DisplayRange::Unit, scale));
  pictures.emplace_back("reconstruction.png",
                        to_image8(slice(backend.download(model.top_down(label, render_label)), data), DisplayRange::Unit, scale));
  const auto& layers = model.spec().layers;
  for (size_t level = 0; level + 1 < layers.size(); ++level)
    pictures.emplace_back("level" + std::to_string(level + 1) + "-" + file_safe(layers[level].name) + ".png",
                          to_image8(slice(backend.download(model.reconstruct_from_level(level)), data),
                                    DisplayRange::MinMax, scale));
  std::vector<std::string> written;
  std::vector<Image8> all;
  for (const auto& [name, picture] : pictures) {
    written.push_back(folder + "/" + name);
    write_png(written.back(), picture);
    all.push_back(picture);
  }
  written.push_back(folder + "/strip.png");
  write_png(written.back(), grid_of(all, int(all.size())));
  return written;
}

}  // namespace drmm
