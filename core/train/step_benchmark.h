#pragma once
// Times the full DRMM training step (bottom-up, top-down, all four losses, gradients through
// both passes, an SGD update) on random data, for `drmm bench`.
#include <memory>

#include "core/backend/backend.h"
#include "core/model/drmm_model.h"
#include "core/model/model_spec.h"

namespace drmm {

struct StepTiming {
  double images_per_second = 0;
  double seconds_per_step = 0;
};

// One model and one batch (half of it labeled, as in training), set up and warmed up once,
// then timed as often as asked: `drmm bench` interleaves rounds of it with rounds of the
// PyTorch reference so that both see the machine in the same state.
class TrainingStepTimer {
 public:
  TrainingStepTimer(Backend& backend, const ModelSpec& spec, int batch, int warmup);
  StepTiming time(int steps);

 private:
  void one_step();

  int batch_;
  std::unique_ptr<DrmmModel> model_;
  Tensor images_, labels_;
  StepOptions options_;
};

}  // namespace drmm
