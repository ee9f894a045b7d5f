#include "core/train/config_json.h"

namespace drmm {

nlohmann::json config_to_json(const TrainConfig& c) {
  return {{"dataset", c.dataset},
          {"preset", c.preset},
          {"labeled", c.labeled},
          {"epochs", c.epochs},
          {"batch_size", c.batch_size},
          {"labeled_fraction", c.labeled_fraction},
          {"alpha", {{"h", c.alpha.h}, {"rc", c.alpha.rc}, {"kl", c.alpha.kl}, {"nn", c.alpha.nn}, {"rpn", c.alpha.rpn}}},
          {"nrm_biases", c.nrm_biases},
          {"max_min", c.max_min},
          {"kl_paper_sign", c.kl_paper_sign},
          {"topdown_class", c.topdown_class == TopDownClass::Predicted ? "predicted" : "label"},
          {"optimizer", c.optimizer},
          {"lr_start", c.lr_start},
          {"lr_end", c.lr_end},
          {"momentum", c.momentum},
          {"backend", c.backend},
          {"threads", c.threads},
          {"seed", c.seed},
          {"test_every", c.test_every},
          {"test_limit", c.test_limit},
          {"render_limit", c.render_limit}};
}

TrainConfig config_from_json(const nlohmann::json& j) {
  TrainConfig c;
  c.dataset = j.at("dataset").get<std::string>();
  c.preset = j.at("preset").get<std::string>();
  c.labeled = j.at("labeled").get<size_t>();
  c.epochs = j.at("epochs").get<double>();
  c.batch_size = j.at("batch_size").get<int>();
  c.labeled_fraction = j.at("labeled_fraction").get<double>();
  const auto& a = j.at("alpha");
  // The saved α's are the ones the run used, so they are taken as they are.
  c.alpha = LossWeights{a.at("h").get<float>(), a.at("rc").get<float>(), a.at("kl").get<float>(), a.at("nn").get<float>(),
                       a.value("rpn", 0.0f)};  // checkpoints from before the NRM options have none
  c.alpha_from_preset = false;
  c.nrm_biases = j.value("nrm_biases", false);
  c.max_min = j.value("max_min", false);
  c.kl_paper_sign = j.at("kl_paper_sign").get<bool>();
  c.topdown_class = j.at("topdown_class").get<std::string>() == "predicted" ? TopDownClass::Predicted
                                                                            : TopDownClass::LabelWhenKnown;
  c.optimizer = j.at("optimizer").get<std::string>();
  c.lr_start = j.at("lr_start").get<double>();
  c.lr_end = j.at("lr_end").get<double>();
  c.momentum = j.at("momentum").get<double>();
  c.backend = j.at("backend").get<std::string>();
  c.threads = j.at("threads").get<int>();
  c.seed = j.at("seed").get<uint64_t>();
  c.test_every = j.at("test_every").get<int64_t>();
  c.test_limit = j.at("test_limit").get<int64_t>();
  c.render_limit = j.value("render_limit", c.render_limit);  // absent in checkpoints of older versions
  return c;
}

}  // namespace drmm
