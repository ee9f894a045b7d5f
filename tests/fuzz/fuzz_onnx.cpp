// An ONNX model (core/io/onnx_import.h): imported as `drmm import` and File ▸ Open model do, in
// both modes, and when it imports, the model built on the cpu backend with its weights and one
// inference pass run.
#include "core/backend/cpu/cpu_backend.h"
#include "core/io/onnx_import.h"
#include "core/model/drmm_model.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = drmm::fuzz::write_input("model.onnx", data, size);
  for (const bool any_output : {false, true}) {
    drmm::fuzz::refuse_cleanly([&] {
      drmm::OnnxImportOptions options;
      options.any_output = any_output;
      const drmm::ImportedNetwork net = drmm::import_onnx(path, options);
      // Large but valid networks are the engine's business, not the parser's: keep runs short.
      if (net.spec.image_size() > 100000) return;
      drmm::CpuBackend backend(1);
      drmm::DrmmModel model(net.spec, backend, 1);
      drmm::load_imported_weights(model, net);
      drmm::Tensor images = backend.alloc(drmm::Shape{1, net.spec.channels, net.spec.height, net.spec.width});
      backend.fill(images, 0.5f);
      model.bottom_up(images, false);
    });
  }
  return 0;
}
