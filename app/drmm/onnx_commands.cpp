// drmm import | export: CNNs trained elsewhere in (ONNX → checkpoint with every view of the app)
// and trained models out (checkpoint → ONNX classifier); core/io does the work.
#include <iomanip>
#include <iostream>
#include <memory>

#include "app/drmm/commands.h"
#include "app/drmm/model_loading.h"
#include "core/io/model_import.h"
#include "core/io/onnx_export.h"

namespace drmm::cli {

void register_onnx_commands(CLI::App& app) {
  struct ImportOptions {
    std::string onnx, out, data = "fashion-mnist", backend = "cpu";
    int threads = 0;
    size_t pi_images = 0, labeled = 100;
  };
  auto im = std::make_shared<ImportOptions>();
  CLI::App* import = app.add_subcommand(
      "import",
      "Import a CNN from an ONNX file as a DRMM checkpoint: its weights, and the latent frequencies π measured on the "
      "dataset's training images; every command and the studio then open it like a run trained here");
  import->footer(
      "Supported ops: Conv (stride 1, symmetric padding 0, k/2 or k-1, with or without bias), BatchNormalization,\n"
      "Relu, MaxPool (stride = window), AveragePool over the whole map, GlobalAveragePool, ReduceMean over H and W,\n"
      "Flatten, Reshape to a vector (with the Shape/Gather/Unsqueeze/Concat of x.view(x.size(0), -1)), Gemm, MatMul,\n"
      "Add (a bias), Transpose of a constant, Softmax, LogSoftmax, Dropout, Identity, on one path\n"
      "from the image to the class scores. Anything else is refused with the node named.\n"
      "Example:\n  drmm import model.onnx --out imported.bin --data fashion-mnist");
  import->add_option("model", im->onnx, "ONNX model file")->required();
  import->add_option("--out", im->out, "Checkpoint to write")->required();
  import->add_option("--data", im->data, "Dataset the network classifies (image size and classes must match)")
      ->capture_default_str();
  import->add_option("--pi-images", im->pi_images, "Measure π on the first this many training images (0: all)")
      ->capture_default_str();
  import->add_option("--labeled", im->labeled, "N_L of the run, should you train the import further")->capture_default_str();
  add_backend_options(import, im->backend, im->threads);
  import->callback([im] {
    TrainConfig config;
    config.dataset = im->data;
    config.labeled = im->labeled;
    config.backend = im->backend;
    config.threads = im->threads;
    const ModelImport r = import_model(im->onnx, config, im->out, im->pi_images);
    std::cout << "imported " << im->onnx << ":";
    for (const LayerSpec& layer : r.network.spec.layers) std::cout << " " << layer.describe() << ";";
    std::cout << "\n";
    for (const std::string& note : r.network.notes) std::cout << "  note: " << note << "\n";
    std::cout << "π measured on " << r.pi_images << " training images; accuracy " << std::fixed << std::setprecision(4)
              << r.test.accuracy << " on " << r.test.count << " test images; wrote " << im->out << "\n";
  });

  struct ExportOptions {
    std::string checkpoint, out, backend = "cpu";
    int threads = 0;
  };
  auto ex = std::make_shared<ExportOptions>();
  CLI::App* exp = app.add_subcommand(
      "export", "Export a checkpoint's bottom-up network (the classifier) as an ONNX model: outputs 'logits' and "
                "'probabilities', input 'images' (N×C×H×W, any N)");
  exp->add_option("--checkpoint", ex->checkpoint, "Checkpoint file")->required();
  exp->add_option("--out", ex->out, "ONNX file to write")->required();
  add_backend_options(exp, ex->backend, ex->threads);
  exp->callback([ex] {
    LoadedModel loaded = load_for_inference(ex->checkpoint, ex->backend, ex->threads);
    export_onnx(*loaded.model, ex->out);
    std::cout << "wrote " << ex->out << " (ONNX opset " << kOnnxExportOpset << ")\n";
  });
}

}  // namespace drmm::cli
