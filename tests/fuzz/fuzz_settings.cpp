// The run settings a checkpoint carries and the studio restores (core/train/config_json.h): a
// JSON document whose values may have any type or range.
#include <nlohmann/json.hpp>

#include "core/train/config_json.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json json = nlohmann::json::parse(data, data + size, nullptr, false);
  if (json.is_discarded()) return 0;
  try {
    drmm::config_from_json(json);
  } catch (const nlohmann::json::exception&) {  // the documented refusal (config_json.h)
  } catch (const drmm::Error&) {
  }
  return 0;
}
