#include "core/train/comparison.h"

#include <algorithm>
#include <cmath>

#include "core/model/model_spec.h"
#include "core/train/image_export.h"
#include "core/train/rendering_quality.h"
#include "core/train/trainer.h"

namespace drmm {
namespace {

using Rgb = std::array<uint8_t, 3>;

constexpr Rgb kGrid{225, 225, 225}, kAxis{90, 90, 90};
constexpr int kChartHeight = 220, kMargin = 12, kBand = 10, kGap = 2;

struct Canvas {
  Image8 image;
  Canvas(int width, int height) : image{width, height, 3, std::vector<uint8_t>(size_t(width) * height * 3, 255)} {}
  void set(int x, int y, Rgb c) {
    if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
    std::copy(c.begin(), c.end(), image.pixels.begin() + (ptrdiff_t(y) * image.width + x) * 3);
  }
  void fill(int x0, int y0, int w, int h, Rgb c) {
    for (int y = y0; y < y0 + h; ++y)
      for (int x = x0; x < x0 + w; ++x) set(x, y, c);
  }
  // A 2-pixel-thick segment, stepped along its longer axis.
  void line(double x0, double y0, double x1, double y1, Rgb c) {
    const int steps = std::max(1, int(std::ceil(std::max(std::abs(x1 - x0), std::abs(y1 - y0)))));
    for (int i = 0; i <= steps; ++i) {
      const double t = double(i) / steps;
      const int x = int(std::lround(x0 + t * (x1 - x0))), y = int(std::lround(y0 + t * (y1 - y0)));
      fill(x, y, 2, 2, c);
    }
  }
  // `picture` (gray or RGB) with its top-left corner at (x0, y0).
  void paste(const Image8& picture, int x0, int y0) {
    for (int y = 0; y < picture.height; ++y)
      for (int x = 0; x < picture.width; ++x) {
        const uint8_t* p = picture.pixels.data() + (size_t(y) * picture.width + x) * picture.channels;
        set(x0 + x, y0 + y, picture.channels >= 3 ? Rgb{p[0], p[1], p[2]} : Rgb{p[0], p[0], p[0]});
      }
  }
};

void draw_accuracy_chart(Canvas& canvas, const std::vector<ComparedRun>& runs, int x0, int y0, int w, int h) {
  int64_t last_step = 1;
  for (const ComparedRun& run : runs)
    for (const MetricsRow& row : run.history) last_step = std::max(last_step, row.step);
  for (int tenth = 0; tenth <= 10; ++tenth) canvas.fill(x0, y0 + h - tenth * h / 10, w, 1, tenth % 5 ? kGrid : kAxis);
  canvas.fill(x0, y0, 1, h, kAxis);
  for (size_t r = 0; r < runs.size(); ++r) {
    double px = -1, py = -1;
    for (const MetricsRow& row : runs[r].history) {
      if (row.test_accuracy < 0) continue;
      const double x = x0 + double(row.step) / double(last_step) * (w - 2);
      const double y = y0 + (1.0 - row.test_accuracy) * (h - 2);
      if (px >= 0) canvas.line(px, py, x, y, run_color(r));
      canvas.fill(int(x) - 2, int(y) - 2, 5, 5, run_color(r));
      px = x, py = y;
    }
  }
}

Image8 picture_row(const std::vector<ImageF>& images, int scale) {
  std::vector<Image8> pictures;
  for (const ImageF& image : images) pictures.push_back(to_image8(image, DisplayRange::Unit, scale));
  return grid_of(pictures, int(std::max<size_t>(pictures.size(), 1)));
}

std::vector<ImageF> slices(std::span<const float> batch, size_t count, const Dataset& data) {
  const Shape shape{int(count), data.channels, data.height, data.width};
  std::vector<ImageF> images;
  for (size_t i = 0; i < count; ++i) images.push_back(slice_image(batch, i, shape));
  return images;
}

}  // namespace

TrainConfig supervised_only(TrainConfig config) {
  if (config.alpha_from_preset) config.alpha = load_model_spec(config.preset).alpha;
  config.alpha_from_preset = false;
  config.alpha.rc = config.alpha.kl = config.alpha.nn = config.alpha.rpn = 0.0f;
  return config;
}

uint64_t split_fingerprint(const LabeledSplit& split) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a offset basis
  for (size_t index : split.labeled)
    for (int byte = 0; byte < 8; ++byte) hash = (hash ^ ((uint64_t(index) >> (8 * byte)) & 0xff)) * 1099511628211ull;
  return hash;
}

std::vector<ImageF> render_from_prediction(DrmmModel& model, const Dataset& data, size_t count) {
  count = std::min(count, data.size());
  Backend& backend = model.backend();
  Tensor images = model.upload_images(std::span<const float>(data.pixels.data(), count * data.image_size()));
  model.bottom_up(images, false);
  Tensor no_labels = backend.alloc(Shape{int(count), 1, 1, 1});
  backend.fill(no_labels, -1.0f);
  const std::vector<float> rendered = backend.download(model.top_down(no_labels, false));
  return slices(rendered, count, data);
}

std::vector<ImageF> first_images(const Dataset& data, size_t count) {
  return slices(data.pixels, std::min(count, data.size()), data);
}

std::unique_ptr<TrainingSession> cnn_twin(const TrainingSession& main) {
  return std::make_unique<TrainingSession>(supervised_only(main.config()));
}

RunView view_of_run(Trainer& trainer, size_t images, size_t strongest) {
  const Dataset& shown = trainer.test_data() ? *trainer.test_data() : trainer.train_data();
  RunView view;
  view.step = trainer.step_count();
  view.inputs = first_images(shown, images);
  view.renderings = render_from_prediction(trainer.model(), shown, images);
  for (size_t i = 0; i < view.inputs.size(); ++i) view.r.push_back(pearson(view.inputs[i].data, view.renderings[i].data));
  if (!view.inputs.empty()) {
    view.path = infer_path(trainer.model(), view.inputs.front().data);
    view.strongest = strongest_units(view.path, strongest);
  }
  return view;
}

std::array<uint8_t, 3> run_color(size_t index) {
  static constexpr Rgb kColors[] = {{31, 119, 180}, {214, 39, 40}, {44, 160, 44}, {148, 103, 189}, {255, 127, 14}};
  return kColors[index % std::size(kColors)];
}

Image8 comparison_picture(const std::vector<ImageF>& inputs, const std::vector<ComparedRun>& runs, int scale) {
  const Image8 input_row = picture_row(inputs, scale);
  const int width = std::max(input_row.width + kBand + kGap, 360) + 2 * kMargin;
  const int row_height = input_row.height + kGap;
  const int height = kMargin + kChartHeight + kMargin + row_height * int(runs.size() + 1) + kMargin;
  Canvas canvas(width, height);
  draw_accuracy_chart(canvas, runs, kMargin, kMargin, width - 2 * kMargin, kChartHeight);
  int y = 2 * kMargin + kChartHeight;
  canvas.paste(input_row, kMargin + kBand + kGap, y);
  for (size_t r = 0; r < runs.size(); ++r) {
    y += row_height;
    canvas.fill(kMargin, y, kBand, input_row.height, run_color(r));
    canvas.paste(picture_row(runs[r].renderings, scale), kMargin + kBand + kGap, y);
  }
  return canvas.image;
}

}  // namespace drmm
