// A checkpoint (core/train/checkpoint.h): read, the model it describes built on the cpu backend,
// its weights restored, and one inference pass run, as `drmm eval` does.
#include "core/backend/cpu/cpu_backend.h"
#include "core/train/checkpoint.h"
#include "core/train/model_state.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = drmm::fuzz::write_input("checkpoint.bin", data, size);
  drmm::fuzz::refuse_cleanly([&] {
    drmm::CpuBackend backend(1);
    const drmm::CheckpointContents contents = drmm::read_checkpoint(path);
    auto model = drmm::load_model(contents, path, backend);
    const drmm::ModelSpec& spec = model->spec();
    drmm::Tensor images = backend.alloc(drmm::Shape{1, spec.channels, spec.height, spec.width});
    backend.fill(images, 0.5f);
    model->bottom_up(images, false);
  });
  return 0;
}
