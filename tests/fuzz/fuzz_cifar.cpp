// A CIFAR-10 binary batch (core/data/cifar.h).
#include "core/data/cifar.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = drmm::fuzz::write_input("data_batch_1.bin", data, size);
  drmm::fuzz::refuse_cleanly([&] { drmm::load_cifar_batch(path); });
  return 0;
}
