// A full DRMM training step (bottom-up, top-down, the four losses, gradients through both
// passes, an optimiser step) on vulkan gives the same losses as on the cpu reference, step
// after step, for the tiny and ConvSmall presets.
// Tolerance: each loss term within 1e-3 relative (5e-4 absolute floor) over 3 steps, and the
// parameters after them within 1e-3 relative to their largest value — float sums in another
// order compound through two passes and three updates; observed differences are ~1e-6.
#include <gtest/gtest.h>

#include <cmath>

#include "core/model/drmm_model.h"
#include "tests/vulkan/vulkan_test_support.h"

namespace drmm::test {
namespace {

constexpr double kLossTolerance = 1e-3;
constexpr int kSteps = 3;
constexpr int kBatch = 4;

void expect_loss_close(double vk, double cpu, const std::string& what) {
  EXPECT_LE(std::abs(vk - cpu), kLossTolerance * std::max(std::abs(cpu), 0.5)) << what << ": vulkan " << vk
                                                                                << " cpu " << cpu;
}

class VulkanTrainingStep : public VulkanVsCpu {
 protected:
  void compare_training(const std::string& preset, bool adam) { compare_training(preset, load_model_spec(preset), adam); }
  // `initial_bias`: the conv biases' start (0, a flat prior, is where float noise alone moves them
  // when batch norm follows the conv).
  void compare_training(const std::string& preset, const ModelSpec& spec, bool adam, float initial_bias = 0.0f) {
    DrmmModel on_cpu(spec, cpu(), 7), on_vk(spec, vk(), 7);
    for (DrmmModel* model : {&on_cpu, &on_vk})
      for (Parameter& p : model->parameters())
        if (p.name.ends_with(".bias")) model->backend().fill(p.value, initial_bias);
    const Shape images{kBatch, spec.channels, spec.height, spec.width};
    const StepOptions options{spec.alpha};
    for (int step = 1; step <= kSteps; ++step) {
      Mirrored x = random(images, 100 + unsigned(step), 0.0f, 1.0f);
      Mirrored labels = mirrored({kBatch, 1, 1, 1}, {float(step % 10), -1.0f, 3.0f, -1.0f});  // half labeled
      const uint64_t submits = vk().submit_count();
      for (auto [model, side] : {std::pair{&on_cpu, &Mirrored::cpu}, std::pair{&on_vk, &Mirrored::vk}}) {
        model->compute_gradients(x.*side, labels.*side, options);
        if (adam) model->adam_step(2e-3f, step);
        else model->sgd_step(0.05f, 0.9f);
      }
      EXPECT_EQ(vk().submit_count(), submits) << "the step was not queued as one command buffer";
      const LossValues want = on_cpu.read_losses(), got = on_vk.read_losses();
      const std::string at = preset + " step " + std::to_string(step);
      expect_loss_close(got.h, want.h, at + " L_H");
      expect_loss_close(got.rc, want.rc, at + " L_RC");
      expect_loss_close(got.kl, want.kl, at + " L_KL");
      expect_loss_close(got.nn, want.nn, at + " L_NN");
      expect_loss_close(got.rpn, want.rpn, at + " L_RPN");
    }
    for (size_t i = 0; i < on_cpu.parameters().size(); ++i)
      expect_close(Mirrored{on_cpu.parameters()[i].value, on_vk.parameters()[i].value}, kLossTolerance,
                   preset + " " + on_cpu.parameters()[i].name);
  }
};

TEST_F(VulkanTrainingStep, TinyWithAdam) { compare_training("tiny", true); }
TEST_F(VulkanTrainingStep, ConvSmallWithSgd) { compare_training("convsmall", false); }

// The NRM options (paper 004): a bias on every conv with a ReLU, the Rendering Path Normalization
// (its bias path included) and the Max-Min network's min branch.
TEST_F(VulkanTrainingStep, TinyWithTheNrmOptions) {
  ModelSpec spec = load_model_spec("tiny");
  for (LayerSpec& layer : spec.layers)
    if (layer.kind == LayerKind::Conv && layer.relu) layer.bias = true;
  spec.max_min = true;
  spec.alpha.rpn = 1.0f;
  compare_training("tiny + NRM", spec, false, 0.1f);
}

}  // namespace
}  // namespace drmm::test
