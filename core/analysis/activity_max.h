#pragma once
// Activity maximization (DESIGN.md §3.5), two ways:
// - the closed form of paper 000 App. E (paper 001 §3.2, eq. 26–27): the image that maximizes
//   class c's score is the sum of per-patch best renderings μ(c, g*_P), computed top-down with
//   no optimisation, for every class at once;
// - gradient ascent on the input (Simonyan et al. 2014, the classic method) for a class score
//   or any unit of any layer, with L2 and total-variation regularisation and jitter, one step
//   at a time so a view can show the picture evolving.
// Scores grow with the image's norm, so every image is compared at a stated L2 norm.
#include <cstdint>
#include <span>
#include <vector>

#include "core/data/dataset.h"
#include "core/model/drmm_model.h"

namespace drmm {

// A unit to maximise: channel `channel` of layer `level`'s output, averaged over its map.
// At the mean pool (the last layer) the channel is a class and the activity its score s_c.
struct UnitTarget {
  size_t level = 0;
  int channel = 0;
};
UnitTarget class_target(const ModelSpec& spec, int cls);
// Throws drmm::Error naming the layer when `target` does not exist in `spec`.
void check_target(const ModelSpec& spec, const UnitTarget& target);

struct UnitActivity {
  double score = 0;                  // the unit's mean activity (bottom-up, inference mode)
  std::vector<float> class_probabilities;  // q(c|I)
};
UnitActivity unit_activity(DrmmModel& model, std::span<const float> image, const UnitTarget& target);

// ---- the closed form (paper 000 App. E) -----------------------------------------------------

struct ClosedFormImage {
  int cls = 0;
  std::vector<float> image;          // C×H×W, scaled to the requested L2 norm
  UnitActivity activity;             // class score s_c and q(c|I) of that image
};

// Renders every class top-down choosing its latents greedily as the rendering goes down: per
// conv unit a = [z > 0], the templates whose rendered coefficient is positive (each adds
// z·relu(h) ≥ 0 to the score when the patch matches it), and per pooling window the most
// probable position t* = argmax π_t (eq. 26's max over g within each patch, under the learned
// prior). `refinements` > 0 then alternates, per class, the bottom-up inference of the latents of
// the current image with the top-down rendering from them (coordinate ascent of ⟨μ(c, g) | I⟩ over
// g and I at fixed ‖I‖), keeping the best-scoring image. Each image is scaled to `norm`.
//
// `templates` says which templates μ(c, g) are summed. Rendering: the model's own top-down pass,
// the one that draws Î (no batch norm on the way down, DESIGN.md §3.2). Score: the exact
// transpose of the inference network for the chosen latents, which carries batch norm's
// per-channel scale γ/√(σ²+ε): for a network with batch norm this is the template the class score
// is the inner product with (s_c(I) = ⟨μ(c, g), I⟩ + b(g) in each linear region), so it is the
// form of eq. 26 for such a network.
enum class ClosedFormTemplates { Rendering, Score };
std::vector<ClosedFormImage> closed_form_activity_max(DrmmModel& model, double norm, int refinements = 0,
                                                      ClosedFormTemplates templates = ClosedFormTemplates::Score);

// The highest class-c score s_c among the first `limit` images of `data` whose label is c, per
// class (−∞ for a class with none): what the closed form is compared with (paper 000 App. E claims
// the closed-form image maximizes the score).
std::vector<double> best_class_scores(DrmmModel& model, const Dataset& data, size_t limit);

// ---- gradient ascent --------------------------------------------------------------------------

struct GradientAscentOptions {
  double step = 0.02;         // per step, the image moves by step·RMS-normalised gradient
  double l2 = 1e-3;           // weight of ½‖I − mean‖² (pulls towards the data's mean gray)
  double tv = 0.1;            // weight of the squared total variation Σ (∂_x I)² + (∂_y I)²
  int jitter = 1;             // each step shifts the image by up to this many pixels (circularly)
  float low = 0.0f, high = 1.0f;  // pixel range kept after each step (the data's range)
  float mean = 0.5f;          // the gray the L2 term pulls to
  uint64_t seed = 1;
};

class GradientAscent {
 public:
  GradientAscent(const ModelSpec& spec, UnitTarget target, std::vector<float> start, GradientAscentOptions options = {});
  void set_target(const UnitTarget& target);   // keeps the image: the user may switch targets mid-run
  void set_image(std::vector<float> image);
  void set_options(const GradientAscentOptions& options) { options_ = options; }
  // One step: the objective's gradient at a jittered copy of the image, then the update. Returns
  // the unit's activity at that copy (before the update).
  double step(DrmmModel& model);
  const std::vector<float>& image() const { return image_; }
  const UnitTarget& target() const { return target_; }
  int steps() const { return steps_; }

 private:
  ModelSpec spec_;
  UnitTarget target_;
  std::vector<float> image_;
  GradientAscentOptions options_;
  uint64_t random_state_;
  int steps_ = 0;
};

// A start for gradient ascent: gray `mean` plus uniform noise of ±`amplitude`.
std::vector<float> noise_image(const ModelSpec& spec, uint64_t seed, float mean = 0.5f, float amplitude = 0.1f);

// L2 norm of an image.
double image_norm(std::span<const float> image);
// The mean L2 norm of the first `limit` images of `data` (1 for no images): the norm at which
// activity-maximizing images are compared with the data, since a unit's activity grows with the
// image's scale.
double mean_image_norm(const Dataset& data, size_t limit);

}  // namespace drmm
