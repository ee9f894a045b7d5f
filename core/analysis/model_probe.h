#pragma once
// A model's levels probed for a dataset's known nuisances (core/analysis/nuisance_probe.h; the
// experiment of paper 002 §5: Nguyen, Liu, Perez, Baraniuk, Patel, "Semi-Supervised Learning with
// the Deep Rendering Mixture Model", CVPR 2017). The levels are the pixels, then every layer's
// bottom-up output but the last (the class scores, which the class probe would only read back);
// the targets are the class, then each nuisance. `drmm probe` and the studio's Nuisance decoding
// panel both run this, so the two always score the same thing.
#include <span>
#include <string>
#include <vector>

#include "core/analysis/nuisance_probe.h"
#include "core/data/dataset.h"
#include "core/model/drmm_model.h"

namespace drmm::analysis {

// One score per (level, target), level-major, for images `indices` of `data` (the same split of
// them for every level and target). Throws drmm::Error when `data` has no known nuisances or its
// images are not the model's input shape.
std::vector<ProbeScore> probe_model(DrmmModel& model, const Dataset& data, std::span<const size_t> indices,
                                    const ProbeOptions& options);

// The built-in synthetic set a model of `spec`'s input shape takes: "synthetic" (1×28×28 gray) or
// "synthetic-rgb" (3×32×32 colour). Throws drmm::Error naming the shapes for any other input.
std::string synthetic_set_for(const ModelSpec& spec);

// probe_model on the first `images` training images of the synthetic set for the model's input,
// the images `drmm probe --images N` probes, so the two give the same scores for the same weights
// (the probe holds out its own part of them).
struct SyntheticProbe {
  std::string dataset;  // "synthetic" or "synthetic-rgb"
  size_t images = 0;
  std::vector<ProbeScore> scores;
};
SyntheticProbe probe_on_synthetic(DrmmModel& model, size_t images, const ProbeOptions& options);

// Probe tables as CSV: a header, then one row per score of model m labelled `labels[m]`:
// model,level,layer,target,kind (accuracy or r2),features,lambda,score,chance.
std::string probe_table_csv(const std::vector<std::string>& labels, const std::vector<std::vector<ProbeScore>>& tables);

}  // namespace drmm::analysis
