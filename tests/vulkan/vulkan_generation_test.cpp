// Rendering paths, generation and activity maximization run on the Backend interface: on vulkan
// they give what the cpu reference gives, for the tiny and ConvSmall presets. The model is the
// same (same seed), after one training step so that batch norm's statistics are not the identity.
// Tolerance 1e-3 relative to the largest reference value, as the training-step test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/analysis/activity_max.h"
#include "core/model/rendering_path.h"
#include "core/model/sampler.h"
#include "tests/vulkan/vulkan_test_support.h"

namespace drmm::test {
namespace {

constexpr double kTolerance = 1e-3;

void expect_values_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 1e-6, worst = 0;
  for (float v : want) scale = std::max(scale, double(std::abs(v)));
  for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(double(got[i]) - double(want[i])));
  EXPECT_LE(worst / scale, kTolerance) << what << " (max |cpu| " << scale << ")";
}

class VulkanGeneration : public VulkanVsCpu {
 protected:
  void compare(const std::string& preset) {
    const ModelSpec spec = load_model_spec(preset);
    DrmmModel on_cpu(spec, cpu(), 7), on_vk(spec, vk(), 7);
    const Shape batch{4, spec.channels, spec.height, spec.width};
    Mirrored x = random(batch, 3, 0.0f, 1.0f);
    Mirrored labels = mirrored({4, 1, 1, 1}, {1.0f, -1.0f, 3.0f, -1.0f});
    for (auto [model, side] : {std::pair{&on_cpu, &Mirrored::cpu}, std::pair{&on_vk, &Mirrored::vk}}) {
      model->compute_gradients(x.*side, labels.*side, StepOptions{spec.alpha});
      model->sgd_step(0.05f, 0.9f);
    }
    const std::vector<float> image = random_values(batch.per_image(), 5, 0.0f, 1.0f);

    const RenderingPath want = infer_path(on_cpu, image), got = infer_path(on_vk, image);
    ASSERT_EQ(got.predicted, want.predicted) << preset;
    expect_values_close(got.rendered, want.rendered, preset + " Î");
    for (size_t k = 0; k < want.levels.size(); ++k) {
      EXPECT_EQ(got.levels[k].on, want.levels[k].on) << preset << " latents of " << want.levels[k].name;
      expect_values_close(got.levels[k].contribution, want.levels[k].contribution, preset + " contributions of " + want.levels[k].name);
    }
    PathEdit edit(want);
    edit.set_channel(0, 0, true);
    edit.set_channel(want.levels.size() - 1, 1, true);
    expect_values_close(render_edited(on_vk, want, edit), render_edited(on_cpu, want, edit), preset + " edited Î");

    const auto closed_cpu = closed_form_activity_max(on_cpu, 10.0, 1), closed_vk = closed_form_activity_max(on_vk, 10.0, 1);
    for (size_t c = 0; c < closed_cpu.size(); ++c)
      expect_values_close(closed_vk[c].image, closed_cpu[c].image, preset + " closed form, class " + std::to_string(c));

    for (const UnitTarget target : {class_target(spec, 2), UnitTarget{0, 1}}) {
      unit_activity(on_cpu, image, target);
      unit_activity(on_vk, image, target);
      expect_values_close(vk().download(on_vk.input_gradient(target.level, target.channel)),
                          cpu().download(on_cpu.input_gradient(target.level, target.channel)),
                          preset + " input gradient of layer " + std::to_string(target.level));
    }
    expect_values_close(sample_class(on_vk, 4, 3, 9), sample_class(on_cpu, 4, 3, 9), preset + " samples");
  }
};

TEST_F(VulkanGeneration, TinyPathsClosedFormInputGradientAndSamplesMatchTheCpu) { compare("tiny"); }
TEST_F(VulkanGeneration, ConvSmallPathsClosedFormInputGradientAndSamplesMatchTheCpu) { compare("convsmall"); }

}  // namespace
}  // namespace drmm::test
