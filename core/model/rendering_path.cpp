#include "core/model/rendering_path.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/util/error.h"

namespace drmm {
namespace {

std::vector<float> elementwise_product(std::vector<float> a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i) a[i] *= b[i];
  return a;
}

// Renders `path`'s class with its latents, each level's units multiplied by `keep(level)`.
std::vector<float> render_with(DrmmModel& model, const RenderingPath& path,
                               const std::function<std::vector<float>(size_t)>& keep) {
  model.use_batch(1);
  for (size_t k = 0; k < path.levels.size(); ++k)
    model.set_latents(path.levels[k].layer, elementwise_product(path.levels[k].on, keep(k)));
  return model.backend().download(model.render_classes(model.class_onehots(std::vector<int>{path.rendered_class})));
}

}  // namespace

RenderingPath infer_path(DrmmModel& model, std::span<const float> image, int render_class) {
  const ModelSpec& spec = model.spec();
  Backend& backend = model.backend();
  if (image.size() != spec.image_size())
    throw Error("rendering path: model '" + spec.name + "' takes one image of " + std::to_string(spec.channels) + "×" +
                std::to_string(spec.height) + "×" + std::to_string(spec.width) + ", got " + std::to_string(image.size()) +
                " values");
  model.bottom_up(model.upload_images(image), false);
  RenderingPath path;
  path.class_probabilities = backend.download(model.class_probabilities());
  path.predicted = int(std::max_element(path.class_probabilities.begin(), path.class_probabilities.end()) -
                       path.class_probabilities.begin());
  path.rendered_class = render_class < 0 ? path.predicted : render_class;
  path.channels = spec.channels, path.height = spec.height, path.width = spec.width;
  path.input.assign(image.begin(), image.end());
  const Tensor& rendered = model.render_classes(model.class_onehots(std::vector<int>{path.rendered_class}));
  path.rendered = backend.download(rendered);
  for (float v : path.rendered) path.rendered_energy += double(v) * double(v);
  model.render_adjoint(rendered);
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    if (!model.has_latents(i)) continue;
    const LayerSpec& layer = spec.layers[i];
    PathLevel level;
    level.layer = i;
    level.name = layer.describe();
    level.is_pool = layer.kind == LayerKind::MaxPool;
    const Shape shape = level.is_pool ? layer.input : layer.output;
    level.channels = shape.c, level.height = shape.h, level.width = shape.w;
    level.on = backend.download(model.latents(i));
    // A conv's units live at its output (the input of layer i + 1), a pool's switches at its input.
    const size_t at = level.is_pool ? i : i + 1;
    const std::vector<float> adjoint = at == 0 ? path.rendered : backend.download(model.rendering_adjoint(at));
    level.contribution = elementwise_product(backend.download(model.rendered_input(at)), adjoint);
    level.channel_contribution.assign(size_t(shape.c), 0.0f);
    const size_t area = size_t(shape.h) * size_t(shape.w);
    for (size_t u = 0; u < level.contribution.size(); ++u) level.channel_contribution[u / area] += level.contribution[u];
    path.levels.push_back(std::move(level));
  }
  return path;
}

// ---- editing -------------------------------------------------------------------------------

PathEdit::PathEdit(const RenderingPath& path) : path_(&path) {
  for (const PathLevel& level : path.levels) off_.emplace_back(level.unit_count(), uint8_t(0));
}

void PathEdit::toggle_unit(size_t level, size_t unit) { off_.at(level).at(unit) ^= 1; }

void PathEdit::set_channel(size_t level, int channel, bool off) {
  const PathLevel& l = path_->levels.at(level);
  if (channel < 0 || channel >= l.channels) throw Error("path edit: " + l.name + " has no channel " + std::to_string(channel));
  const size_t area = size_t(l.height) * size_t(l.width);
  std::fill_n(off_[level].begin() + std::ptrdiff_t(size_t(channel) * area), area, uint8_t(off));
}

void PathEdit::set_level(size_t level, bool off) { std::fill(off_.at(level).begin(), off_.at(level).end(), uint8_t(off)); }

void PathEdit::clear() {
  for (auto& level : off_) std::fill(level.begin(), level.end(), uint8_t(0));
}

size_t PathEdit::off_count() const {
  size_t count = 0;
  for (const auto& level : off_) count += size_t(std::count(level.begin(), level.end(), uint8_t(1)));
  return count;
}

std::vector<float> render_edited(DrmmModel& model, const RenderingPath& path, const PathEdit& edit) {
  return render_with(model, path, [&](size_t k) {
    std::vector<float> keep(path.levels[k].unit_count());
    for (size_t u = 0; u < keep.size(); ++u) keep[u] = edit.off(k, u) ? 0.0f : 1.0f;
    return keep;
  });
}

std::vector<float> render_unit_alone(DrmmModel& model, const RenderingPath& path, size_t level, size_t unit) {
  if (level >= path.levels.size() || unit >= path.levels[level].unit_count())
    throw Error("rendering path: no unit " + std::to_string(unit) + " at level " + std::to_string(level));
  return render_with(model, path, [&](size_t k) {
    std::vector<float> keep(path.levels[k].unit_count(), k == level ? 0.0f : 1.0f);
    if (k == level) keep[unit] = 1.0f;
    return keep;
  });
}

std::vector<PathUnit> strongest_units(const RenderingPath& path, size_t count) {
  std::vector<PathUnit> units;
  for (size_t k = 0; k < path.levels.size(); ++k) {
    const PathLevel& level = path.levels[k];
    const size_t area = size_t(level.height) * size_t(level.width);
    for (size_t u = 0; u < level.unit_count(); ++u)
      if (level.on[u] != 0.0f)
        units.push_back(PathUnit{k, u, int(u / area), int(u % area) / level.width, int(u % area) % level.width,
                                 level.contribution[u]});
  }
  const size_t keep = std::min(count, units.size());
  std::partial_sort(units.begin(), units.begin() + std::ptrdiff_t(keep), units.end(),
                    [](const PathUnit& a, const PathUnit& b) { return a.contribution > b.contribution; });
  units.resize(keep);
  return units;
}

// ---- per-class statistics --------------------------------------------------------------------

PathStatistics path_statistics(DrmmModel& model, const Dataset& data, size_t limit,
                               const std::function<void(size_t, size_t)>& progress) {
  const ModelSpec& spec = model.spec();
  if (data.image_size() != spec.image_size())
    throw Error("path statistics: the images of '" + data.name + "' do not fit model '" + spec.name + "'");
  const size_t classes = size_t(spec.classes), total = limit ? std::min(limit, data.size()) : data.size();
  PathStatistics stats;
  std::vector<size_t> layers, offsets{0};
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    if (!model.has_latents(i)) continue;
    const LayerSpec& layer = spec.layers[i];
    const Shape shape = layer.kind == LayerKind::MaxPool ? layer.input : layer.output;
    layers.push_back(i);
    stats.level_names.push_back(layer.describe());
    stats.level_channels.push_back(shape.c);
    offsets.push_back(offsets.back() + shape.per_image());
  }
  std::vector<std::vector<double>> on(classes, std::vector<double>(offsets.back(), 0.0));  // Σ a per unit
  stats.class_counts.assign(classes, 0);
  constexpr size_t kBatch = 100;
  Backend& backend = model.backend();
  for (size_t first = 0; first < total; first += kBatch) {
    const int n = int(std::min(kBatch, total - first));
    Tensor images = backend.alloc(Shape{n, spec.channels, spec.height, spec.width});
    backend.upload(images, std::span<const float>(data.pixels).subspan(first * data.image_size(), size_t(n) * data.image_size()));
    model.bottom_up(images, false);
    for (size_t k = 0; k < layers.size(); ++k) {
      const std::vector<float> mask = backend.download(model.latents(layers[k]));
      const size_t per_image = offsets[k + 1] - offsets[k];
      for (int m = 0; m < n; ++m) {
        const size_t label = size_t(data.labels[first + size_t(m)]);
        if (label >= classes) continue;
        for (size_t u = 0; u < per_image; ++u) on[label][offsets[k] + u] += mask[size_t(m) * per_image + u];
      }
    }
    for (int m = 0; m < n; ++m)
      if (size_t(data.labels[first + size_t(m)]) < classes) ++stats.class_counts[size_t(data.labels[first + size_t(m)])];
    if (progress) progress(first + size_t(n), total);
  }
  for (size_t c = 0; c < classes; ++c)
    for (double& v : on[c]) v /= double(std::max<size_t>(stats.class_counts[c], 1));
  stats.level_layers = layers;
  stats.frequency.assign(classes, {});
  for (size_t c = 0; c < classes; ++c)
    for (size_t k = 0; k < layers.size(); ++k)
      stats.frequency[c].emplace_back(on[c].begin() + std::ptrdiff_t(offsets[k]), on[c].begin() + std::ptrdiff_t(offsets[k + 1]));
  stats.usage.assign(classes, {});
  for (size_t c = 0; c < classes; ++c)
    for (size_t k = 0; k < layers.size(); ++k) {
      const size_t channels = size_t(stats.level_channels[k]), area = (offsets[k + 1] - offsets[k]) / channels;
      std::vector<double> usage(channels, 0.0);
      for (size_t u = 0; u < offsets[k + 1] - offsets[k]; ++u) usage[u / area] += on[c][offsets[k] + u] / double(area);
      stats.usage[c].push_back(std::move(usage));
    }
  stats.overlap.assign(classes, std::vector<double>(classes, 0.0));
  for (size_t c = 0; c < classes; ++c)
    for (size_t d = 0; d < classes; ++d) {
      double low = 0, high = 0;
      for (size_t u = 0; u < on[c].size(); ++u) low += std::min(on[c][u], on[d][u]), high += std::max(on[c][u], on[d][u]);
      stats.overlap[c][d] = high > 0 ? low / high : 1.0;
    }
  return stats;
}

// ---- JSON ------------------------------------------------------------------------------------

std::string path_to_json(const RenderingPath& path, const std::vector<std::string>& class_names, size_t strongest) {
  using nlohmann::json;
  auto class_name = [&](int c) { return c >= 0 && size_t(c) < class_names.size() ? class_names[size_t(c)] : std::to_string(c); };
  json out;
  out["rendered_class"] = path.rendered_class;
  out["rendered_class_name"] = class_name(path.rendered_class);
  out["predicted"] = path.predicted;
  out["predicted_name"] = class_name(path.predicted);
  out["class_probabilities"] = path.class_probabilities;
  out["rendered_energy"] = path.rendered_energy;
  json levels = json::array();
  for (const PathLevel& level : path.levels) {
    json units = json::array();
    const size_t area = size_t(level.height) * size_t(level.width);
    for (size_t u = 0; u < level.unit_count(); ++u)
      if (level.on[u] != 0.0f)
        units.push_back({{"channel", u / area}, {"y", (u % area) / size_t(level.width)},
                         {"x", (u % area) % size_t(level.width)}, {"contribution", level.contribution[u]}});
    levels.push_back({{"layer", level.layer},
                      {"name", level.name},
                      {"latent", level.is_pool ? "t" : "a"},
                      {"shape", {level.channels, level.height, level.width}},
                      {"on_count", units.size()},
                      {"channel_contribution", level.channel_contribution},
                      {"on", std::move(units)}});
  }
  out["levels"] = std::move(levels);
  json top = json::array();
  for (const PathUnit& u : strongest_units(path, strongest))
    top.push_back({{"level", u.level}, {"name", path.levels[u.level].name}, {"channel", u.channel}, {"y", u.y}, {"x", u.x},
                   {"contribution", u.contribution}});
  out["strongest"] = std::move(top);
  return out.dump(1);
}

}  // namespace drmm
