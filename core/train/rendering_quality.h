#pragma once
// How faithfully the top-down E-step draws what the model saw (paper 002 §4.1: Î ≡ μ_ĉĝ, the
// rendering of the inferred class and latents). Measured on images of a dataset, each Î
// rendered from the model's predicted class ĉ with the switches a, t the bottom-up recorded:
// - r(I, Î): the Pearson correlation of image and rendering (invariant to the rendering's
//   scale and offset, which nothing in the objective pins for unlabeled data);
// - the relative squared error after the best scalar gain, min_g ‖I − gÎ‖² / ‖I‖²;
// - self-consistency: the share of Î that the model itself classifies as ĉ (a rendering that
//   carries the class's evidence, not just the input's outline);
// - r of the reconstruction started from every level's bottom-up activation (paper 004 Fig. 4).
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/model/drmm_model.h"
#include "core/train/snapshot.h"  // RenderingQuality

namespace drmm {

// Pearson correlation of two equally long vectors; 0 when either is constant.
double pearson(std::span<const float> a, std::span<const float> b);
// min_g ‖a − g·b‖² / ‖a‖² (g = ⟨a,b⟩/⟨b,b⟩); 1 when b is zero, 0 when a is zero.
double relative_error_after_gain(std::span<const float> a, std::span<const float> b);

// Measures the first `limit` images of `data` (all when 0) in inference mode. Throws
// drmm::Error when the data does not fit the model.
RenderingQuality measure_rendering(DrmmModel& model, const Dataset& data, size_t limit);

}  // namespace drmm
