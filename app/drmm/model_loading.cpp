#include "app/drmm/model_loading.h"

#include <cmath>
#include <iostream>

#include "core/backend/select/backend_factory.h"
#include "core/train/model_state.h"
#include "core/util/error.h"

namespace drmm::cli {

LoadedModel load_for_inference(const std::string& checkpoint, const std::string& backend_name, int threads) {
  const CheckpointContents contents = read_checkpoint(checkpoint);
  LoadedModel loaded;
  std::string notice;
  loaded.backend = make_backend(backend_name, threads, &notice);
  if (!notice.empty()) std::cerr << notice << "\n";
  loaded.model = load_model(contents, checkpoint, *loaded.backend);
  return loaded;
}

Split parse_split(const std::string& s) { return s == "test" ? Split::Test : Split::Train; }

void add_backend_options(CLI::App* cmd, std::string& backend, int& threads) {
  cmd->add_option("--backend", backend, "Compute backend: cpu, vulkan, or auto (a GPU if there is one)")
      ->check(CLI::IsMember({"cpu", "vulkan", "auto"}));
  cmd->add_option("--threads", threads, "CPU threads (0: all cores)")->check(CLI::Range(0, 1024));
}

namespace {

CLI::Validator finite_in(double low, bool low_open, double high, const std::string& what) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double v = 0;
        try {
          size_t used = 0;
          v = std::stod(text, &used);
          if (used != text.size()) return "'" + text + "' is not a number";
        } catch (const std::exception&) {
          return "'" + text + "' is not a number";
        }
        if (!std::isfinite(v) || (low_open ? v <= low : v < low) || v > high) return "'" + text + "' must be " + what;
        return {};
      },
      what);
}

}  // namespace

const CLI::Validator kFinitePositive = finite_in(0, true, HUGE_VAL, "a finite number above 0");
const CLI::Validator kFiniteNonNegative = finite_in(0, false, HUGE_VAL, "a finite number, 0 or more");
const CLI::Validator kFraction = finite_in(0, false, 1, "between 0 and 1");

void check_index(const Dataset& data, size_t index, const std::string& option) {
  if (index >= data.size())
    throw Error(option + " " + std::to_string(index) + " is out of range: " + data.name + " has " +
                std::to_string(data.size()) + " images");
}

}  // namespace drmm::cli
