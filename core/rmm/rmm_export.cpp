#include "core/rmm/rmm_export.h"

#include <cmath>
#include <sstream>

#include "core/data/preview.h"
#include "core/util/error.h"

namespace drmm::rmm {
namespace {

// Images of the model's shape as a Dataset, so that the preview grid (core/data/preview.h) draws them.
Dataset pictures_of(const ShallowRmm& model, std::vector<float> pixels) {
  Dataset d;
  d.name = "shallow RMM";
  d.channels = model.channels;
  d.height = model.height;
  d.width = model.width;
  d.labels.assign(pixels.size() / model.image_size(), 0);
  d.pixels = std::move(pixels);
  return d;
}

}  // namespace

std::string history_csv(std::span<const Iteration> history) {
  std::ostringstream out;
  out.precision(10);
  out << "iteration,log_likelihood,changed,train_accuracy,test_accuracy,seconds\n";
  for (const Iteration& r : history) {
    out << r.iteration << ',' << r.log_likelihood << ',' << r.changed << ',' << r.train_accuracy << ',';
    if (!std::isnan(r.test_accuracy)) out << r.test_accuracy;
    out << ',' << r.seconds << '\n';
  }
  return out.str();
}

Image8 templates_picture(const ShallowRmm& model, int scale, int columns) {
  PreviewLayout layout;
  layout.count = size_t(model.components);
  layout.scale = scale;
  layout.columns = columns;
  return render_preview(pictures_of(model, model.templates), layout);
}

Image8 assignments_picture(const ShallowRmm& model, const Dataset& data, std::span<const Assignment> assignments, int scale,
                           int pairs_per_row) {
  if (assignments.empty()) throw Error("no assigned images to draw");
  if (assignments.size() > data.size()) throw Error("more assignments than images in " + data.name);
  std::vector<float> pixels;
  for (size_t i = 0; i < assignments.size(); ++i) {
    const std::span<const float> image = data.image(i);
    pixels.insert(pixels.end(), image.begin(), image.end());
    const std::vector<float> mu = model.render(assignments[i].component, assignments[i].nuisance);
    pixels.insert(pixels.end(), mu.begin(), mu.end());
  }
  PreviewLayout layout;
  layout.count = 2 * assignments.size();
  layout.scale = scale;
  layout.columns = 2 * pairs_per_row;
  return render_preview(pictures_of(model, std::move(pixels)), layout);
}

}  // namespace drmm::rmm
