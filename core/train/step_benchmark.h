#pragma once
// Times the full DRMM training step (bottom-up, top-down, all four losses, gradients through
// both passes, an SGD update) on random data, for `drmm bench`.
#include "core/backend/backend.h"
#include "core/model/model_spec.h"

namespace drmm {

struct StepTiming {
  double images_per_second = 0;
  double seconds_per_step = 0;
};

// Half of each batch labeled, as in training; `warmup` untimed steps first.
StepTiming time_training_step(Backend& backend, const ModelSpec& spec, int batch, int steps, int warmup);

}  // namespace drmm
