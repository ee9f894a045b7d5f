// ONNX out and back in: a model exported by export_onnx and imported by import_onnx computes the
// same bottom-up pass (every level, the scores, q) with every layer option (biases, batch norm
// with running statistics, ReLU or not, all three conv modes, max pools); and files the importer
// cannot represent are refused naming the node and the reason.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/backend/cpu/cpu_backend.h"
#include "core/io/onnx_export.h"
#include "core/io/onnx_import.h"
#include "core/model/drmm_model.h"
#include "core/util/error.h"
#include "core/util/random.h"
#include "tests/core/dataset_test_files.h"
#include "tests/core/layer_specs.h"
#include "tests/core/naive_cnn.h"

namespace drmm {
namespace {

using test::conv_layer;

ModelSpec every_option_spec() {
  ModelSpec spec = test::small_model(
      "roundtrip", {conv_layer("conv1", 3, 3, ConvMode::Full, true, true), test::pool_layer("pool1"),
                    conv_layer("conv2", 4, 3, ConvMode::Half, true), conv_layer("conv3", 5, 2, ConvMode::Valid, false, true),
                    conv_layer("class", 3, 1, ConvMode::Valid, false, true)});
  spec.layers[2].batchnorm = false;  // conv2: no batch norm
  spec.layers[4].batchnorm = false;  // the class layer: bias only
  spec.bn_eps = 1e-3f;
  spec.resolve_shapes();
  return spec;
}

// Non-trivial values for every parameter and batch-norm statistic.
void randomise(DrmmModel& model, Backend& backend) {
  uint64_t seed = 40;
  for (Parameter& p : model.parameters())
    backend.upload(p.value, naive::random_values(p.value.count(), ++seed, p.name.ends_with(".gamma") ? 0.5 : -0.5,
                                                 p.name.ends_with(".gamma") ? 1.5 : 0.5));
  for (Buffer& b : model.buffers())
    if (b.name.ends_with("running_mean")) backend.upload(b.value, naive::random_values(b.value.count(), ++seed, -0.3, 0.3));
    else if (b.name.ends_with("running_var")) backend.upload(b.value, naive::random_values(b.value.count(), ++seed, 0.5, 2.0));
}

TEST(OnnxRoundTrip, AnExportedModelImportsToTheSameNetwork) {
  test::TempDir dir;
  CpuBackend backend(1);
  const ModelSpec spec = every_option_spec();
  DrmmModel original(spec, backend, 3);
  randomise(original, backend);
  export_onnx(original, dir / "model.onnx");

  const ImportedNetwork net = import_onnx(dir / "model.onnx");
  ASSERT_EQ(net.spec.layers.size(), spec.layers.size());
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const LayerSpec &a = spec.layers[i], &b = net.spec.layers[i];
    EXPECT_EQ(a.kind, b.kind) << i;
    EXPECT_EQ(a.kernel, b.kernel) << i;
    EXPECT_EQ(a.filters, b.filters) << i;
    EXPECT_EQ(a.mode, b.mode) << a.name;
    EXPECT_EQ(a.batchnorm, b.batchnorm) << a.name;
    EXPECT_EQ(a.relu, b.relu) << a.name;
    EXPECT_EQ(a.bias, b.bias) << a.name;
  }
  EXPECT_EQ(net.spec.classes, spec.classes);
  EXPECT_FLOAT_EQ(net.spec.bn_eps, spec.bn_eps);
  EXPECT_TRUE(net.output_is_softmax);  // the export's last node; the importer drops it (q is the model's own)

  DrmmModel imported(net.spec, backend, 99);
  load_imported_weights(imported, net);
  const std::vector<float> pixels = naive::random_values(4 * spec.image_size(), 7, 0.0, 1.0);
  original.bottom_up(original.upload_images(pixels), false);
  imported.bottom_up(imported.upload_images(pixels), false);
  for (size_t level = 0; level < spec.layers.size(); ++level)
    EXPECT_EQ(backend.download(original.level_output(level)), backend.download(imported.level_output(level)))
        << spec.layers[level].name;
  EXPECT_EQ(backend.download(original.class_probabilities()), backend.download(imported.class_probabilities()));
}

std::vector<float> floats_of(const std::string& path) {
  const test::Bytes bytes = test::read_file(path);
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

// x.view(x.size(0), -1), as torch.onnx.export writes it (Shape → Gather → Unsqueeze → Concat →
// Reshape; tests/onnx/make_shape_arithmetic_model.py): folded, and PyTorch's logits come out.
TEST(OnnxRoundTrip, ShapeArithmeticOfAViewFlattenImports) {
  const std::string models = std::string(DRMM_SOURCE_DIR) + "/tests/onnx/models/";
  const ImportedNetwork net = import_onnx(models + "view_flatten.onnx");
  CpuBackend backend(1);
  DrmmModel model(net.spec, backend, 1);
  load_imported_weights(model, net);
  model.bottom_up(model.upload_images(floats_of(models + "view_flatten.input.bin")), false);
  const std::vector<float> logits = backend.download(model.level_output(net.spec.layers.size() - 1));
  const std::vector<float> expected = floats_of(models + "view_flatten.logits.bin");
  ASSERT_EQ(logits.size(), expected.size());
  for (size_t i = 0; i < logits.size(); ++i) EXPECT_NEAR(logits[i], expected[i], 1e-4) << i;
}

TEST(OnnxRoundTrip, NotAnOnnxFileIsAClearError) {
  test::TempDir dir;
  test::write_file(dir / "junk.onnx", test::Bytes{0xff, 0xff, 0xff, 0x01, 0x02});
  try {
    import_onnx(dir / "junk.onnx");
    FAIL() << "junk imported";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("junk.onnx"), std::string::npos) << e.what();
  }
  EXPECT_THROW(import_onnx(dir / "missing.onnx"), FileError);
}

// Refusals, on the ONNX project's own node-test models (libonnx-testdata): each names the node's
// op type and the attribute the engine does not support.
TEST(OnnxRoundTrip, UnsupportedAttributesAreRefusedNamingTheNodeAndTheReason) {
  const std::filesystem::path data = "/usr/share/libonnx-testdata/data";
  if (!std::filesystem::exists(data)) GTEST_SKIP() << "no libonnx-testdata";
  const std::pair<const char*, const char*> cases[] = {
      {"node/test_conv_with_strides_padding", "(Conv): strides [2,2]"},
      {"pytorch-converted/test_Conv2d_groups", "(Conv): group 2"},
      {"pytorch-converted/test_Conv2d_dilated", "(Conv): dilations"},
      {"node/test_conv_with_strides_and_asymmetric_padding", "(Conv): strides"},
      {"node/test_maxpool_2d_default", "(MaxPool): strides [1,1]"},
      {"node/test_maxpool_2d_pads", "(MaxPool): strides"},
      {"node/test_averagepool_2d_default", "(AveragePool): kernel_shape [2,2]"},
  };
  for (const auto& [name, expected] : cases) {
    OnnxImportOptions options;
    options.any_output = true;
    const std::filesystem::path dir = data / name;
    for (int i = 1; std::filesystem::exists(dir / "test_data_set_0" / ("input_" + std::to_string(i) + ".pb")); ++i) {
      OnnxTensor t = read_onnx_tensor(dir / "test_data_set_0" / ("input_" + std::to_string(i) + ".pb"));
      options.bound_inputs[t.name] = t;
    }
    try {
      import_onnx(dir / "model.onnx", options);
      ADD_FAILURE() << name << " imported";
    } catch (const FileError& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << name << ": " << e.what();
    }
  }
}

}  // namespace
}  // namespace drmm
