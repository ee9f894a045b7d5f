#include "core/train/step_benchmark.h"

#include <chrono>

#include "core/model/drmm_model.h"
#include "core/util/random.h"

namespace drmm {

StepTiming time_training_step(Backend& backend, const ModelSpec& spec, int batch, int steps, int warmup) {
  DrmmModel model(spec, backend, 1);
  Random random(2);
  Tensor images = backend.alloc(Shape{batch, spec.channels, spec.height, spec.width});
  std::vector<float> pixels(images.count());
  for (float& p : pixels) p = float(random.uniform());
  backend.upload(images, pixels);
  std::vector<float> label_values(size_t(batch), -1.0f);
  for (int i = 0; i < batch / 2; ++i) label_values[size_t(i)] = float(random.below(uint64_t(spec.classes)));
  Tensor labels = backend.alloc(Shape{batch, 1, 1, 1});
  backend.upload(labels, label_values);
  const StepOptions options{spec.alpha, false, true};
  auto one_step = [&] {
    model.compute_gradients(images, labels, options);
    model.sgd_step(0.01f, 0.9f);
    model.read_losses();  // waits for the step, as training does
  };
  for (int i = 0; i < warmup; ++i) one_step();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) one_step();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return StepTiming{double(batch) * steps / seconds, seconds / steps};
}

}  // namespace drmm
