#include "core/model/sampler.h"

#include <algorithm>
#include <cmath>

#include "core/util/error.h"
#include "core/util/random.h"

namespace drmm {
namespace {

// The frequencies at temperature τ: p^(1/τ), renormalised against the other outcomes (for a
// Bernoulli, against (1 − p)^(1/τ); a pooling window's positions are normalised when drawn).
// τ < 1 draws closer to the most probable latents, τ = 1 is the plain draw.
std::vector<float> sharpened(std::vector<float> pi, double temperature, bool categorical) {
  for (float& p : pi) {
    const double up = std::pow(std::max(0.0, double(p)), 1.0 / temperature);
    p = float(categorical ? up : up / (up + std::pow(std::max(0.0, 1.0 - double(p)), 1.0 / temperature)));
  }
  return pi;
}

// a ~ Bernoulli(π_a) for every unit of every image.
void draw_templates(const std::vector<float>& pi, int count, Random& random, std::vector<float>& out) {
  out.resize(pi.size() * size_t(count));
  for (size_t i = 0; i < out.size(); ++i) out[i] = random.uniform() < double(pi[i % pi.size()]) ? 1.0f : 0.0f;
}

// One position per k×k window ~ Cat(π_t over the window), for every image. A window whose
// frequencies are all 0 (never seen) draws uniformly.
void draw_positions(const std::vector<float>& pi, Shape shape, int k, int count, Random& random, std::vector<float>& out) {
  out.assign(pi.size() * size_t(count), 0.0f);
  const size_t plane = size_t(shape.h) * size_t(shape.w);
  for (int n = 0; n < count; ++n)
    for (int c = 0; c < shape.c; ++c)
      for (int y = 0; y < shape.h; y += k)
        for (int x = 0; x < shape.w; x += k) {
          auto at = [&](int dy, int dx) { return size_t(c) * plane + size_t(y + dy) * size_t(shape.w) + size_t(x + dx); };
          double total = 0;
          for (int d = 0; d < k * k; ++d) total += std::max(0.0f, pi[at(d / k, d % k)]);
          double pick = random.uniform() * (total > 0 ? total : double(k * k));
          int chosen = k * k - 1;
          for (int d = 0; d < k * k; ++d) {
            pick -= total > 0 ? std::max(0.0f, pi[at(d / k, d % k)]) : 1.0;
            if (pick < 0) {
              chosen = d;
              break;
            }
          }
          out[size_t(n) * pi.size() + at(chosen / k, chosen % k)] = 1.0f;
        }
}

}  // namespace

std::vector<float> sample_class(DrmmModel& model, int cls, int count, uint64_t seed, const PathStatistics* conditional,
                                double temperature) {
  if (!(temperature > 0)) throw Error("sample: the temperature must be above 0");
  if (count <= 0) throw Error("sample: the count must be at least 1");
  const Tensor classes = model.class_onehots(std::vector<int>(size_t(count), cls));
  const ModelSpec& spec = model.spec();
  Random random(seed);
  model.use_batch(count);
  if (conditional && conditional->frequency.size() != size_t(spec.classes))
    throw Error("sample: the class-conditional frequencies are for another model");
  std::vector<float> latents;
  for (size_t i = 0, level = 0; i < spec.layers.size(); ++i) {
    if (!model.has_latents(i)) continue;
    const std::vector<float> pi =
        conditional ? conditional->frequency[size_t(cls)].at(level++) : model.backend().download(model.latent_frequencies(i));
    const LayerSpec& layer = spec.layers[i];
    const bool pool = layer.kind == LayerKind::MaxPool;
    const std::vector<float> sharp = temperature == 1.0 ? pi : sharpened(pi, temperature, pool);
    if (pool) draw_positions(sharp, layer.input, layer.kernel, count, random, latents);
    else draw_templates(sharp, count, random, latents);
    model.set_latents(i, latents);
  }
  return model.backend().download(model.render_classes(classes));
}

std::vector<float> render_like(DrmmModel& model, std::span<const float> image, const std::vector<int>& classes) {
  const size_t d = model.spec().image_size();
  if (image.size() != d)
    throw Error("render: model '" + model.spec().name + "' takes images of " + std::to_string(d) + " values, got " +
                std::to_string(image.size()));
  if (classes.empty()) return {};
  // The same image once per class: the bottom-up pass infers the same latents for each copy.
  std::vector<float> copies;
  for (size_t n = 0; n < classes.size(); ++n) copies.insert(copies.end(), image.begin(), image.end());
  const Tensor onehots = model.class_onehots(classes);
  model.bottom_up(model.upload_images(copies), false);
  return model.backend().download(model.render_classes(onehots));
}

std::vector<int> classify(DrmmModel& model, std::span<const float> images) {
  model.bottom_up(model.upload_images(images), false);
  const std::vector<float> q = model.backend().download(model.class_probabilities());
  const size_t c = size_t(model.spec().classes);
  std::vector<int> predicted(q.size() / c);
  for (size_t i = 0; i < predicted.size(); ++i)
    predicted[i] = int(std::max_element(q.begin() + std::ptrdiff_t(i * c), q.begin() + std::ptrdiff_t((i + 1) * c)) -
                       (q.begin() + std::ptrdiff_t(i * c)));
  return predicted;
}

std::vector<double> sample_classification_rates(DrmmModel& model, int per_class, uint64_t seed,
                                                const PathStatistics* conditional, double temperature) {
  std::vector<double> rates;
  for (int c = 0; c < model.spec().classes; ++c) {
    const std::vector<float> samples = sample_class(model, c, per_class, seed + uint64_t(c), conditional, temperature);
    const std::vector<int> predicted = classify(model, samples);
    rates.push_back(double(std::count(predicted.begin(), predicted.end(), c)) / double(per_class));
  }
  return rates;
}

}  // namespace drmm
