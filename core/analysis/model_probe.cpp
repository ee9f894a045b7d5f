#include "core/analysis/model_probe.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "core/data/synthetic.h"
#include "core/train/model_state.h"
#include "core/util/error.h"

namespace drmm::analysis {
namespace {

std::string shape_text(int channels, int height, int width) {
  return std::to_string(channels) + "×" + std::to_string(height) + "×" + std::to_string(width);
}

// Level 0 the pixels, then every layer's bottom-up output (inference mode) but the last, each
// pooled to `max_features` per image batch by batch: conv1 of `tiny` at full size would hold 1,500
// × 25,088 values (150 MB) for a probe that reads 512 of each row.
std::vector<ProbeLevel> model_levels(DrmmModel& model, const Dataset& data, std::span<const size_t> indices, size_t max_features) {
  std::vector<float> pixels = gather_images(data, indices);
  const ModelSpec& spec = model.spec();
  std::vector<ProbeLevel> levels(spec.layers.size());
  for (size_t l = 0; l + 1 < spec.layers.size(); ++l) levels[l + 1].name = spec.layers[l].name;
  for_each_level_batch(model, pixels, [&](size_t l, const FeatureMatrix& batch) {
    if (l + 1 == spec.layers.size()) return;  // the class scores
    const ProbeLevel pooled = pool_to_budget({"", batch.rows, batch.shape.c, batch.shape.h, batch.shape.w, batch.values}, max_features);
    ProbeLevel& level = levels[l + 1];
    level.rows += pooled.rows;
    level.channels = pooled.channels, level.height = pooled.height, level.width = pooled.width;
    level.values.insert(level.values.end(), pooled.values.begin(), pooled.values.end());
  });
  levels[0] = pool_to_budget({"pixels", indices.size(), data.channels, data.height, data.width, std::move(pixels)}, max_features);
  return levels;
}

// The class, then each nuisance in the data's order.
std::vector<ProbeTarget> probe_targets(const Dataset& data, std::span<const size_t> indices) {
  ProbeTarget label{"class", true, {}};
  for (size_t i : indices) label.values.push_back(float(data.labels.at(i)));
  std::vector<ProbeTarget> targets{std::move(label)};
  const size_t k = data.nuisance_names.size();
  for (size_t j = 0; j < k; ++j) {
    ProbeTarget t{data.nuisance_names[j], false, {}};
    for (size_t i : indices) t.values.push_back(data.nuisances.at(i * k + j));
    targets.push_back(std::move(t));
  }
  return targets;
}

}  // namespace

std::vector<ProbeScore> probe_model(DrmmModel& model, const Dataset& data, std::span<const size_t> indices,
                                    const ProbeOptions& options) {
  if (data.nuisance_names.empty())
    throw Error("probe: " + data.name + " has no known nuisances to decode (synthetic and synthetic-rgb have)");
  const ModelSpec& spec = model.spec();
  if (data.channels != spec.channels || data.height != spec.height || data.width != spec.width)
    throw Error("probe: the model takes " + shape_text(spec.channels, spec.height, spec.width) + " images, " + data.name +
                " has " + shape_text(data.channels, data.height, data.width));
  return probe_levels(model_levels(model, data, indices, options.max_features), probe_targets(data, indices), options);
}

namespace {

// Whether the synthetic set a model of `spec`'s input takes is the colour one (see synthetic_set_for).
bool synthetic_rgb_for(const ModelSpec& spec) {
  const std::string input = shape_text(spec.channels, spec.height, spec.width);
  for (const bool rgb : {false, true}) {
    const Dataset sample = make_synthetic({.rgb = rgb, .count = 0});  // its name and shape, no images
    if (shape_text(sample.channels, sample.height, sample.width) == input) return rgb;
  }
  throw Error("the model takes " + input + " images; the synthetic shapes with known nuisances are 1×28×28 (gray) or " +
              "3×32×32 (colour), so there is nothing to decode them from");
}

}  // namespace

std::string synthetic_set_for(const ModelSpec& spec) {
  return make_synthetic({.rgb = synthetic_rgb_for(spec), .count = 0}).name;
}

SyntheticProbe probe_on_synthetic(DrmmModel& model, size_t images, const ProbeOptions& options) {
  if (images == 0) throw Error("probe: no images to probe");  // load_synthetic would read 0 as all of them
  SyntheticProbe probe;
  const bool rgb = synthetic_rgb_for(model.spec());
  // Only the images probed are rendered, not the whole training set (10,000 for a probe of 1,500).
  const Dataset data = load_synthetic(rgb, Split::Train, images);
  probe.dataset = data.name;
  probe.images = data.size();
  std::vector<size_t> indices(probe.images);
  for (size_t i = 0; i < indices.size(); ++i) indices[i] = i;
  probe.scores = probe_model(model, data, indices, options);
  return probe;
}

std::string probe_table_csv(const std::vector<std::string>& labels, const std::vector<std::vector<ProbeScore>>& tables) {
  std::ostringstream csv;
  csv << "model,level,layer,target,kind,features,lambda,score,chance\n" << std::setprecision(6);
  for (size_t m = 0; m < tables.size(); ++m)
    for (const ProbeScore& s : tables[m])
      csv << labels.at(m) << "," << s.level << "," << s.level_name << "," << s.target << "," << (s.discrete ? "accuracy" : "r2")
          << "," << s.features << "," << s.lambda << "," << s.score << "," << s.chance << "\n";
  return csv.str();
}

}  // namespace drmm::analysis
