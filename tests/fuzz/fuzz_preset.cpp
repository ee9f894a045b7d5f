// An architecture / preset JSON file (core/model/model_spec.h), loaded by path as `--model` does.
#include "core/model/model_spec.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = drmm::fuzz::write_input("net.json", data, size);
  drmm::fuzz::refuse_cleanly([&] { drmm::load_model_spec(path); });
  return 0;
}
