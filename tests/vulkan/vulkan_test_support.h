#pragma once
// Shared by the drmm_vulkan_tests files: one VulkanBackend for the whole run, created with
// the Khronos validation layer (and synchronization validation), and a fixture that fails
// any test during which the layer reported a warning or an error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/backend/cpu/cpu_backend.h"
#include "core/backend/vulkan/vulkan_backend.h"
#include "core/util/error.h"

namespace drmm::test {

// The backend is created on first use and destroyed by a gtest Environment before static
// destructors run (the loader and the layer have their own static state).
inline std::unique_ptr<VulkanBackend>& shared_vulkan_slot() {
  static std::unique_ptr<VulkanBackend> backend;
  return backend;
}

inline std::string& vulkan_unavailable_reason() {
  static std::string reason;
  return reason;
}

inline VulkanBackend* shared_vulkan() {
  auto& slot = shared_vulkan_slot();
  if (!slot && vulkan_unavailable_reason().empty()) {
    try {
      slot = std::make_unique<VulkanBackend>(VulkanBackend::Options{.validation = true});
    } catch (const Error& e) {
      vulkan_unavailable_reason() = e.what();
    }
  }
  return slot.get();
}

class VulkanEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { shared_vulkan_slot().reset(); }
};
inline const auto* const kVulkanEnvironment = ::testing::AddGlobalTestEnvironment(new VulkanEnvironment);

// The registry of ops the cpu-vs-vulkan tests cover: each test file names the Backend ops it
// compares (DRMM_VULKAN_TESTS_COVER), and VulkanOpCoverage checks that every run_<op> that
// backend.h declares is named by some file, so a new op cannot ship without its Vulkan test.
inline std::set<std::string>& covered_backend_ops() {
  static std::set<std::string> ops;
  return ops;
}
inline bool cover_backend_ops(std::initializer_list<const char*> ops) {
  for (const char* op : ops) covered_backend_ops().insert(op);
  return true;
}
#define DRMM_VULKAN_TESTS_COVER_CAT(a, b) a##b
#define DRMM_VULKAN_TESTS_COVER_NAME(line) DRMM_VULKAN_TESTS_COVER_CAT(kCoversBackendOps, line)
#define DRMM_VULKAN_TESTS_COVER(...) \
  [[maybe_unused]] static const bool DRMM_VULKAN_TESTS_COVER_NAME(__LINE__) = ::drmm::test::cover_backend_ops({__VA_ARGS__})

// Uniform random values in [lo, hi); a fixed seed per call site keeps failures reproducible.
inline std::vector<float> random_values(size_t count, unsigned seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

// A 0/1 mask (ReLU switches a) with about half the entries on.
inline std::vector<float> random_mask(size_t count, unsigned seed) {
  std::vector<float> v = random_values(count, seed);
  for (float& x : v) x = x > 0.0f ? 1.0f : 0.0f;
  return v;
}

// Any validation message that appears while a test runs fails that test.
class VulkanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vk_ = shared_vulkan();
    if (!vk_) GTEST_SKIP() << "no Vulkan device: " << vulkan_unavailable_reason();
    messages_before_ = vk_->validation_messages().size();
  }
  void TearDown() override {
    if (!vk_) return;
    vk_->finish();
    const auto messages = vk_->validation_messages();
    for (size_t i = messages_before_; i < messages.size(); ++i) ADD_FAILURE() << "validation: " << messages[i];
  }

  // Also valid in a fixture's member initialisers, which run before SetUp.
  VulkanBackend& vk() {
    if (!shared_vulkan()) throw Error("no Vulkan device: " + vulkan_unavailable_reason());
    return *shared_vulkan();
  }

  Tensor upload(Backend& backend, Shape shape, const std::vector<float>& values) {
    Tensor t = backend.alloc(shape);
    backend.upload(t, values);
    return t;
  }


 private:
  VulkanBackend* vk_ = nullptr;
  size_t messages_before_ = 0;
};

// A tensor held by both backends (the cpu reference and vulkan) with the same contents.
struct Mirrored {
  Tensor cpu, vk;
};
using Side = Tensor Mirrored::*;

// Op-by-op comparison with the cpu reference: build Mirrored inputs, run the same op on
// both backends with both(), compare outputs with expect_close().
class VulkanVsCpu : public VulkanTest {
 protected:
  Backend& cpu() {
    static CpuBackend backend(1);  // single-threaded: the reference's own summation order
    return backend;
  }

  // Without a Vulkan device only the cpu side is made; SetUp then skips the test.
  Mirrored mirrored(Shape shape, const std::vector<float>& values) {
    return {upload(cpu(), shape, values), shared_vulkan() ? upload(vk(), shape, values) : Tensor()};
  }
  Mirrored random(Shape shape, unsigned seed, float lo = -1.0f, float hi = 1.0f) {
    return mirrored(shape, random_values(shape.count(), seed, lo, hi));
  }
  Mirrored zeros(Shape shape) { return {cpu().alloc(shape), shared_vulkan() ? vk().alloc(shape) : Tensor()}; }

  // Runs op(backend, side) on the cpu reference and then on vulkan; `side` selects the
  // Mirrored member of that backend (x.*side).
  template <class Op>
  void both(Op&& op) {
    op(cpu(), &Mirrored::cpu);
    op(vk(), &Mirrored::vk);
  }

  // max_i |vk_i − cpu_i| ≤ tolerance · max(max_i |cpu_i|, 1e-6): error relative to the
  // largest reference value, the usual criterion for GEMM-like sums whose order differs.
  void expect_close(const Mirrored& t, double tolerance, const std::string& what) {
    const std::vector<float> want = cpu().download(t.cpu), got = vk().download(t.vk);
    ASSERT_EQ(got.size(), want.size()) << what;
    double scale = 1e-6, worst = 0;
    size_t worst_at = 0;
    for (float v : want) scale = std::max(scale, double(std::abs(v)));
    for (size_t i = 0; i < want.size(); ++i) {
      const double err = std::abs(double(got[i]) - double(want[i]));
      if (err > worst) worst = err, worst_at = i;
    }
    EXPECT_LE(worst / scale, tolerance) << what << ": worst at " << worst_at << " vulkan " << got[worst_at]
                                        << " cpu " << want[worst_at] << " (max |cpu| " << scale << ")";
  }
};

}  // namespace drmm::test
