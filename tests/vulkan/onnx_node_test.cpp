// The ONNX backend node tests (Debian's libonnx-testdata: a model, inputs and the expected
// outputs per case, written by the ONNX project) through the importer and the engine, on cpu
// and on vulkan. An ONNX backend receives every input at run time; the engine needs a node's
// weights at import, so the inputs after the first are bound as constants (OnnxImportOptions).
//
// Every case of the ops the importer takes ends as: passed (both backends within ONNX's own
// tolerance, rtol 1e-3, atol 1e-7, widened to 1e-5 absolute for float32 sums), refused (a clear
// error naming the node: strides, dilations, groups, asymmetric pads, shapes the engine lacks) or
// failed (a wrong answer). No case may fail, and the cases listed in kExpectedPasses must pass.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <set>

#include "core/io/onnx_import.h"
#include "core/model/drmm_model.h"
#include "tests/vulkan/vulkan_test_support.h"

namespace drmm::test {
namespace {

namespace fs = std::filesystem;

const fs::path kTestData = "/usr/share/libonnx-testdata/data";
// The ops the importer takes, as the case folders are named.
const char* const kPrefixes[] = {"test_conv",     "test_basic_conv", "test_Conv2d",       "test_maxpool",
                                 "test_MaxPool2d", "test_relu",       "test_ReLU",         "test_batchnorm",
                                 "test_BatchNorm", "test_globalaveragepool", "test_averagepool", "test_AvgPool2d",
                                 "test_gemm",     "test_Linear",     "test_matmul",       "test_flatten",
                                 "test_softmax",  "test_reduce_mean"};
// Measured with this suite (README "ONNX node tests"); a case that stops passing is a regression.
const std::set<std::string> kExpectedPasses = {
    "test_basic_conv_with_padding", "test_basic_conv_without_padding", "test_batchnorm_epsilon",
    "test_batchnorm_example", "test_flatten_axis1", "test_flatten_default_axis",
    "test_flatten_negative_axis3", "test_gemm_alpha", "test_gemm_beta", "test_gemm_default_no_bias",
    "test_gemm_default_scalar_bias", "test_gemm_default_single_elem_vector_bias",
    "test_gemm_default_vector_bias", "test_gemm_default_zero_bias", "test_gemm_transposeB",
    "test_globalaveragepool", "test_globalaveragepool_precomputed", "test_matmul_2d",
    "test_softmax_example", "test_softmax_large_number", "test_BatchNorm2d_eval",
    "test_BatchNorm2d_momentum_eval", "test_Linear", "test_Linear_no_bias", "test_ReLU",
    "test_softmax_lastdim"};

enum class Verdict { passed, refused, failed };
struct CaseResult {
  std::string name;
  Verdict verdict;
  std::string detail;
};

bool wanted(const std::string& name) {
  if (name.find("_expanded") != std::string::npos) return false;  // the same op written in other ops
  if (name.find("convinteger") != std::string::npos || name.find("convtranspose") != std::string::npos ||
      name.find("matmulinteger") != std::string::npos)
    return false;  // other ops that share a prefix
  return std::any_of(std::begin(kPrefixes), std::end(kPrefixes), [&](const char* p) { return name.rfind(p, 0) == 0; });
}

std::vector<fs::path> cases() {
  std::vector<fs::path> found;
  for (const char* group : {"node", "pytorch-converted"}) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(kTestData / group, ec))
      if (wanted(entry.path().filename().string()) && fs::exists(entry.path() / "model.onnx")) found.push_back(entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

std::vector<fs::path> files(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> out;
  for (int i = 0; fs::exists(dir / (prefix + std::to_string(i) + ".pb")); ++i) out.push_back(dir / (prefix + std::to_string(i) + ".pb"));
  return out;
}

// The largest error beyond tolerance of the network's output on one backend, or a message.
double worst_error(Backend& backend, const ImportedNetwork& net, const OnnxTensor& input, const OnnxTensor& expected) {
  DrmmModel model(net.spec, backend, 1);
  load_imported_weights(model, net);
  model.bottom_up(model.upload_images(input.values), false);
  const Tensor& out = net.output_is_softmax ? model.class_probabilities() : model.level_output(net.output_level);
  const std::vector<float> got = backend.download(out);
  if (got.size() != expected.values.size()) return HUGE_VAL;
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double want = expected.values[i], allowed = 1e-5 + 1e-3 * std::abs(want);
    const double err = std::abs(double(got[i]) - want);
    if (!(err <= allowed)) worst = std::max(worst, std::isfinite(err) ? err : HUGE_VAL);
  }
  return worst;
}

CaseResult run_case(const fs::path& dir, CpuBackend& cpu, VulkanBackend* vulkan) {
  CaseResult result{dir.filename().string(), Verdict::passed, ""};
  std::vector<fs::path> sets;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(entry.path());
  std::sort(sets.begin(), sets.end());
  try {
    for (const fs::path& set : sets) {
      const std::vector<fs::path> inputs = files(set, "input_"), outputs = files(set, "output_");
      if (inputs.empty() || outputs.empty()) return {result.name, Verdict::failed, "a test data set without input or output"};
      OnnxImportOptions options;
      options.any_output = true;
      for (size_t i = 1; i < inputs.size(); ++i) {
        OnnxTensor bound = read_onnx_tensor(inputs[i]);
        options.bound_inputs[bound.name] = bound;
      }
      const ImportedNetwork net = import_onnx(dir / "model.onnx", options);
      // A graph with more outputs is refused by the importer; the first is the one to compare.
      const OnnxTensor input = read_onnx_tensor(inputs[0]), expected = read_onnx_tensor(outputs[0]);
      for (Backend* backend : {static_cast<Backend*>(&cpu), static_cast<Backend*>(vulkan)}) {
        if (!backend) continue;
        const double worst = worst_error(*backend, net, input, expected);
        if (worst > 0) {
          std::ostringstream s;
          s << backend->name() << " " << set.filename().string() << ": off by " << worst;
          return {result.name, Verdict::failed, s.str()};
        }
      }
    }
  } catch (const FileError& e) {
    return {result.name, Verdict::refused, e.what()};
  } catch (const Error& e) {  // an import the engine then cannot run is a defect, not a refusal
    return {result.name, Verdict::failed, e.what()};
  }
  return result;
}

class OnnxNodeTests : public VulkanTest {
 protected:
  void SetUp() override {
    if (!fs::exists(kTestData / "node")) GTEST_SKIP() << "no " << kTestData << " (install libonnx-testdata)";
    // Without a Vulkan device the cases still run on cpu (VulkanTest would skip).
    if (shared_vulkan()) VulkanTest::SetUp();
  }
};

TEST_F(OnnxNodeTests, EveryCaseOfTheSupportedOpsPassesOrIsRefusedNeverWrong) {
  CpuBackend cpu(2);
  std::set<std::string> passed;
  size_t total = 0;
  for (const fs::path& dir : cases()) {
    const CaseResult r = run_case(dir, cpu, shared_vulkan());
    ++total;
    const std::string verdict = r.verdict == Verdict::passed ? "passed" : r.verdict == Verdict::refused ? "refused" : "failed";
    std::cout << std::left << std::setw(58) << r.name << verdict << (r.detail.empty() ? "" : "  " + r.detail) << "\n";
    EXPECT_NE(r.verdict, Verdict::failed) << r.name << ": " << r.detail;
    if (r.verdict == Verdict::passed) passed.insert(r.name);
    if (r.verdict == Verdict::refused) {
      // A refusal names the file (and the node) and says why.
      EXPECT_TRUE(r.detail.find(".onnx: ") != std::string::npos || r.detail.find(".pb: ") != std::string::npos)
          << r.name << ": " << r.detail;
    }
  }
  for (const std::string& name : kExpectedPasses) EXPECT_TRUE(passed.count(name)) << name << " no longer passes";
  std::cout << passed.size() << " of " << total << " cases passed\n";
  EXPECT_GT(total, 100u) << "the test data has fewer cases than expected";
}

}  // namespace
}  // namespace drmm::test
