// An E-DRMM forest file (core/tree/forest_io.h).
#include "core/tree/forest_io.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = drmm::fuzz::write_input("forest.bin", data, size);
  drmm::fuzz::refuse_cleanly([&] { drmm::tree::load_forest(path); });
  return 0;
}
