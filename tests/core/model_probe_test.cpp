// A model's levels probed on a dataset (core/analysis/model_probe.h), what `drmm probe` and the
// studio's Nuisance decoding panel both run: one score per (level, target) with the pixels first
// and every hidden layer after, the pixels of the chosen images (not the first ones), the
// synthetic set that fits a model's input, and a clear error for one that does not.
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/analysis/model_probe.h"
#include "core/backend/cpu/cpu_backend.h"
#include "core/data/synthetic.h"
#include "core/model/drmm_model.h"
#include "core/util/error.h"

namespace drmm::analysis {
namespace {

ProbeOptions small_probe() {
  ProbeOptions options;
  options.max_features = 64;
  options.threads = 2;
  return options;
}

// Throws unless `what` throws a drmm::Error whose message holds every one of `parts`.
void expect_error_naming(const std::function<void()>& what, const std::vector<std::string>& parts) {
  try {
    what();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    for (const std::string& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(ProbeModel, ScoresThePixelsOfTheChosenImagesThenEveryHiddenLayerForTheClassAndEachNuisance) {
  const Dataset data = make_synthetic({.rgb = false, .count = 400, .seed = 3});
  CpuBackend backend(2);
  DrmmModel model(load_model_spec("tiny").fitted_to(1, 28, 28, 10), backend, 1);
  std::vector<size_t> odd;  // not the first images: the levels and targets must follow the indices
  for (size_t i = 1; i < data.size(); i += 2) odd.push_back(i);
  const std::vector<ProbeScore> scores = probe_model(model, data, odd, small_probe());

  const ModelSpec& spec = model.spec();
  const size_t targets = 1 + data.nuisance_names.size(), levels = spec.layers.size();  // pixels + all layers but the class scores
  ASSERT_EQ(scores.size(), levels * targets);
  for (size_t l = 0; l < levels; ++l)
    for (size_t t = 0; t < targets; ++t) {
      const ProbeScore& s = scores[l * targets + t];
      EXPECT_EQ(s.level, l);
      EXPECT_EQ(s.level_name, l == 0 ? std::string("pixels") : spec.layers[l - 1].name);
      EXPECT_EQ(s.target, t == 0 ? std::string("class") : data.nuisance_names[t - 1]);
      EXPECT_EQ(s.discrete, t == 0);
      EXPECT_LE(s.features, 64u);
    }

  // The pixel level alone, from a dataset holding only the odd images: the same scores.
  ProbeLevel pixels{"pixels", odd.size(), 1, 28, 28, gather_images(data, odd)};
  std::vector<ProbeTarget> wanted{{"class", true, {}}};
  for (size_t i : odd) wanted[0].values.push_back(float(data.labels[i]));
  const size_t k = data.nuisance_names.size();
  for (size_t j = 0; j < k; ++j) {
    wanted.push_back({data.nuisance_names[j], false, {}});
    for (size_t i : odd) wanted.back().values.push_back(data.nuisances[i * k + j]);
  }
  const std::vector<ProbeScore> alone = probe_levels({pixels}, wanted, small_probe());
  ASSERT_EQ(alone.size(), targets);
  for (size_t t = 0; t < targets; ++t) EXPECT_DOUBLE_EQ(scores[t].score, alone[t].score) << alone[t].target;
}

TEST(ProbeModel, DataOfAnotherShapeOrWithoutNuisancesIsAClearError) {
  CpuBackend backend(1);
  DrmmModel model(load_model_spec("tiny").fitted_to(1, 28, 28, 10), backend, 1);
  const Dataset rgb = make_synthetic({.rgb = true, .count = 40, .seed = 1});
  const std::vector<size_t> first{0, 1, 2};
  expect_error_naming([&] { probe_model(model, rgb, first, small_probe()); }, {"1×28×28", "3×32×32"});
  Dataset plain = make_synthetic({.rgb = false, .count = 40, .seed = 1});
  plain.nuisance_names.clear();
  plain.nuisances.clear();
  expect_error_naming([&] { probe_model(model, plain, first, small_probe()); }, {"no known nuisances"});
}

TEST(ProbeModel, TheSyntheticSetIsTheOneOfTheModelsInputShape) {
  const ModelSpec tiny = load_model_spec("tiny");
  EXPECT_EQ(synthetic_set_for(tiny.fitted_to(1, 28, 28, 10)), "synthetic");
  EXPECT_EQ(synthetic_set_for(tiny.fitted_to(3, 32, 32, 10)), "synthetic-rgb");
  expect_error_naming([&] { synthetic_set_for(tiny.fitted_to(1, 32, 32, 10)); }, {"1×32×32", "1×28×28", "3×32×32"});
}

TEST(ProbeModel, TheCsvHasOneRowPerScoreUnderItsModel) {
  const ProbeScore accuracy{0, "pixels", "class", true, 484, 1000, 0.5, 0.1};
  const ProbeScore r2{1, "conv1", "shift_x", false, 512, 10, 0.75, 0};
  EXPECT_EQ(probe_table_csv({"drmm", "cnn"}, {{accuracy}, {r2}}),
            "model,level,layer,target,kind,features,lambda,score,chance\n"
            "drmm,0,pixels,class,accuracy,484,1000,0.5,0.1\n"
            "cnn,1,conv1,shift_x,r2,512,10,0.75,0\n");
}

}  // namespace
}  // namespace drmm::analysis
