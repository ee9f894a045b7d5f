// The shared argument checks (core/backend/op_checks.h): the same wrong call is refused by
// every backend with the same message, word for word. Each case below passes one op a tensor
// that does not fit and names the message every backend must give.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "tests/vulkan/vulkan_test_support.h"

namespace drmm::test {
namespace {

struct WrongCall {
  std::string message;                   // what every backend must throw
  std::function<void(Backend&)> call;  // allocates its tensors on the backend and calls one op
};

const Shape kX{2, 3, 8, 8}, kPooled{2, 3, 4, 4}, kW{4, 3, 3, 3}, kY{2, 4, 8, 8}, kChannels{1, 3, 1, 1};
const Shape kScores{2, 3, 1, 1}, kLabels{2, 1, 1, 1}, kScalar{1, 1, 1, 1};

std::vector<WrongCall> wrong_calls() {
  return {
      {"upload: 5 values for a tensor of 2x3x8x8",
       [](Backend& b) {
         Tensor t = b.alloc(kX);
         b.upload(t, std::vector<float>(5));
       }},
      {"download: src is not allocated", [](Backend& b) { b.download(Tensor()); }},
      {"copy: src 2x3x8x8 and dst 2x3x4x4 hold different counts",
       [](Backend& b) {
         Tensor dst = b.alloc(kPooled);
         b.copy(b.alloc(kX), dst);
       }},
      {"conv2d: y is 2x4x6x6, expected 2x4x8x8",
       [](Backend& b) {
         Tensor y = b.alloc({2, 4, 6, 6});
         b.conv2d(b.alloc(kX), b.alloc(kW), 1, y);
       }},
      // vulkan used to accept pad >= k (cpu, the reference, refused it).
      {"conv2d: pad must be in [0, k) (x 2x3x8x8, w 4x3x3x3, pad 3)",
       [](Backend& b) {
         Tensor y = b.alloc({2, 4, 12, 12});
         b.conv2d(b.alloc(kX), b.alloc(kW), 3, y);
       }},
      {"conv2d: y must not share memory with x",
       [](Backend& b) {
         Tensor x = b.alloc(kX);
         b.conv2d(x, b.alloc({3, 3, 1, 1}), 0, x);
       }},
      {"conv2d_backward_input: dy is 2x4x6x6, expected 2x4x8x8",
       [](Backend& b) {
         Tensor dx = b.alloc(kX);
         b.conv2d_backward_input(b.alloc({2, 4, 6, 6}), b.alloc(kW), 1, dx, false);
       }},
      {"conv2d_backward_weight: input channels differ (x 2x3x8x8, dw 4x2x3x3, pad 1)",
       [](Backend& b) {
         Tensor dw = b.alloc({4, 2, 3, 3});
         b.conv2d_backward_weight(b.alloc(kX), b.alloc(kY), 1, dw, true);
       }},
      {"maxpool: x 2x3x7x7 cannot be split into 2x2 windows",
       [](Backend& b) {
         Tensor y = b.alloc({2, 3, 3, 3}), switches = b.alloc({2, 3, 7, 7});
         b.maxpool(b.alloc({2, 3, 7, 7}), 2, y, switches);
       }},
      {"maxpool: switches is 2x3x4x4, expected 2x3x8x8",
       [](Backend& b) {
         Tensor y = b.alloc(kPooled), switches = b.alloc(kPooled);
         b.maxpool(b.alloc(kX), 2, y, switches);
       }},
      {"unpool: y is 2x3x8x8, expected 2x3x4x4",
       [](Backend& b) {
         Tensor x = b.alloc(kX);
         b.unpool(b.alloc(kX), b.alloc(kX), 2, x);
       }},
      {"unpool_backward: dy is 2x3x2x2, expected 2x3x4x4",
       [](Backend& b) {
         Tensor dy = b.alloc({2, 3, 2, 2});
         b.unpool_backward(b.alloc(kX), b.alloc(kX), 2, dy);
       }},
      {"upsample: x is 2x3x3x3, expected 2x3x4x4",
       [](Backend& b) {
         Tensor y = b.alloc(kX);
         b.upsample(b.alloc({2, 3, 3, 3}), 2, y);
       }},
      {"sum_pool: y is 2x3x8x8, expected 2x3x4x4",
       [](Backend& b) {
         Tensor y = b.alloc(kX);
         b.sum_pool(b.alloc(kX), 2, y);
       }},
      {"mean_pool: y is 2x3x2x2, expected 2x3x1x1",
       [](Backend& b) {
         Tensor y = b.alloc({2, 3, 2, 2});
         b.mean_pool(b.alloc(kX), y);
       }},
      {"mean_pool_backward: dy is 2x1x1x3, expected 2x3x1x1",
       [](Backend& b) {
         Tensor dx = b.alloc(kX);
         b.mean_pool_backward(b.alloc({2, 1, 1, 3}), dx);
       }},
      // vulkan used to compare only counts in the elementwise ops and the per-channel tensors.
      {"relu: mask is 1x6x8x8, expected 2x3x8x8",
       [](Backend& b) {
         Tensor y = b.alloc(kX), mask = b.alloc({1, 6, 8, 8});
         b.relu(b.alloc(kX), y, mask);
       }},
      {"mul: b is 2x3x64x1, expected 2x3x8x8",
       [](Backend& b) {
         Tensor y = b.alloc(kX);
         b.mul(b.alloc(kX), b.alloc({2, 3, 64, 1}), y);
       }},
      {"axpy: y is 2x3x4x4, expected 2x3x8x8",
       [](Backend& b) {
         Tensor y = b.alloc(kPooled);
         b.axpy(1.0f, b.alloc(kX), y);
       }},
      {"batchnorm_train: gamma is 1x1x1x3, expected 1x3x1x1",
       [](Backend& b) {
         Tensor rm = b.alloc(kChannels), rv = b.alloc(kChannels), y = b.alloc(kX), sm = b.alloc(kChannels),
                si = b.alloc(kChannels);
         b.batchnorm_train(b.alloc(kX), b.alloc({1, 1, 1, 3}), b.alloc(kChannels), 0.1f, 1e-5f, rm, rv, y, sm, si);
       }},
      {"batchnorm_infer: y is 2x3x4x4, expected 2x3x8x8",
       [](Backend& b) {
         Tensor y = b.alloc(kPooled);
         Tensor ch = b.alloc(kChannels);
         b.batchnorm_infer(b.alloc(kX), ch, ch, ch, ch, 1e-5f, y);
       }},
      {"batchnorm_backward: dx must not share memory with x",
       [](Backend& b) {
         Tensor x = b.alloc(kX), dgamma = b.alloc(kChannels), dbeta = b.alloc(kChannels);
         Tensor ch = b.alloc(kChannels);
         b.batchnorm_backward(b.alloc(kX), x, ch, ch, ch, x, dgamma, dbeta);
       }},
      {"softmax: logits is 2x3x2x1, expected NxCx1x1",
       [](Backend& b) {
         Tensor q = b.alloc({2, 3, 2, 1});
         b.softmax(b.alloc({2, 3, 2, 1}), q);
       }},
      {"cross_entropy: labels is 1x2x1x1, expected 2x1x1x1",
       [](Backend& b) {
         Tensor loss = b.alloc(kScalar), d = b.alloc(kScores);
         b.cross_entropy(b.alloc(kScores), b.alloc({1, 2, 1, 1}), 1.0f, loss, d);
       }},
      {"cross_entropy: loss is 1x1x1x2, expected 1 element",
       [](Backend& b) {
         Tensor loss = b.alloc({1, 1, 1, 2}), d = b.alloc(kScores);
         b.cross_entropy(b.alloc(kScores), b.alloc(kLabels), 1.0f, loss, d);
       }},
      {"kl_loss: dlogits is 2x4x1x1, expected 2x3x1x1",
       [](Backend& b) {
         Tensor loss = b.alloc(kScalar), d = b.alloc({2, 4, 1, 1});
         b.kl_loss(b.alloc(kScores), false, 1.0f, loss, d);
       }},
      {"reconstruction_loss: da is 2x3x4x4, expected 2x3x8x8",
       [](Backend& b) {
         Tensor loss = b.alloc(kScalar), da = b.alloc(kPooled);
         b.reconstruction_loss(b.alloc(kX), b.alloc(kX), 1.0f, loss, da);
       }},
      {"nonnegativity_loss: loss is unallocated, expected 1 element",
       [](Backend& b) {
         Tensor loss, dz = b.alloc(kX);
         b.nonnegativity_loss(b.alloc(kX), 1.0f, loss, dz);
       }},
      {"render_class_onehot: onehot is 2x4x1x1, expected 2x3x1x1",
       [](Backend& b) {
         Tensor onehot = b.alloc({2, 4, 1, 1});
         b.render_class_onehot(b.alloc(kScores), b.alloc(kLabels), true, onehot);
       }},
      {"add_channel_bias: bias is 1x4x1x1, expected 1x3x1x1",
       [](Backend& b) {
         Tensor y = b.alloc(kX);
         b.add_channel_bias(y, b.alloc({1, 4, 1, 1}));
       }},
      {"channel_sum: dbias is unallocated, expected 1x3x1x1",
       [](Backend& b) {
         Tensor dbias;
         b.channel_sum(b.alloc(kX), dbias, false);
       }},
      {"batch_mean_ema: ema is 1x1x1x192, expected 1x3x8x8",
       [](Backend& b) {
         Tensor ema = b.alloc({1, 1, 1, 192});
         b.batch_mean_ema(b.alloc(kX), 0.9f, ema);
       }},
      {"sgd_step: velocity is 2x3x4x4, expected 2x3x8x8",
       [](Backend& b) {
         Tensor p = b.alloc(kX), v = b.alloc(kPooled);
         b.sgd_step(p, b.alloc(kX), v, 0.1f, 0.9f);
       }},
      {"adam_step: step 0 must count from 1",
       [](Backend& b) {
         Tensor p = b.alloc(kX), m = b.alloc(kX), v = b.alloc(kX);
         b.adam_step(p, b.alloc(kX), m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 0);
       }},
  };
}

// Parameterised over the backends by name; vulkan skips where there is no device.
class BackendChecks : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "vulkan" && !shared_vulkan()) GTEST_SKIP() << "no Vulkan device: " << vulkan_unavailable_reason();
    if (GetParam() == "vulkan") messages_before_ = shared_vulkan()->validation_messages().size();
  }
  void TearDown() override {
    if (GetParam() != "vulkan" || !shared_vulkan()) return;
    shared_vulkan()->finish();
    const auto messages = shared_vulkan()->validation_messages();
    for (size_t i = messages_before_; i < messages.size(); ++i) ADD_FAILURE() << "validation: " << messages[i];
  }

  Backend& backend() {
    static CpuBackend cpu(1);
    static CpuCheckBackend cpu_f64(1);
    if (GetParam() == "cpu") return cpu;
    if (GetParam() == "cpu-f64") return cpu_f64;
    return *shared_vulkan();
  }

 private:
  size_t messages_before_ = 0;
};

TEST_P(BackendChecks, EveryBackendRefusesAWrongCallWithTheSameMessage) {
  for (const WrongCall& wrong : wrong_calls()) {
    try {
      wrong.call(backend());
      ADD_FAILURE() << "no error, expected \"" << wrong.message << "\"";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), wrong.message);
    }
  }
}

// A refused call queues nothing: the backend goes on working.
TEST_P(BackendChecks, ARefusedCallLeavesTheBackendUsable) {
  Backend& b = backend();
  Tensor x = b.alloc(kX), y = b.alloc({2, 4, 6, 6});
  EXPECT_THROW(b.conv2d(x, b.alloc(kW), 1, y), Error);
  b.fill(x, 2.0f);
  b.scale(x, 1.5f);
  for (float v : b.download(x)) ASSERT_EQ(v, 3.0f);
}

INSTANTIATE_TEST_SUITE_P(Backends, BackendChecks, ::testing::Values("cpu", "cpu-f64", "vulkan"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param == "cpu-f64" ? std::string("cpu_f64") : info.param;
                         });

}  // namespace
}  // namespace drmm::test
