// ONNX in and out, end to end as a user would run it:
// - a small CNN trained by PyTorch (Debian's python3-torch; tests/onnx/train_torch_cnn.py) and
//   exported with torch.onnx.export, imported with `drmm import`: `drmm eval` gives PyTorch's
//   accuracy and the same class for every test image, and the rendering views run on it;
// - a model trained here, exported with `drmm export`: python3-onnx's checker accepts it and
//   ONNX Runtime (onnxruntime-node, tests/onnx/ort_eval.js) gives the logits of `drmm eval`.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <fstream>
#include <sstream>
#include <string>

#include "core/data/dataset.h"
#include "tests/cli/run_drmm.h"

namespace drmm {
namespace {

using test::contains;
using test::Outcome;
using test::TempDir;

const std::string kScripts = std::string(DRMM_SOURCE_DIR) + "/tests/onnx";
constexpr int kTestImages = 1000;

int shell(const std::string& command) {
  const int raw = std::system(("timeout 600 " + command).c_str());
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
}

std::string text_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<float> floats_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

// Trains the PyTorch example (about 15 s on 2 cores) and imports it.
void import_torch_model(const TempDir& dir, const std::string& variant) {
  const std::string out = dir / variant;
  ASSERT_EQ(shell("/usr/bin/python3 " + kScripts + "/train_torch_cnn.py --threads 2 --variant " + variant +
                  " --test-limit " + std::to_string(kTestImages) + " --out-dir " + out + " > " + (dir / "torch.log") +
                  " 2>&1"),
            0)
      << text_of(dir / "torch.log");
  const Outcome imported = test::run_drmm(dir, "import " + out + "/model.onnx --out " + out + "/imported.bin --pi-images 2000");
  ASSERT_EQ(imported.status, 0) << imported.err;
  EXPECT_TRUE(contains(imported.out, "π measured on 2000 training images")) << imported.out;
}

void expect_same_predictions_as_torch(const TempDir& dir, const std::string& variant) {
  const std::string out = dir / variant;
  const Outcome eval = test::run_drmm(dir, "eval --checkpoint " + out + "/imported.bin --limit " + std::to_string(kTestImages) +
                                               " --render-limit 100 --predictions " + out + "/drmm_predictions.txt");
  ASSERT_EQ(eval.status, 0) << eval.err;
  const double torch_accuracy = std::stod(text_of(out + "/torch_accuracy.txt"));
  std::ostringstream expected;
  expected << "accuracy " << std::fixed << std::setprecision(4) << torch_accuracy << " on " << kTestImages;
  EXPECT_TRUE(contains(eval.out, expected.str())) << "PyTorch: " << torch_accuracy << "\n" << eval.out;
  EXPECT_GT(torch_accuracy, 0.6);  // a trained network, not chance
  std::istringstream torch(text_of(out + "/torch_predictions.txt")), drmm(text_of(out + "/drmm_predictions.txt"));
  int a = 0, b = 0, images = 0, different = 0;
  while (torch >> a && drmm >> b) {
    ++images;
    different += a != b;
  }
  EXPECT_EQ(images, kTestImages);
  EXPECT_EQ(different, 0) << "images classified differently from PyTorch";
  EXPECT_TRUE(contains(eval.out, "r(I, Î)")) << eval.out;  // the top-down views run on the import
}

bool torch_available() { return shell("/usr/bin/python3 -c 'import torch' > /dev/null 2>&1") == 0; }

TEST(OnnxCli, APyTorchCnnImportsWithItsAccuracyAndEveryPrediction) {
  if (!torch_available()) GTEST_SKIP() << "no python3-torch";
  TempDir dir;
  import_torch_model(dir, "bias-free");
  expect_same_predictions_as_torch(dir, "bias-free");
  // Every view of the app: sampling draws from the measured π, rendering paths, AM.
  const std::string ck = dir / "bias-free/imported.bin";
  const Outcome s = test::run_drmm(dir, "sample --checkpoint " + ck + " --count 2 --conditional 0 --out " + (dir / "s"));
  EXPECT_EQ(s.status, 0) << s.err;
  const Outcome p = test::run_drmm(dir, "paths --checkpoint " + ck + " --index 3 --out " + (dir / "p"));
  EXPECT_EQ(p.status, 0) << p.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "p/path.png"));
}

TEST(OnnxCli, APyTorchCnnWithBiasesImportsWithEveryPrediction) {
  if (!torch_available()) GTEST_SKIP() << "no python3-torch";
  TempDir dir;
  import_torch_model(dir, "with-bias");
  expect_same_predictions_as_torch(dir, "with-bias");
}

TEST(OnnxCli, AnExportedModelRunsInOnnxRuntimeWithTheLogitsOfDrmmEval) {
  TempDir dir;
  const Outcome train = test::run_drmm(dir, "train --model tiny --epochs 0.02 --threads 2 --test-limit 100 --render-limit 0 "
                                            "--quiet --out " + (dir / "run"));
  ASSERT_EQ(train.status, 0) << train.err;
  const std::string ck = dir / "run/checkpoint.bin", onnx = dir / "model.onnx";
  const Outcome exported = test::run_drmm(dir, "export --checkpoint " + ck + " --out " + onnx);
  ASSERT_EQ(exported.status, 0) << exported.err;
  ASSERT_EQ(shell("/usr/bin/python3 " + kScripts + "/check_onnx.py " + onnx + " > " + (dir / "check.log") + " 2>&1"), 0)
      << text_of(dir / "check.log");

  const Outcome eval = test::run_drmm(dir, "eval --checkpoint " + ck + " --limit " + std::to_string(kTestImages) +
                                               " --render-limit 0 --logits " + (dir / "drmm_logits.bin"));
  ASSERT_EQ(eval.status, 0) << eval.err;
  const Dataset test_split = load_dataset("fashion-mnist", Split::Test);
  {
    std::ofstream images(dir / "images.bin", std::ios::binary);
    const auto pixels = test_split.images(0, kTestImages);
    images.write(reinterpret_cast<const char*>(pixels.data()), std::streamsize(pixels.size() * sizeof(float)));
  }
  ASSERT_EQ(shell("node " + kScripts + "/ort_eval.js " + onnx + " " + (dir / "images.bin") + " " +
                  std::to_string(kTestImages) + " 1 28 28 " + (dir / "ort_logits.bin") + " > " + (dir / "ort.log") + " 2>&1"),
            0)
      << text_of(dir / "ort.log") << "(tests/onnx needs `npm ci`: scripts/install-deps.sh runs it)";
  const std::vector<float> ours = floats_of(dir / "drmm_logits.bin"), theirs = floats_of(dir / "ort_logits.bin");
  ASSERT_EQ(ours.size(), size_t(kTestImages) * 10);
  ASSERT_EQ(theirs.size(), ours.size());
  double largest = 0, scale = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    largest = std::max(largest, double(std::abs(ours[i] - theirs[i])));
    scale = std::max(scale, double(std::abs(ours[i])));
  }
  std::cout << "largest |ONNX Runtime − drmm eval| logit difference: " << largest << " (largest logit " << scale << ")\n";
  EXPECT_LT(largest, 1e-4 * std::max(1.0, scale));
}

}  // namespace
}  // namespace drmm
