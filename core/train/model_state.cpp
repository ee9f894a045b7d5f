#include "core/train/model_state.h"

#include <algorithm>
#include <cmath>

#include "core/util/error.h"

namespace drmm {
namespace {

constexpr size_t kEvalBatch = 500;  // images per evaluation batch

// Every tensor a checkpoint holds for the model, by name, with the model's tensor.
template <class Visit>
void for_each_state_tensor(DrmmModel& model, Visit visit) {
  for (Parameter& p : model.parameters()) {
    visit(p.name, p.value);
    visit(p.name + ".state1", p.state1);
    visit(p.name + ".state2", p.state2);
  }
  for (Buffer& b : model.buffers()) visit(b.name, b.value);
}

}  // namespace

void store_model_state(DrmmModel& model, CheckpointContents& contents) {
  Backend& backend = model.backend();
  for_each_state_tensor(model, [&](const std::string& name, Tensor& t) {
    contents.arrays.push_back(NamedArray{name, t.shape(), backend.download(t)});
  });
}

void restore_model_state(DrmmModel& model, const CheckpointContents& contents, const std::string& path) {
  // Every tensor is checked before any is loaded, so a refused file leaves the model as it was.
  std::vector<std::pair<Tensor*, const NamedArray*>> loads;
  for_each_state_tensor(model, [&](const std::string& name, Tensor& t) {
    const NamedArray& a = contents.find(name, path);
    if (a.shape != t.shape())
      throw FileError(path, "tensor '" + name + "' has shape " + a.shape.str() + " but the model needs " + t.shape().str());
    if (const auto bad = std::find_if(a.values.begin(), a.values.end(), [](float v) { return !std::isfinite(v); });
        bad != a.values.end())
      throw FileError(path, "tensor '" + name + "' holds a non-finite value (" + std::to_string(*bad) + " at element " +
                                std::to_string(bad - a.values.begin()) + "): the run that wrote it had diverged");
    loads.emplace_back(&t, &a);
  });
  for (auto [tensor, array] : loads) model.backend().upload(*tensor, array->values);
}

ModelSpec model_spec_of(const CheckpointContents& contents, const std::string& path) {
  if (!contents.meta.contains("model")) throw FileError(path, "checkpoint has no model description");
  return ModelSpec::from_json(contents.meta["model"], path);
}

std::unique_ptr<DrmmModel> load_model(const CheckpointContents& contents, const std::string& path, Backend& backend) {
  auto model = std::make_unique<DrmmModel>(model_spec_of(contents, path), backend, 0);
  restore_model_state(*model, contents, path);
  return model;
}

namespace {

// Runs bottom-up (inference mode) on `pixels`, whole images of the model's input, in batches;
// after each, `take(n)` reads what it needs of the n images' levels from the model.
void bottom_up_in_batches(DrmmModel& model, std::span<const float> pixels, const std::function<void(size_t n)>& take) {
  const ModelSpec& spec = model.spec();
  const size_t image_size = spec.image_size();
  if (pixels.size() % image_size != 0)
    throw Error("extract_features: " + std::to_string(pixels.size()) + " values are not whole images of " +
                std::to_string(image_size));
  Backend& backend = model.backend();
  const size_t rows = pixels.size() / image_size;
  for (size_t first = 0; first < rows; first += kEvalBatch) {
    const size_t n = std::min(kEvalBatch, rows - first);
    Tensor images = backend.alloc(Shape{int(n), spec.channels, spec.height, spec.width});
    backend.upload(images, pixels.subspan(first * image_size, n * image_size));
    model.bottom_up(images, false);
    take(n);
  }
}

}  // namespace

FeatureMatrix extract_features(DrmmModel& model, std::span<const float> pixels, size_t level) {
  const ModelSpec& spec = model.spec();
  if (level >= spec.layers.size()) throw Error("no level " + std::to_string(level) + " in model '" + spec.name + "'");
  FeatureMatrix result;
  result.shape = spec.layers[level].output;
  result.values.reserve(pixels.size() / spec.image_size() * result.shape.count());
  bottom_up_in_batches(model, pixels, [&](size_t n) {
    const std::vector<float> out = model.backend().download(model.level_output(level));
    result.values.insert(result.values.end(), out.begin(), out.end());
    result.rows += n;
  });
  return result;
}

void for_each_level_batch(DrmmModel& model, std::span<const float> pixels,
                          const std::function<void(size_t level, const FeatureMatrix& batch)>& take) {
  const ModelSpec& spec = model.spec();
  bottom_up_in_batches(model, pixels, [&](size_t n) {
    for (size_t level = 0; level < spec.layers.size(); ++level)
      take(level, FeatureMatrix{n, spec.layers[level].output, model.backend().download(model.level_output(level))});
  });
}

FeatureMatrix extract_features(DrmmModel& model, const Dataset& data, std::span<const size_t> indices, size_t level) {
  return extract_features(model, gather_images(data, indices), level);
}

void measure_latent_frequencies(DrmmModel& model, const Dataset& data, size_t limit,
                                const std::function<void(size_t, size_t)>& progress) {
  const size_t count = limit ? std::min(limit, data.size()) : data.size();
  if (count == 0) throw Error("measure_latent_frequencies: dataset '" + data.name + "' has no images");
  const size_t layers = model.spec().layers.size();
  std::vector<std::vector<double>> sums(layers);
  Backend& backend = model.backend();
  for (size_t first = 0; first < count; first += kEvalBatch) {
    const size_t n = std::min(kEvalBatch, count - first);
    model.bottom_up(model.upload_images(data.images(first, n)), false);
    for (size_t i = 0; i < layers; ++i) {
      if (!model.has_latents(i)) continue;
      const std::vector<float> latents = backend.download(model.latents(i));
      const size_t per_image = latents.size() / n;
      sums[i].resize(per_image, 0.0);
      for (size_t j = 0; j < latents.size(); ++j) sums[i][j % per_image] += double(latents[j]);
    }
    if (progress) progress(first + n, count);
  }
  for (size_t i = 0; i < layers; ++i) {
    if (!model.has_latents(i)) continue;
    std::vector<float> pi(sums[i].size());
    for (size_t j = 0; j < pi.size(); ++j) pi[j] = float(sums[i][j] / double(count));
    model.set_latent_frequencies(i, pi);
  }
}

EvalResult evaluate_model(DrmmModel& model, const Dataset& data, size_t limit) {
  const ModelSpec& spec = model.spec();
  if (data.channels != spec.channels || data.height != spec.height || data.width != spec.width ||
      data.num_classes() != spec.classes)
    throw Error("dataset '" + data.name + "' does not fit model '" + spec.name + "' (image size or class count)");
  const size_t count = limit ? std::min(limit, data.size()) : data.size();
  const int classes = spec.classes;
  EvalResult result;
  result.count = count;
  result.confusion.assign(size_t(classes), std::vector<size_t>(size_t(classes), 0));
  size_t correct = 0;
  for (size_t first = 0; first < count; first += kEvalBatch) {
    const size_t n = std::min(kEvalBatch, count - first);
    model.bottom_up(model.upload_images(data.images(first, n)), false);
    const std::vector<float> q = model.backend().download(model.class_probabilities());
    const std::vector<float> scores = model.backend().download(model.class_scores());
    result.scores.insert(result.scores.end(), scores.begin(), scores.end());
    for (size_t i = 0; i < n; ++i) {
      const float* row = q.data() + i * classes;
      const int predicted = int(std::max_element(row, row + classes) - row);
      result.predicted.push_back(predicted);
      const int truth = data.labels[first + i];
      correct += predicted == truth;
      ++result.confusion[size_t(truth)][size_t(predicted)];
    }
  }
  result.accuracy = count ? double(correct) / double(count) : 0.0;
  return result;
}

}  // namespace drmm
