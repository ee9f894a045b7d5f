#include "app/drmm/model_loading.h"

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
  cmd->add_option("--threads", threads, "CPU threads (0: all cores)");
}

void check_index(const Dataset& data, size_t index, const std::string& option) {
  if (index >= data.size())
    throw Error(option + " " + std::to_string(index) + " is out of range: " + data.name + " has " +
                std::to_string(data.size()) + " images");
}

}  // namespace drmm::cli
