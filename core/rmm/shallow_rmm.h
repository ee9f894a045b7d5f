#pragma once
// The shallow Rendering Mixture Model trained by hard EM (DESIGN.md §3.3; Patel, Nguyen & Baraniuk,
// "A Probabilistic Theory of Deep Learning", arXiv 1504.00641, §2.1 eq. 3–4 and §2.6.1 eq. 16–17).
//
// An image is a rendered template plus unit-variance Gaussian noise, I = μ_cg + noise, with
// μ_cg = T_g μ_c: the canonical template μ_c of class (or cluster) c rendered under the nuisance g,
// an integer translation on a zero-padded canvas, optionally after a rotation. Hard EM alternates
//   E-step (eq. 16): (ĉ, ĝ) = argmax_{c,g} ⟨μ_cg|I⟩ − ½‖μ_cg‖² + log π_cg
//   M-step (eq. 17): π_cg = N_cg / N, and μ_c the least-squares template given the assignments.
// Every T_g here copies, for each output pixel, one pixel of the template or writes 0 (a "pull"
// map: nearest-neighbour rotation, then the shift), so T_gᵀT_g is diagonal: it counts how many
// output pixels copy each template pixel. The least-squares μ_c = (Σ_n T_nᵀT_n)⁻¹ Σ_n T_nᵀ I_n is
// then exact and per pixel: the assigned images moved back to the canonical frame, summed, and
// divided by how often each pixel was covered. (With no nuisance this is eq. 17's mean.)
//
// Two modes: supervised (the class of a training image is known, the E-step picks g only;
// prediction is the argmax over c and g) and unsupervised (K clusters seeded k-means++-style on
// images; a cluster predicts the majority class of its training images).
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/data/dataset.h"

namespace drmm {
class ThreadPool;
}

namespace drmm::rmm {

// One nuisance g: a rotation about the image centre (degrees, counter-clockwise on screen), then a
// shift by (dx, dy) pixels (x right, y down).
struct Nuisance {
  int dx = 0, dy = 0;
  float degrees = 0;
};

// G: every rotation in `rotation_degrees` (none: 0 only) times every shift in [−max_shift, max_shift]².
// The identity comes first. Throws drmm::Error for a negative shift.
std::vector<Nuisance> make_nuisances(int max_shift, std::span<const float> rotation_degrees);
std::string describe(const Nuisance& g);

// T_g as a pull map over C·H·W elements: element x of T_g μ is μ[map[x]], or 0 where map[x] < 0.
std::vector<int32_t> nuisance_map(const Nuisance& g, int channels, int height, int width);

struct Assignment {
  int component = 0;  // c: the class (supervised) or the cluster
  int nuisance = 0;   // g: an index into ShallowRmm::nuisances
  bool operator==(const Assignment&) const = default;
};

struct ShallowRmm {
  int channels = 1, height = 0, width = 0;
  int components = 0;                       // classes or clusters
  std::vector<Nuisance> nuisances;          // G
  std::vector<std::vector<int32_t>> maps;   // T_g of each nuisance (nuisance_map)
  std::vector<float> templates;             // components × image_size(): the canonical μ_c
  std::vector<double> log_prior;            // components × G: log π_cg (−∞ where N_cg was 0)

  size_t image_size() const { return size_t(channels) * size_t(height) * size_t(width); }
  int num_nuisances() const { return int(nuisances.size()); }
  std::span<const float> canonical(int c) const { return {templates.data() + size_t(c) * image_size(), image_size()}; }
  // μ_cg = T_g μ_c.
  std::vector<float> render(int c, int g) const;
};

// A model for images of `shape`'s size with `components` templates (all 0) and a uniform prior.
ShallowRmm make_model(const Dataset& shape, int components, std::vector<Nuisance> nuisances);

struct EStep {
  // Per image: the argmax of the E-step's score over (c, g), or over g alone for the image's known
  // component; and the argmax over every (c, g), the model's prediction.
  std::vector<Assignment> chosen, predicted;
  double score_sum = 0;  // Σ_n the chosen score
};

// The hard E-step (paper 001 eq. 16) for `images` (count × image_size()). `known` is empty
// (unsupervised: chosen = predicted) or holds each image's component. Ties go to the first (c, g).
EStep e_step(const ShallowRmm& model, std::span<const float> images, std::span<const int> known, ThreadPool& pool);

// The M-step (paper 001 eq. 17) for the given assignments: π_cg = N_cg / N and the exact
// least-squares μ_c (above). A template pixel no assigned image covers keeps its value: it does
// not enter the objective.
void m_step(ShallowRmm& model, std::span<const float> images, std::span<const Assignment> assignments, ThreadPool& pool);

// The mean complete-data log-likelihood per image, (1/N) Σ_n log π_{c_n g_n} + log N(I_n | μ_{c_n g_n}, 1),
// in double precision.
double log_likelihood(const ShallowRmm& model, std::span<const float> images, std::span<const Assignment> assignments,
                      ThreadPool& pool);

enum class Mode { Supervised, Unsupervised };
Mode parse_mode(const std::string& name);  // "supervised" | "unsupervised"; throws drmm::Error otherwise
const char* mode_name(Mode mode);

struct TrainOptions {
  Mode mode = Mode::Supervised;
  int clusters = 0;  // unsupervised: K (0: the dataset's class count)
  int max_shift = 2;
  std::vector<float> rotations;  // degrees; empty: no rotation
  int iterations = 10;
  uint64_t seed = 1;  // the k-means++ seeding
  int threads = 0;    // 0: every core
  size_t samples = 18;  // test images whose assignment each iteration reports
};

// One row of the history (likelihood.csv).
struct Iteration {
  int iteration = 0;             // 1, 2, … (each an E-step then an M-step)
  double log_likelihood = 0;     // after the M-step; never decreases (see train_shallow_rmm)
  size_t changed = 0;            // training images whose (c, g) changed in this E-step
  double train_accuracy = 0, test_accuracy = 0;  // test_accuracy is NaN without test images
  double seconds = 0;            // since the start of training
};

struct Trained {
  ShallowRmm model;
  std::vector<Iteration> history;
  std::vector<int> component_class;  // the class each component predicts
  std::vector<Assignment> samples;   // of the first TrainOptions::samples test images (or training images)
  bool samples_from_test = false;
};

// Called after every iteration with the model and its history so far; may throw to stop.
using Progress = std::function<void(const Trained& state)>;

// Trains on `train` (its labels are used in supervised mode, and to name clusters in
// unsupervised mode) and evaluates on `test` (may be null or empty). Throws drmm::Error on bad
// options or data.
Trained train_shallow_rmm(const Dataset& train, const Dataset* test, const TrainOptions& options,
                          const Progress& progress = {});

// The class of each component: itself when supervised, else the majority class of the training
// images assigned to it (a cluster with none predicts class 0).
std::vector<int> majority_classes(std::span<const Assignment> assignments, std::span<const int> labels, int components,
                                  int classes);

}  // namespace drmm::rmm
