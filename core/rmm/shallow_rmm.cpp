#include "core/rmm/shallow_rmm.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <numeric>

#include "core/backend/cpu/gemm.h"
#include "core/util/error.h"
#include "core/util/random.h"
#include "core/util/thread_pool.h"

namespace drmm::rmm {
namespace {

constexpr double kMinusInfinity = -std::numeric_limits<double>::infinity();
constexpr size_t kImagesPerProduct = 128;  // images scored by one GEMM: their scores stay in L2

size_t count_of(std::span<const float> images, const ShallowRmm& model) {
  const size_t d = model.image_size();
  if (d == 0 || images.size() % d != 0)
    throw Error("shallow RMM: " + std::to_string(images.size()) + " values are not whole images of " +
                std::to_string(model.channels) + "x" + std::to_string(model.height) + "x" + std::to_string(model.width));
  return images.size() / d;
}

// Every μ_cg = T_g μ_c, row k = c·G + g, and the part of the E-step's score that does not depend
// on the image: −½‖μ_cg‖² + log π_cg (paper 001 eq. 16).
struct RenderedTemplates {
  std::vector<float> pixels;   // (components · G) × image_size()
  std::vector<double> offset;  // per row
};

RenderedTemplates render_all(const ShallowRmm& model) {
  const size_t d = model.image_size(), rows = size_t(model.components) * size_t(model.num_nuisances());
  RenderedTemplates r;
  r.pixels.resize(rows * d);
  r.offset.resize(rows);
  for (int c = 0; c < model.components; ++c)
    for (int g = 0; g < model.num_nuisances(); ++g) {
      const size_t k = size_t(c) * size_t(model.num_nuisances()) + size_t(g);
      const std::vector<float> mu = model.render(c, g);
      std::copy(mu.begin(), mu.end(), r.pixels.begin() + long(k * d));
      double norm = 0;
      for (const float v : mu) norm += double(v) * double(v);
      r.offset[k] = -0.5 * norm + model.log_prior[k];
    }
  return r;
}

// Runs fn(first, count, worker) over blocks of at most kImagesPerProduct of `images` images.
void for_image_blocks(size_t images, ThreadPool& pool, const std::function<void(size_t, size_t, int)>& fn) {
  const size_t blocks = (images + kImagesPerProduct - 1) / kImagesPerProduct;
  pool.parallel_for(blocks, [&](size_t b0, size_t b1, int worker) {
    for (size_t b = b0; b < b1; ++b) {
      const size_t first = b * kImagesPerProduct;
      fn(first, std::min(kImagesPerProduct, images - first), worker);
    }
  });
}

// The chosen and the predicted assignment of one image from its scores ⟨μ_k|I⟩ (k = c·G + g).
struct Choice {
  Assignment chosen, predicted;
  double chosen_score = kMinusInfinity;
};

Choice choose(std::span<const float> products, const RenderedTemplates& t, int nuisances, int known) {
  Choice out;
  double best = kMinusInfinity;
  size_t best_k = 0, chosen_k = 0;
  for (size_t k = 0; k < products.size(); ++k) {
    const double score = double(products[k]) + t.offset[k];
    if (score > best) best = score, best_k = k;
    if (known >= 0 && int(k) / nuisances == known && score > out.chosen_score) out.chosen_score = score, chosen_k = k;
  }
  out.predicted = {int(best_k) / nuisances, int(best_k) % nuisances};
  if (known < 0) out.chosen_score = best, chosen_k = best_k;
  out.chosen = {int(chosen_k) / nuisances, int(chosen_k) % nuisances};
  return out;
}

double squared_distance(std::span<const float> a, std::span<const float> b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += double(a[i] - b[i]) * double(a[i] - b[i]);
  return sum;
}

// k-means++ seeding (Arthur & Vassilvitskii 2007) on the images themselves: the first template a
// random image, each next one an image drawn with probability ∝ its squared distance to the
// nearest template so far.
void seed_clusters(ShallowRmm& model, std::span<const float> images, uint64_t seed, ThreadPool& pool) {
  const size_t d = model.image_size(), n = images.size() / d;
  const auto image = [&](size_t i) { return images.subspan(i * d, d); };
  Random random(seed);
  std::vector<double> distance(n, std::numeric_limits<double>::infinity());
  size_t pick = size_t(random.below(n));
  for (int c = 0; c < model.components; ++c) {
    std::copy_n(image(pick).begin(), d, model.templates.begin() + long(size_t(c) * d));
    pool.parallel_for(n, [&](size_t b, size_t e, int) {
      for (size_t i = b; i < e; ++i) distance[i] = std::min(distance[i], squared_distance(image(i), model.canonical(c)));
    });
    double total = 0;
    for (const double v : distance) total += v;
    if (total <= 0) {  // every image is already a template: any image will do
      pick = size_t(random.below(n));
      continue;
    }
    double target = random.uniform() * total;
    pick = n - 1;
    for (size_t i = 0; i < n; ++i)
      if ((target -= distance[i]) < 0) {
        pick = i;
        break;
      }
  }
}

void set_uniform_prior(ShallowRmm& model, std::span<const double> component_share) {
  for (int c = 0; c < model.components; ++c)
    for (int g = 0; g < model.num_nuisances(); ++g)
      model.log_prior[size_t(c) * size_t(model.num_nuisances()) + size_t(g)] =
          component_share[size_t(c)] > 0 ? std::log(component_share[size_t(c)] / model.num_nuisances()) : kMinusInfinity;
}

double accuracy(std::span<const Assignment> predicted, std::span<const int> labels, std::span<const int> component_class) {
  if (labels.empty()) return std::numeric_limits<double>::quiet_NaN();
  size_t correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) correct += component_class[size_t(predicted[i].component)] == labels[i];
  return double(correct) / double(labels.size());
}

std::vector<int> identity_classes(int classes) {
  std::vector<int> identity(static_cast<size_t>(classes));
  std::iota(identity.begin(), identity.end(), 0);
  return identity;
}

void check_options(const Dataset& train, const TrainOptions& o, int components) {
  if (train.size() == 0) throw Error("dataset '" + train.name + "' has no images to train a shallow RMM on");
  if (o.iterations < 1) throw Error("--iterations must be at least 1 (got " + std::to_string(o.iterations) + ")");
  if (o.max_shift < 0 || o.max_shift >= std::min(train.height, train.width))
    throw Error("--shift " + std::to_string(o.max_shift) + " must be from 0 to less than the image side (" +
                std::to_string(std::min(train.height, train.width)) + ")");
  if (components < 1 || size_t(components) > train.size())
    throw Error("--clusters " + std::to_string(components) + " must be from 1 to the " + std::to_string(train.size()) +
                " training images");
}

}  // namespace

std::vector<Nuisance> make_nuisances(int max_shift, std::span<const float> rotation_degrees) {
  if (max_shift < 0) throw Error("the largest shift must not be negative (got " + std::to_string(max_shift) + ")");
  std::vector<float> angles(rotation_degrees.begin(), rotation_degrees.end());
  if (std::find(angles.begin(), angles.end(), 0.0f) == angles.end()) angles.insert(angles.begin(), 0.0f);
  std::stable_partition(angles.begin(), angles.end(), [](float a) { return a == 0.0f; });
  angles.erase(std::unique(angles.begin(), angles.end()), angles.end());
  std::vector<Nuisance> g;
  for (const float degrees : angles) {
    g.push_back({0, 0, degrees});  // the unshifted one first: the identity leads G
    for (int dy = -max_shift; dy <= max_shift; ++dy)
      for (int dx = -max_shift; dx <= max_shift; ++dx)
        if (dx != 0 || dy != 0) g.push_back({dx, dy, degrees});
  }
  return g;
}

std::string describe(const Nuisance& g) {
  std::string text = "shift (" + std::to_string(g.dx) + "," + std::to_string(g.dy) + ")";
  if (g.degrees != 0) text += ", rotation " + std::to_string(int(std::lround(g.degrees))) + "°";
  return text;
}

std::vector<int32_t> nuisance_map(const Nuisance& g, int channels, int height, int width) {
  const double theta = double(g.degrees) * std::numbers::pi / 180.0, cos_t = std::cos(theta), sin_t = std::sin(theta);
  const double cx = 0.5 * (width - 1), cy = 0.5 * (height - 1);
  const size_t plane = size_t(height) * size_t(width);
  std::vector<int32_t> map(size_t(channels) * plane, -1);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      // Undo the shift, then the rotation (the inverse of a counter-clockwise turn on a y-down
      // screen), and take the nearest template pixel.
      const double u = x - g.dx - cx, v = y - g.dy - cy;
      const long sx = std::lround(cos_t * u - sin_t * v + cx), sy = std::lround(sin_t * u + cos_t * v + cy);
      if (sx < 0 || sy < 0 || sx >= width || sy >= height) continue;
      for (int c = 0; c < channels; ++c)
        map[size_t(c) * plane + size_t(y) * size_t(width) + size_t(x)] =
            int32_t(size_t(c) * plane + size_t(sy) * size_t(width) + size_t(sx));
    }
  return map;
}

std::vector<float> ShallowRmm::render(int c, int g) const {
  const std::span<const float> mu = canonical(c);
  const std::vector<int32_t>& map = maps[size_t(g)];
  std::vector<float> out(map.size());
  for (size_t x = 0; x < map.size(); ++x) out[x] = map[x] >= 0 ? mu[size_t(map[x])] : 0.0f;
  return out;
}

ShallowRmm make_model(const Dataset& shape, int components, std::vector<Nuisance> nuisances) {
  ShallowRmm m;
  m.channels = shape.channels;
  m.height = shape.height;
  m.width = shape.width;
  m.components = components;
  m.nuisances = std::move(nuisances);
  for (const Nuisance& g : m.nuisances) m.maps.push_back(nuisance_map(g, m.channels, m.height, m.width));
  m.templates.assign(size_t(components) * m.image_size(), 0.0f);
  m.log_prior.assign(size_t(components) * m.nuisances.size(), -std::log(double(components) * double(m.nuisances.size())));
  return m;
}

EStep e_step(const ShallowRmm& model, std::span<const float> images, std::span<const int> known, ThreadPool& pool) {
  const size_t n = count_of(images, model), d = model.image_size();
  if (!known.empty() && known.size() != n) throw Error("shallow RMM: one known component per image is needed");
  const RenderedTemplates t = render_all(model);
  const int rows = int(t.offset.size());
  EStep out;
  out.chosen.resize(n);
  out.predicted.resize(n);
  std::vector<cpu::Gemm<float>> gemms(size_t(pool.size()));
  std::vector<std::vector<float>> products(size_t(pool.size()), std::vector<float>(kImagesPerProduct * size_t(rows)));
  std::vector<double> sums(size_t(pool.size()), 0.0);
  const auto templates_t = cpu::MatrixView<float>::row_major(t.pixels.data(), ptrdiff_t(d)).transposed();
  for_image_blocks(n, pool, [&](size_t first, size_t count, int worker) {
    // ⟨μ_cg|I_n⟩ for every image of the block and every (c, g): one product of the block's
    // images with the rendered templates (for shifts alone, the cross-correlations of I with μ_c).
    float* p = products[size_t(worker)].data();
    gemms[size_t(worker)].run(int(count), rows, int(d), cpu::MatrixView<float>::row_major(images.data() + first * d, ptrdiff_t(d)),
                              templates_t, p, rows, false);
    for (size_t i = 0; i < count; ++i) {
      const Choice c = choose({p + i * size_t(rows), size_t(rows)}, t, model.num_nuisances(),
                              known.empty() ? -1 : known[first + i]);
      out.chosen[first + i] = c.chosen;
      out.predicted[first + i] = c.predicted;
      sums[size_t(worker)] += c.chosen_score;
    }
  });
  for (const double s : sums) out.score_sum += s;
  return out;
}

void m_step(ShallowRmm& model, std::span<const float> images, std::span<const Assignment> assignments, ThreadPool& pool) {
  const size_t n = count_of(images, model), d = model.image_size(), k = size_t(model.components);
  const size_t g_count = size_t(model.num_nuisances());
  if (assignments.size() != n) throw Error("shallow RMM: one assignment per image is needed");
  // Per worker (summed in worker order, so the result does not depend on timing): Σ_n T_nᵀ I_n and
  // the diagonal of Σ_n T_nᵀ T_n per component, and N_cg.
  struct Sums {
    std::vector<double> back_projected, coverage, counts;
  };
  std::vector<Sums> sums(size_t(pool.size()), Sums{std::vector<double>(k * d), std::vector<double>(k * d),
                                                    std::vector<double>(k * g_count)});
  pool.parallel_for(n, [&](size_t b, size_t e, int worker) {
    Sums& s = sums[size_t(worker)];
    for (size_t i = b; i < e; ++i) {
      const Assignment a = assignments[i];
      const std::vector<int32_t>& map = model.maps[size_t(a.nuisance)];
      double* back = s.back_projected.data() + size_t(a.component) * d;
      double* cover = s.coverage.data() + size_t(a.component) * d;
      const float* image = images.data() + i * d;
      for (size_t x = 0; x < d; ++x)
        if (map[x] >= 0) back[map[x]] += double(image[x]), cover[map[x]] += 1.0;
      s.counts[size_t(a.component) * g_count + size_t(a.nuisance)] += 1.0;
    }
  });
  for (size_t w = 1; w < sums.size(); ++w) {
    for (size_t j = 0; j < k * d; ++j) sums[0].back_projected[j] += sums[w].back_projected[j], sums[0].coverage[j] += sums[w].coverage[j];
    for (size_t j = 0; j < k * g_count; ++j) sums[0].counts[j] += sums[w].counts[j];
  }
  const Sums& total = sums[0];
  // Paper 001 eq. 17 with T_g: μ_c = (Σ T_nᵀT_n)⁻¹ Σ T_nᵀ I_n, the inverse of a diagonal.
  for (size_t j = 0; j < k * d; ++j)
    if (total.coverage[j] > 0) model.templates[j] = float(total.back_projected[j] / total.coverage[j]);
  // Paper 001 eq. 17: π_cg = N_cg / N.
  for (size_t j = 0; j < k * g_count; ++j)
    model.log_prior[j] = total.counts[j] > 0 ? std::log(total.counts[j] / double(n)) : kMinusInfinity;
}

double log_likelihood(const ShallowRmm& model, std::span<const float> images, std::span<const Assignment> assignments,
                      ThreadPool& pool) {
  const size_t n = count_of(images, model), d = model.image_size();
  if (assignments.size() != n) throw Error("shallow RMM: one assignment per image is needed");
  std::vector<double> sums(size_t(pool.size()), 0.0);
  pool.parallel_for(n, [&](size_t b, size_t e, int worker) {
    for (size_t i = b; i < e; ++i) {
      const Assignment a = assignments[i];
      const std::vector<int32_t>& map = model.maps[size_t(a.nuisance)];
      const std::span<const float> mu = model.canonical(a.component);
      const float* image = images.data() + i * d;
      double squared = 0;
      for (size_t x = 0; x < d; ++x) {
        const double r = double(image[x]) - (map[x] >= 0 ? double(mu[size_t(map[x])]) : 0.0);
        squared += r * r;
      }
      // log π_cg + log N(I | μ_cg, 1) (paper 001 eq. 3–4 with σ² = 1).
      sums[size_t(worker)] += model.log_prior[size_t(a.component) * size_t(model.num_nuisances()) + size_t(a.nuisance)] -
                              0.5 * squared;
    }
  });
  double total = 0;
  for (const double s : sums) total += s;
  return total / double(n) - 0.5 * double(d) * std::log(2 * std::numbers::pi);
}

Mode parse_mode(const std::string& name) {
  if (name == "supervised") return Mode::Supervised;
  if (name == "unsupervised") return Mode::Unsupervised;
  throw Error("mode '" + name + "': expected supervised or unsupervised");
}

const char* mode_name(Mode mode) { return mode == Mode::Supervised ? "supervised" : "unsupervised"; }

std::vector<int> majority_classes(std::span<const Assignment> assignments, std::span<const int> labels, int components,
                                  int classes) {
  std::vector<size_t> votes(size_t(components) * size_t(classes), 0);
  for (size_t i = 0; i < assignments.size(); ++i)
    ++votes[size_t(assignments[i].component) * size_t(classes) + size_t(labels[i])];
  std::vector<int> majority(size_t(components), 0);
  for (int c = 0; c < components; ++c) {
    const auto row = votes.begin() + long(size_t(c) * size_t(classes));
    majority[size_t(c)] = int(std::max_element(row, row + classes) - row);
  }
  return majority;
}

Trained train_shallow_rmm(const Dataset& train, const Dataset* test, const TrainOptions& o, const Progress& progress) {
  const bool supervised = o.mode == Mode::Supervised;
  const int components = supervised ? train.num_classes() : (o.clusters > 0 ? o.clusters : train.num_classes());
  check_options(train, o, components);
  if (test && test->size() > 0 && test->image_size() != train.image_size())
    throw Error("the test images (" + test->name + ") are not the size of the training images");
  const auto start = std::chrono::steady_clock::now();
  ThreadPool pool(o.threads);
  const std::span<const float> train_images(train.pixels);
  const bool has_test = test && test->size() > 0;

  Trained state;
  state.model = make_model(train, components, make_nuisances(o.max_shift, o.rotations));
  const std::span<const int> known = supervised ? std::span<const int>(train.labels) : std::span<const int>();
  if (supervised) {
    // θ_0: every class's mean image, its share of the data spread evenly over the nuisances.
    std::vector<Assignment> unshifted(train.size());
    for (size_t i = 0; i < train.size(); ++i) unshifted[i] = {train.labels[i], 0};
    m_step(state.model, train_images, unshifted, pool);
    std::vector<double> share(size_t(components), 0.0);
    for (const int label : train.labels) share[size_t(label)] += 1.0 / double(train.size());
    set_uniform_prior(state.model, share);
  } else {
    seed_clusters(state.model, train_images, o.seed, pool);
  }

  // Hard EM is coordinate ascent on the complete-data log-likelihood J(z, θ): the E-step picks
  // each image's z maximising its own term for the current θ, the M-step the θ maximising J for
  // the current z (π by the frequencies, μ by exact least squares). Neither step can lower J, so
  // J(z_t, θ_t) ≤ J(z_{t+1}, θ_t) ≤ J(z_{t+1}, θ_{t+1}): the log_likelihood column never decreases.
  EStep assigned = e_step(state.model, train_images, known, pool);
  std::vector<Assignment> previous;
  for (int t = 1; t <= o.iterations; ++t) {
    Iteration row;
    row.iteration = t;
    const std::vector<Assignment> z = std::move(assigned.chosen);
    row.changed = previous.empty() ? z.size() : size_t(std::inner_product(z.begin(), z.end(), previous.begin(), size_t(0),
                                                                          std::plus<>(), std::not_equal_to<>()));
    m_step(state.model, train_images, z, pool);
    row.log_likelihood = log_likelihood(state.model, train_images, z, pool);
    // The next E-step assigns the training images under θ_t: the accuracy of θ_t on them, and z_{t+1}.
    assigned = e_step(state.model, train_images, known, pool);
    state.component_class = supervised ? identity_classes(components)
                                       : majority_classes(assigned.predicted, train.labels, components, train.num_classes());
    row.train_accuracy = accuracy(assigned.predicted, train.labels, state.component_class);
    row.test_accuracy = std::numeric_limits<double>::quiet_NaN();
    const size_t samples = std::min(o.samples, has_test ? test->size() : train.size());
    if (has_test) {
      const EStep on_test = e_step(state.model, std::span<const float>(test->pixels), {}, pool);
      row.test_accuracy = accuracy(on_test.predicted, test->labels, state.component_class);
      state.samples.assign(on_test.predicted.begin(), on_test.predicted.begin() + long(samples));
    } else {
      state.samples.assign(assigned.predicted.begin(), assigned.predicted.begin() + long(samples));
    }
    state.samples_from_test = has_test;
    row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.history.push_back(row);
    previous = z;
    if (progress) progress(state);
  }
  return state;
}

}  // namespace drmm::rmm
