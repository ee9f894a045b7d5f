#pragma once
// TrainConfig ⇄ JSON, for checkpoints (a run resumes with the configuration it was saved with).
#include <nlohmann/json.hpp>

#include "core/train/train_config.h"

namespace drmm {

nlohmann::json config_to_json(const TrainConfig& config);
TrainConfig config_from_json(const nlohmann::json& json);  // throws nlohmann::json::exception

}  // namespace drmm
