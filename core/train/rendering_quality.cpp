#include "core/train/rendering_quality.h"

#include <algorithm>
#include <cmath>

#include "core/train/model_state.h"
#include "core/util/error.h"

namespace drmm {
namespace {

constexpr size_t kBatch = 250;  // images per pass: bounds the per-level reconstructions held at once

int argmax(const float* row, int count) { return int(std::max_element(row, row + count) - row); }

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  if (values.size() % 2) return values[mid];
  return 0.5 * (values[mid] + *std::max_element(values.begin(), values.begin() + mid));
}

double mean(const std::vector<double>& values) {
  double sum = 0;
  for (double v : values) sum += v;
  return values.empty() ? 0 : sum / double(values.size());
}

// Per image of one batch: r(I, X) for a batch of renderings X laid out like the images.
void add_correlations(std::span<const float> images, std::span<const float> rendered, size_t image_size,
                      std::vector<double>& out) {
  for (size_t i = 0; i * image_size < images.size(); ++i)
    out.push_back(pearson(images.subspan(i * image_size, image_size), rendered.subspan(i * image_size, image_size)));
}

}  // namespace

double pearson(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) throw Error("pearson: sizes differ");
  const double n = double(a.size());
  double ma = 0, mb = 0;
  for (size_t i = 0; i < a.size(); ++i) ma += a[i], mb += b[i];
  ma /= n, mb /= n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double da = a[i] - ma, db = b[i] - mb;
    sab += da * db, saa += da * da, sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

double relative_error_after_gain(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) throw Error("relative_error_after_gain: sizes differ");
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) ab += double(a[i]) * b[i], aa += double(a[i]) * a[i], bb += double(b[i]) * b[i];
  if (aa == 0) return 0;
  if (bb == 0) return 1;
  // ‖a − g b‖² at g = ⟨a,b⟩/⟨b,b⟩ is ‖a‖² − ⟨a,b⟩²/‖b‖².
  return std::max(0.0, aa - ab * ab / bb) / aa;
}

RenderingQuality measure_rendering(DrmmModel& model, const Dataset& data, size_t limit) {
  const ModelSpec& spec = model.spec();
  if (data.channels != spec.channels || data.height != spec.height || data.width != spec.width)
    throw Error("dataset '" + data.name + "' does not fit model '" + spec.name + "' (image size)");
  Backend& backend = model.backend();
  const size_t count = limit ? std::min(limit, data.size()) : data.size();
  const size_t levels = spec.layers.size() - 1;  // every layer below the mean pool
  const size_t image_size = data.image_size();
  std::vector<double> r, errors;
  std::vector<std::vector<double>> level_r(levels);
  size_t consistent = 0;
  for (size_t first = 0; first < count; first += kBatch) {
    const size_t n = std::min(kBatch, count - first);
    const std::span<const float> images(data.pixels.data() + first * image_size, n * image_size);
    Tensor batch = model.upload_images(images);
    model.bottom_up(batch, false);
    const std::vector<float> q = backend.download(model.class_probabilities());
    Tensor no_labels = backend.alloc(Shape{int(n), 1, 1, 1});
    backend.fill(no_labels, -1.0f);
    const std::vector<float> rendered = backend.download(model.top_down(no_labels, false));  // from ĉ
    add_correlations(images, rendered, image_size, r);
    for (size_t i = 0; i < n; ++i)
      errors.push_back(relative_error_after_gain(images.subspan(i * image_size, image_size),
                                                 std::span<const float>(rendered).subspan(i * image_size, image_size)));
    for (size_t level = 0; level < levels; ++level)
      add_correlations(images, backend.download(model.reconstruct_from_level(level)), image_size, level_r[level]);
    // Self-consistency: classify the renderings themselves.
    Tensor rendered_batch = backend.alloc(batch.shape());
    backend.upload(rendered_batch, rendered);
    model.bottom_up(rendered_batch, false);
    const std::vector<float> q_rendered = backend.download(model.class_probabilities());
    for (size_t i = 0; i < n; ++i)
      consistent += argmax(q_rendered.data() + i * spec.classes, spec.classes) ==
                    argmax(q.data() + i * spec.classes, spec.classes);
  }
  RenderingQuality quality;
  quality.count = count;
  quality.r_mean = mean(r);
  quality.r_median = median(r);
  quality.relative_error = mean(errors);
  quality.self_consistency = count ? double(consistent) / double(count) : 0;
  for (const auto& values : level_r) quality.level_r.push_back(mean(values));
  return quality;
}

}  // namespace drmm
