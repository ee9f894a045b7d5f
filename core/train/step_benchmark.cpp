#include "core/train/step_benchmark.h"

#include <chrono>

#include "core/util/random.h"

namespace drmm {

TrainingStepTimer::TrainingStepTimer(Backend& backend, const ModelSpec& spec, int batch, int warmup)
    : batch_(batch), model_(std::make_unique<DrmmModel>(spec, backend, 1)),
      options_{spec.alpha, false, true} {
  Random random(2);
  images_ = backend.alloc(Shape{batch, spec.channels, spec.height, spec.width});
  std::vector<float> pixels(images_.count());
  for (float& p : pixels) p = float(random.uniform());
  backend.upload(images_, pixels);
  std::vector<float> label_values(size_t(batch), -1.0f);
  for (int i = 0; i < batch / 2; ++i) label_values[size_t(i)] = float(random.below(uint64_t(spec.classes)));
  labels_ = backend.alloc(Shape{batch, 1, 1, 1});
  backend.upload(labels_, label_values);
  for (int i = 0; i < warmup; ++i) one_step();
}

void TrainingStepTimer::one_step() {
  model_->compute_gradients(images_, labels_, options_);
  model_->sgd_step(0.01f, 0.9f);
  model_->read_losses();  // waits for the step, as training does
}

StepTiming TrainingStepTimer::time(int steps) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) one_step();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return StepTiming{double(batch_) * steps / seconds, seconds / steps};
}

}  // namespace drmm
