#pragma once
// What the commands that read a checkpoint share: loading it onto a backend, the backend
// options, the split names, and checking an image index against a dataset.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "core/backend/backend.h"
#include "core/data/dataset.h"
#include "core/model/drmm_model.h"

namespace drmm::cli {

struct LoadedModel {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<DrmmModel> model;
};

LoadedModel load_for_inference(const std::string& checkpoint, const std::string& backend_name, int threads);
Split parse_split(const std::string& s);
void add_backend_options(CLI::App* cmd, std::string& backend, int& threads);
// Option checks: a finite number above 0, at least 0, or in [0, 1] (CLI11's own number checks
// let NaN through: every comparison with it is false).
extern const CLI::Validator kFinitePositive, kFiniteNonNegative, kFraction;

// Throws drmm::Error naming `option` when `index` is not an image of `data`.
void check_index(const Dataset& data, size_t index, const std::string& option);

}  // namespace drmm::cli
