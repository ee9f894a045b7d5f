#pragma once
// Generation with the DRMM (DESIGN.md §3.4; paper 002 App. B): draw the latents g = (a, t) of
// every layer from their learned frequencies π_a, π_t and render the class top-down; or render
// a class with the latents inferred from an image, carrying that image's nuisances (position,
// thickness, style) to another class.
#include <cstdint>
#include <span>
#include <vector>

#include "core/model/drmm_model.h"
#include "core/model/rendering_path.h"

namespace drmm {

// `count` images (each C×H×W, concatenated) of class `cls`: per unit a ~ Bernoulli(π_a), per
// pooling window one position t ~ Cat(π_t of the window's positions, normalised), rendered
// top-down from the one-hot of `cls`. Deterministic in `seed`.
// With `conditional` (path_statistics of a dataset), the latents are drawn from the class's own
// frequencies π_{g|c} instead of the model's class-agnostic π.
// `temperature` τ < 1 sharpens every frequency to p^(1/τ) (renormalised): samples closer to the
// most probable latents, less varied.
std::vector<float> sample_class(DrmmModel& model, int cls, int count, uint64_t seed,
                                const PathStatistics* conditional = nullptr, double temperature = 1.0);

// Renders each class of `classes` with the latents of `image` (inferred bottom-up in inference
// mode): one image per class, concatenated in the order of `classes`.
std::vector<float> render_like(DrmmModel& model, std::span<const float> image, const std::vector<int>& classes);

// The share of `per_class` samples of each class that the model classifies as that class
// (bottom-up, inference mode): one rate per class.
std::vector<double> sample_classification_rates(DrmmModel& model, int per_class, uint64_t seed,
                                                const PathStatistics* conditional = nullptr, double temperature = 1.0);

// ĉ of each image (concatenated C×H×W images), inference mode.
std::vector<int> classify(DrmmModel& model, std::span<const float> images);

}  // namespace drmm
