// IDX images and labels, raw or gzip (core/data/idx.h). The input is split at its first byte's
// position into an images file and a labels file; the gzip layer is reached by inputs that
// start with its magic bytes, as the loader detects compression from the content.
#include "core/data/idx.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t cut = 1 + size_t(data[0]) * (size - 1) / 255;
  const std::string images = drmm::fuzz::write_input("train-images-idx3-ubyte", data + 1, cut - 1);
  const std::string labels = drmm::fuzz::write_input("train-labels-idx1-ubyte", data + cut, size - cut);
  drmm::fuzz::refuse_cleanly([&] { drmm::load_idx(images, labels); });
  return 0;
}
