#include "core/analysis/activity_max.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/util/error.h"
#include "core/util/random.h"

namespace drmm {
namespace {

void scale_to_norm(std::span<float> image, double norm) {
  const double current = image_norm(image);
  if (current <= 0) return;
  for (float& v : image) v = float(double(v) * norm / current);
}

// Mean of channel `channel` of a N×C×H×W tensor's values, per image.
std::vector<double> channel_means(const std::vector<float>& values, Shape shape, int channel) {
  std::vector<double> means(size_t(shape.n), 0.0);
  const size_t area = size_t(shape.h) * size_t(shape.w);
  for (int n = 0; n < shape.n; ++n) {
    const float* p = values.data() + (size_t(n) * size_t(shape.c) + size_t(channel)) * area;
    for (size_t i = 0; i < area; ++i) means[size_t(n)] += p[i];
    means[size_t(n)] /= double(area);
  }
  return means;
}

// Class scores s_c of image n for class n, and q, of a batch of one image per class.
std::vector<UnitActivity> class_activities(DrmmModel& model, std::span<const float> images) {
  model.bottom_up(model.upload_images(images), false);
  const size_t last = model.spec().layers.size() - 1;
  const std::vector<float> scores = model.backend().download(model.level_output(last));
  const std::vector<float> q = model.backend().download(model.class_probabilities());
  const size_t c = size_t(model.spec().classes);
  std::vector<UnitActivity> out(scores.size() / c);
  for (size_t n = 0; n < out.size(); ++n) {
    out[n].score = scores[n * c + n % c];
    out[n].class_probabilities.assign(q.begin() + std::ptrdiff_t(n * c), q.begin() + std::ptrdiff_t((n + 1) * c));
  }
  return out;
}

// The greedy latent choice of the closed form, for one layer, from the z rendered there.
void choose_best_latents(DrmmModel& model, size_t layer, const Tensor& z) {
  const LayerSpec& spec = model.spec().layers[layer];
  std::vector<float> values = model.backend().download(z);
  if (spec.kind == LayerKind::Conv) {
    for (float& v : values) v = v > 0.0f ? 1.0f : 0.0f;  // a = [z > 0]
    model.set_latents(layer, values);
    return;
  }
  // t* = argmax of π_t in each window (the first on ties), the same for every image.
  const std::vector<float> pi = model.backend().download(model.latent_frequencies(layer));
  const Shape shape = spec.input;
  const int k = spec.kernel;
  std::vector<float> best(pi.size(), 0.0f);
  for (int c = 0; c < shape.c; ++c)
    for (int y = 0; y < shape.h; y += k)
      for (int x = 0; x < shape.w; x += k) {
        size_t arg = 0;
        float top = -1.0f;
        for (int d = 0; d < k * k; ++d) {
          const size_t at = (size_t(c) * size_t(shape.h) + size_t(y + d / k)) * size_t(shape.w) + size_t(x + d % k);
          if (pi[at] > top) top = pi[at], arg = at;
        }
        best[arg] = 1.0f;
      }
  for (size_t i = 0; i < values.size(); ++i) values[i] = best[i % best.size()];
  model.set_latents(layer, values);
}

std::vector<float> roll(const std::vector<float>& image, const ModelSpec& spec, int dy, int dx) {
  std::vector<float> out(image.size());
  const int h = spec.height, w = spec.width;
  for (int c = 0; c < spec.channels; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        out[(size_t(c) * size_t(h) + size_t((y + dy + h) % h)) * size_t(w) + size_t((x + dx + w) % w)] =
            image[(size_t(c) * size_t(h) + size_t(y)) * size_t(w) + size_t(x)];
  return out;
}

// Adds −weight·∂TV/∂I, TV = Σ (I[y][x+1] − I[y][x])² + (I[y+1][x] − I[y][x])².
void add_tv_descent(const std::vector<float>& image, const ModelSpec& spec, double weight, std::vector<double>& grad) {
  const int h = spec.height, w = spec.width;
  for (int c = 0; c < spec.channels; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const size_t at = (size_t(c) * size_t(h) + size_t(y)) * size_t(w) + size_t(x);
        double d = 0;
        if (x + 1 < w) d -= 2.0 * (image[at + 1] - image[at]);
        if (x > 0) d += 2.0 * (image[at] - image[at - 1]);
        if (y + 1 < h) d -= 2.0 * (image[at + size_t(w)] - image[at]);
        if (y > 0) d += 2.0 * (image[at] - image[at - size_t(w)]);
        grad[at] -= weight * d;
      }
}

}  // namespace

UnitTarget class_target(const ModelSpec& spec, int cls) {
  if (cls < 0 || cls >= spec.classes)
    throw Error("activity maximization: no class " + std::to_string(cls) + " (the model has " +
                std::to_string(spec.classes) + ")");
  return UnitTarget{spec.layers.size() - 1, cls};
}

void check_target(const ModelSpec& spec, const UnitTarget& target) {
  if (target.level >= spec.layers.size())
    throw Error("activity maximization: no layer " + std::to_string(target.level) + " (the model has " +
                std::to_string(spec.layers.size()) + ")");
  const LayerSpec& layer = spec.layers[target.level];
  if (target.channel < 0 || target.channel >= layer.output.c)
    throw Error("activity maximization: " + layer.name + " has no unit " + std::to_string(target.channel) + " (it has " +
                std::to_string(layer.output.c) + ")");
}

UnitActivity unit_activity(DrmmModel& model, std::span<const float> image, const UnitTarget& target) {
  check_target(model.spec(), target);
  model.bottom_up(model.upload_images(image), false);
  const Tensor& out = model.level_output(target.level);
  UnitActivity activity;
  activity.score = channel_means(model.backend().download(out), out.shape(), target.channel).at(0);
  activity.class_probabilities = model.backend().download(model.class_probabilities());
  return activity;
}

double image_norm(std::span<const float> image) {
  double sum = 0;
  for (float v : image) sum += double(v) * double(v);
  return std::sqrt(sum);
}

double mean_image_norm(const Dataset& data, size_t limit) {
  const size_t n = std::min(limit, data.size());
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += image_norm(data.image(i));
  return n ? sum / double(n) : 1.0;
}

std::vector<ClosedFormImage> closed_form_activity_max(DrmmModel& model, double norm, int refinements,
                                                      ClosedFormTemplates templates) {
  const ModelSpec& spec = model.spec();
  const int classes = spec.classes;
  const size_t d = spec.image_size(), last = spec.layers.size() - 1;
  std::vector<int> class_of_image(static_cast<size_t>(classes));
  for (int c = 0; c < classes; ++c) class_of_image[size_t(c)] = c;
  const Tensor onehot = model.class_onehots(class_of_image);
  const DrmmModel::LatentChooser choose = [&](size_t layer, const Tensor& z) { choose_best_latents(model, layer, z); };
  // The templates of class n for image n with the current latents; `chosen`: pick the latents on the way.
  auto render = [&](bool chosen) {
    if (templates == ClosedFormTemplates::Score) return model.input_gradient(last, class_of_image, chosen ? &choose : nullptr);
    return model.render_classes(onehot, chosen ? &choose : nullptr);
  };

  model.use_batch(classes);
  std::vector<float> images = model.backend().download(render(true));
  std::vector<ClosedFormImage> best(static_cast<size_t>(classes));
  for (int round = 0;; ++round) {
    for (int c = 0; c < classes; ++c) scale_to_norm(std::span<float>(images).subspan(size_t(c) * d, d), norm);
    const std::vector<UnitActivity> activity = class_activities(model, images);  // also infers their latents
    for (size_t c = 0; c < size_t(classes); ++c)
      if (round == 0 || activity[c].score > best[c].activity.score)
        best[c] = ClosedFormImage{int(c), std::vector<float>(images.begin() + std::ptrdiff_t(c * d),
                                                             images.begin() + std::ptrdiff_t((c + 1) * d)),
                                  activity[c]};
    if (round == refinements) break;
    images = model.backend().download(render(false));  // from the latents just inferred
  }
  return best;
}

std::vector<double> best_class_scores(DrmmModel& model, const Dataset& data, size_t limit) {
  const ModelSpec& spec = model.spec();
  if (data.image_size() != spec.image_size())
    throw Error("activity maximization: the images of '" + data.name + "' do not fit model '" + spec.name + "'");
  const size_t total = std::min(limit, data.size()), c = size_t(spec.classes), batch = 100;
  std::vector<double> best(c, -std::numeric_limits<double>::infinity());
  for (size_t first = 0; first < total; first += batch) {
    const size_t n = std::min(batch, total - first);
    model.bottom_up(model.upload_images(data.images(first, n)), false);
    const std::vector<float> scores = model.backend().download(model.level_output(spec.layers.size() - 1));
    for (size_t i = 0; i < n; ++i) {
      const size_t label = size_t(data.labels[first + i]);
      if (label < c) best[label] = std::max(best[label], double(scores[i * c + label]));
    }
  }
  return best;
}

// ---- gradient ascent --------------------------------------------------------------------------

GradientAscent::GradientAscent(const ModelSpec& spec, UnitTarget target, std::vector<float> start,
                               GradientAscentOptions options)
    : spec_(spec), target_(target), options_(options), random_state_(options.seed) {
  check_target(spec_, target_);
  set_image(std::move(start));
}

void GradientAscent::set_target(const UnitTarget& target) {
  check_target(spec_, target);
  target_ = target;
}

void GradientAscent::set_image(std::vector<float> image) {
  if (image.size() != spec_.image_size())
    throw Error("activity maximization: the start image has " + std::to_string(image.size()) + " values, model '" +
                spec_.name + "' takes " + std::to_string(spec_.image_size()));
  image_ = std::move(image);
}

double GradientAscent::step(DrmmModel& model) {
  Random random(random_state_);
  const int j = std::max(0, options_.jitter);
  const int dy = j ? int(random.below(uint64_t(2 * j + 1))) - j : 0;
  const int dx = j ? int(random.below(uint64_t(2 * j + 1))) - j : 0;
  random_state_ = random.next_u64();

  const std::vector<float> shifted = roll(image_, spec_, dy, dx);
  const UnitActivity activity = unit_activity(model, shifted, target_);
  const std::vector<float> unit_grad = roll(model.backend().download(model.input_gradient(target_.level, target_.channel)),
                                            spec_, -dy, -dx);
  // ∇ of s(I) − l2·½‖I − mean‖² − tv·TV(I).
  std::vector<double> grad(image_.size());
  for (size_t i = 0; i < grad.size(); ++i) grad[i] = unit_grad[i] - options_.l2 * (image_[i] - options_.mean);
  add_tv_descent(image_, spec_, options_.tv, grad);
  double square = 0;
  for (double g : grad) square += g * g;
  const double rms = std::sqrt(square / double(grad.size()));
  if (rms > 0)
    for (size_t i = 0; i < image_.size(); ++i)
      image_[i] = std::clamp(float(image_[i] + options_.step * grad[i] / rms), options_.low, options_.high);
  ++steps_;
  return activity.score;
}

std::vector<float> noise_image(const ModelSpec& spec, uint64_t seed, float mean, float amplitude) {
  Random random(seed);
  std::vector<float> image(spec.image_size());
  for (float& v : image) v = mean + float(random.uniform(-amplitude, amplitude));
  return image;
}

}  // namespace drmm
