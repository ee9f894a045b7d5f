// The cpu backend's non-convolution ops: against naive loops, adjoint identities, finite
// differences in double precision (CpuCheckBackend), and hand-computed optimiser steps.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/backend/cpu/cpu_backend.h"
#include "core/util/error.h"
#include "tests/core/gradcheck.h"

namespace drmm {
namespace {

using test::dot;
using test::random_vector;

// Double-precision tensors filled and read without going through float upload/download.
struct Check {
  CpuCheckBackend cpu{2};
  std::mt19937 rng{42};

  Tensor make(Shape s, const std::vector<double>& v) {
    Tensor t = cpu.alloc(s);
    set(t, v);
    return t;
  }
  Tensor random(Shape s, double lo = -1, double hi = 1) { return make(s, random_vector(s.count(), rng, lo, hi)); }
  void set(Tensor& t, const std::vector<double>& v) { std::copy(v.begin(), v.end(), cpu.data(t)); }
  std::vector<double> get(const Tensor& t) {
    const double* p = cpu.data(t);
    return {p, p + t.count()};
  }
  double scalar(const Tensor& t) { return cpu.data(t)[0]; }
};

// ---- pooling ------------------------------------------------------------------------------

class CpuPool : public ::testing::TestWithParam<int> {};  // thread count

TEST_P(CpuPool, MaxpoolSwitchesAreOneHotAtTheFirstMax) {
  CpuBackend cpu(GetParam());
  std::mt19937 rng(1);
  for (const Shape& s : {Shape{2, 3, 4, 6}, Shape{3, 5, 6, 6}, Shape{1, 1, 2, 2}, Shape{2, 70, 16, 16},
                         Shape{2, 3, 4, 38}}) {  // 19 windows a row: vectors and a scalar tail
    for (int k : {1, 2, 3}) {
      if (s.h % k || s.w % k) continue;
      // Few distinct values, so windows often hold ties.
      std::vector<float> x(s.count());
      for (auto& v : x) v = float(int(rng() % 4)) - 1.5f;
      Tensor tx = cpu.alloc(s), ty = cpu.alloc({s.n, s.c, s.h / k, s.w / k}), ts = cpu.alloc(s);
      cpu.upload(tx, x);
      cpu.fill(ts, 7);  // stale values must be overwritten
      cpu.maxpool(tx, k, ty, ts);
      const auto y = cpu.download(ty), sw = cpu.download(ts);
      for (int p = 0; p < s.n * s.c; ++p)
        for (int oy = 0; oy < s.h / k; ++oy)
          for (int ox = 0; ox < s.w / k; ++ox) {
            size_t first = 0;
            float best = -1e30f;
            int ones = 0;
            for (int dy = 0; dy < k; ++dy)
              for (int dx = 0; dx < k; ++dx) {
                const size_t i = size_t(p) * s.plane() + size_t(oy * k + dy) * s.w + size_t(ox * k + dx);
                if (x[i] > best) best = x[i], first = i;
                ones += sw[i] == 1.0f;
                EXPECT_TRUE(sw[i] == 0.0f || sw[i] == 1.0f);
              }
            EXPECT_EQ(ones, 1);
            EXPECT_EQ(sw[first], 1.0f);
            EXPECT_EQ(y[size_t(p) * (s.h / k) * (s.w / k) + size_t(oy) * (s.w / k) + size_t(ox)], best);
          }
    }
  }
}

// In float, with rows of 8 to 19 windows: the vectorised 2×2 loops and their scalar tails.
TEST_P(CpuPool, UnpoolAndItsAdjointFollowTheSwitchesInFloat) {
  CpuBackend cpu(GetParam());
  std::mt19937 rng(2);
  for (const Shape& big : {Shape{3, 4, 6, 38}, Shape{2, 32, 32, 32}, Shape{1, 2, 2, 16}}) {
    SCOPED_TRACE(big.str());
    const Shape small{big.n, big.c, big.h / 2, big.w / 2};
    auto randoms = [&](const Shape& s) {
      std::vector<float> v(s.count());
      for (auto& x : v) x = float(int(rng() % 2001) - 1000) / 256.0f;
      return v;
    };
    const auto x = randoms(big), y = randoms(small), dx = randoms(big);
    Tensor tx = cpu.alloc(big), ts = cpu.alloc(big), pooled = cpu.alloc(small), ty = cpu.alloc(small);
    Tensor tdx = cpu.alloc(big), out = cpu.alloc(big), tdy = cpu.alloc(small);
    cpu.upload(tx, x);
    cpu.upload(ty, y);
    cpu.upload(tdx, dx);
    cpu.maxpool(tx, 2, pooled, ts);
    cpu.unpool(ty, ts, 2, out);
    cpu.unpool_backward(tdx, ts, 2, tdy);
    const auto sw = cpu.download(ts), o = cpu.download(out), dy = cpu.download(tdy);
    for (int p = 0; p < big.n * big.c; ++p)
      for (int r = 0; r < big.h; ++r)
        for (int col = 0; col < big.w; ++col) {
          const size_t i = size_t(p) * big.plane() + size_t(r) * big.w + size_t(col);
          const size_t j = size_t(p) * small.plane() + size_t(r / 2) * small.w + size_t(col / 2);
          ASSERT_EQ(o[i], sw[i] * y[j]) << "unpool at " << i;
          if (sw[i] == 1.0f) {  // one switch per window
            ASSERT_EQ(dy[j], dx[i]) << "unpool_backward at " << j;
          }
        }
  }
}

INSTANTIATE_TEST_SUITE_P(CpuThreads, CpuPool, ::testing::Values(1, 2, 3));

TEST(CpuPoolCheck, UnpoolIsSwitchesTimesUpsample) {
  Check c;
  const Shape big{2, 3, 6, 4}, small{2, 3, 3, 2};
  Tensor x = c.random(big), y = c.random(small), sw = c.cpu.alloc(big), dummy = c.cpu.alloc(small);
  c.cpu.maxpool(x, 2, dummy, sw);
  Tensor out = c.cpu.alloc(big), up = c.cpu.alloc(big);
  c.cpu.unpool(y, sw, 2, out);
  c.cpu.upsample(y, 2, up);
  const auto o = c.get(out), u = c.get(up), s = c.get(sw), yv = c.get(y);
  for (size_t i = 0; i < o.size(); ++i) EXPECT_DOUBLE_EQ(o[i], s[i] * u[i]);
  // Nearest-neighbour: the big pixel (r, col) copies the small pixel (r/2, col/2).
  for (int p = 0; p < 6; ++p)
    for (int r = 0; r < 6; ++r)
      for (int col = 0; col < 4; ++col)
        EXPECT_DOUBLE_EQ(u[size_t(p) * 24 + size_t(r) * 4 + size_t(col)], yv[size_t(p) * 6 + size_t(r / 2) * 2 + size_t(col / 2)]);
}

// <A y, x> = <y, Aᵀ x> for the three pooling adjoint pairs.
TEST(CpuPoolCheck, AdjointIdentities) {
  Check c;
  for (int k : {2, 3}) {
    const Shape big{3, 4, 6 * k / 2 * 2, 4 * k}, small{3, 4, big.h / k, big.w / k};
    Tensor x = c.random(big), y = c.random(small), sw = c.cpu.alloc(big), pooled = c.cpu.alloc(small);
    c.cpu.maxpool(c.random(big), k, pooled, sw);
    Tensor a = c.cpu.alloc(big), b = c.cpu.alloc(small);
    c.cpu.unpool(y, sw, k, a);
    c.cpu.unpool_backward(x, sw, k, b);
    EXPECT_NEAR(dot(c.get(a), c.get(x)), dot(c.get(y), c.get(b)), 1e-12);
    c.cpu.upsample(y, k, a);
    c.cpu.sum_pool(x, k, b);
    EXPECT_NEAR(dot(c.get(a), c.get(x)), dot(c.get(y), c.get(b)), 1e-12);
  }
  const Shape s{3, 5, 6, 7};
  Tensor x = c.random(s), y = c.random({3, 5, 1, 1}), mean = c.cpu.alloc({3, 5, 1, 1}), back = c.cpu.alloc(s);
  c.cpu.mean_pool(x, mean);
  c.cpu.mean_pool_backward(y, back);
  EXPECT_NEAR(dot(c.get(mean), c.get(y)), dot(c.get(x), c.get(back)), 1e-12);
  const auto xv = c.get(x), mv = c.get(mean);
  double first = 0;
  for (int i = 0; i < 42; ++i) first += xv[size_t(i)];
  EXPECT_NEAR(mv[0], first / 42, 1e-14);
  EXPECT_NEAR(c.get(back)[0], c.get(y)[0] / 42, 1e-15);
}

// ---- elementwise --------------------------------------------------------------------------

TEST(CpuElementwise, ReluMulAxpyScale) {
  CpuBackend cpu(2);
  std::mt19937 rng(3);
  const Shape s{4, 3, 50, 50};  // large enough to be split across threads
  const auto a = test::to_float(random_vector(s.count(), rng)), b = test::to_float(random_vector(s.count(), rng));
  Tensor ta = cpu.alloc(s), tb = cpu.alloc(s), ty = cpu.alloc(s), tm = cpu.alloc(s);
  cpu.upload(ta, a), cpu.upload(tb, b);
  cpu.relu(ta, ty, tm);
  auto y = cpu.download(ty), m = cpu.download(tm);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(y[i], a[i] > 0 ? a[i] : 0.0f);
    EXPECT_EQ(m[i], a[i] > 0 ? 1.0f : 0.0f);
  }
  cpu.mul(ta, tb, ty);
  y = cpu.download(ty);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(y[i], a[i] * b[i]);
  cpu.mul(ta, tb, ta);  // y may alias a
  EXPECT_EQ(cpu.download(ta), y);
  cpu.upload(ta, a);
  cpu.axpy(0.5f, ta, tb);
  y = cpu.download(tb);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_FLOAT_EQ(y[i], b[i] + 0.5f * a[i]);
  cpu.scale(ta, -2.0f);
  y = cpu.download(ta);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(y[i], -2.0f * a[i]);
  cpu.relu(ta, ta, tm);  // in place
  y = cpu.download(ta);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(y[i], -2.0f * a[i] > 0 ? -2.0f * a[i] : 0.0f);
}

// The conv bias and its gradient against naive loops, and the adjoint identity
// ⟨add_channel_bias(0, b), dy⟩ = ⟨b, channel_sum(dy)⟩ that makes channel_sum its gradient.
TEST(CpuElementwise, ChannelBiasAndChannelSum) {
  Check c;
  const Shape s{3, 4, 5, 6};
  Tensor y = c.random(s), bias = c.random({1, 4, 1, 1}), dy = c.random(s);
  const auto y0 = c.get(y), b = c.get(bias), g = c.get(dy);
  c.cpu.add_channel_bias(y, bias);
  const auto y1 = c.get(y);
  std::vector<double> sums(4, 0.0);
  for (int n = 0; n < s.n; ++n)
    for (int ch = 0; ch < s.c; ++ch)
      for (int j = 0; j < s.h * s.w; ++j) {
        const size_t at = (size_t(n) * 4 + size_t(ch)) * size_t(s.h * s.w) + size_t(j);
        EXPECT_DOUBLE_EQ(y1[at], y0[at] + b[size_t(ch)]);
        sums[size_t(ch)] += g[at];
      }
  Tensor dbias = c.make({1, 4, 1, 1}, {1, 2, 3, 4});
  c.cpu.channel_sum(dy, dbias, false);
  auto db = c.get(dbias);
  for (int ch = 0; ch < 4; ++ch) EXPECT_NEAR(db[size_t(ch)], sums[size_t(ch)], 1e-12);
  c.cpu.channel_sum(dy, dbias, true);  // accumulates
  db = c.get(dbias);
  for (int ch = 0; ch < 4; ++ch) EXPECT_NEAR(db[size_t(ch)], 2 * sums[size_t(ch)], 1e-12);
  Tensor zero = c.make(s, std::vector<double>(s.count(), 0.0));
  c.cpu.add_channel_bias(zero, bias);
  EXPECT_NEAR(dot(c.get(zero), g), dot(b, db) / 2, 1e-10);
  Tensor wrong = c.cpu.alloc({1, 3, 1, 1});
  EXPECT_THROW(c.cpu.add_channel_bias(y, wrong), Error);
  EXPECT_THROW(c.cpu.channel_sum(dy, wrong, false), Error);
}

TEST(CpuMemory, AllocIsZeroUploadDownloadFillCopy) {
  CpuCheckBackend cpu(1);
  EXPECT_EQ(cpu.name(), "cpu-f64");
  EXPECT_EQ(CpuBackend(1).name(), "cpu");
  Tensor t = cpu.alloc({2, 3, 4, 5}), u = cpu.alloc({120, 1, 1, 1});
  for (float v : cpu.download(t)) EXPECT_EQ(v, 0.0f);
  std::vector<float> v(120);
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(i) * 0.25f;
  cpu.upload(t, v);
  EXPECT_EQ(cpu.download(t), v);
  cpu.copy(t, u);  // same count, different shape
  EXPECT_EQ(cpu.download(u), v);
  cpu.fill(u, 3);
  EXPECT_EQ(cpu.download(u), std::vector<float>(120, 3.0f));
  cpu.data(u)[0] = 1.0 + 1e-12;  // read_scalar keeps the check mode's precision
  EXPECT_EQ(cpu.read_scalar(u), 1.0 + 1e-12);
  EXPECT_THROW(cpu.upload(t, std::vector<float>(7)), Error);
  Tensor seven = cpu.alloc({1, 1, 1, 7});
  EXPECT_THROW(cpu.copy(t, seven), Error);
}

// ---- batch normalisation ------------------------------------------------------------------

TEST(CpuBatchnorm, TrainMatchesTheDefinitionAndUpdatesRunningStats) {
  Check c;
  const Shape s{5, 3, 4, 3};
  const int per_channel = 5 * 12;
  Tensor x = c.random(s, -2, 3), gamma = c.random({1, 3, 1, 1}), beta = c.random({1, 3, 1, 1});
  Tensor rm = c.make({1, 3, 1, 1}, {0.5, -1, 2}), rv = c.make({1, 3, 1, 1}, {1, 2, 3});
  Tensor y = c.cpu.alloc(s), mean = c.cpu.alloc({1, 3, 1, 1}), inv_std = c.cpu.alloc({1, 3, 1, 1});
  const double momentum = 0.1, eps = 1e-5;
  c.cpu.batchnorm_train(x, gamma, beta, float(momentum), float(eps), rm, rv, y, mean, inv_std);
  const auto xv = c.get(x), yv = c.get(y), g = c.get(gamma), b = c.get(beta);
  const double old_m[] = {0.5, -1, 2}, old_v[] = {1, 2, 3};
  for (int ch = 0; ch < 3; ++ch) {
    double sum = 0, sq = 0;
    for (int n = 0; n < 5; ++n)
      for (int i = 0; i < 12; ++i) sum += xv[size_t(n * 36 + ch * 12 + i)];
    const double mu = sum / per_channel;
    for (int n = 0; n < 5; ++n)
      for (int i = 0; i < 12; ++i) sq += std::pow(xv[size_t(n * 36 + ch * 12 + i)] - mu, 2);
    const double var = sq / per_channel;
    EXPECT_NEAR(c.get(mean)[size_t(ch)], mu, 1e-12);
    EXPECT_NEAR(c.get(inv_std)[size_t(ch)], 1 / std::sqrt(var + double(float(eps))), 1e-10);
    EXPECT_NEAR(c.get(rm)[size_t(ch)], (1 - double(float(momentum))) * old_m[ch] + double(float(momentum)) * mu, 1e-12);
    EXPECT_NEAR(c.get(rv)[size_t(ch)],
                (1 - double(float(momentum))) * old_v[ch] + double(float(momentum)) * var * per_channel / (per_channel - 1),
                1e-12);  // unbiased
    for (int n = 0; n < 5; ++n)
      for (int i = 0; i < 12; ++i) {
        const size_t at = size_t(n * 36 + ch * 12 + i);
        EXPECT_NEAR(yv[at], g[size_t(ch)] * (xv[at] - mu) / std::sqrt(var + double(float(eps))) + b[size_t(ch)], 1e-10);
      }
  }
  // Inference with the running statistics.
  Tensor yi = c.cpu.alloc(s);
  c.cpu.batchnorm_infer(x, gamma, beta, rm, rv, float(eps), yi);
  const auto yiv = c.get(yi), rmv = c.get(rm), rvv = c.get(rv);
  for (size_t at = 0; at < yiv.size(); ++at) {
    const size_t ch = at / 12 % 3;
    EXPECT_NEAR(yiv[at], g[ch] * (xv[at] - rmv[ch]) / std::sqrt(rvv[ch] + double(float(eps))) + b[ch], 1e-12);
  }
}

// f(x, γ, β) = <bn(x), r>; backward gives ∂f/∂x, and adds ∂f/∂γ, ∂f/∂β.
TEST(CpuBatchnorm, BackwardMatchesFiniteDifferences) {
  Check c;
  const Shape s{4, 3, 3, 2}, ch{1, 3, 1, 1};
  Tensor x = c.random(s), gamma = c.random(ch, 0.5, 1.5), beta = c.random(ch), r = c.random(s);
  Tensor rm = c.cpu.alloc(ch), rv = c.cpu.alloc(ch), y = c.cpu.alloc(s), mean = c.cpu.alloc(ch),
         inv_std = c.cpu.alloc(ch);
  auto f = [&](Tensor& which, const std::vector<double>& v) {
    const auto saved = c.get(which);
    c.set(which, v);
    c.cpu.batchnorm_train(x, gamma, beta, 0.1f, 1e-5f, rm, rv, y, mean, inv_std);
    c.set(which, saved);
    return dot(c.get(y), c.get(r));
  };
  c.cpu.batchnorm_train(x, gamma, beta, 0.1f, 1e-5f, rm, rv, y, mean, inv_std);
  Tensor dx = c.cpu.alloc(s), dgamma = c.make(ch, {1, 2, 3}), dbeta = c.make(ch, {-1, 0, 1});
  c.cpu.batchnorm_backward(r, x, gamma, mean, inv_std, dx, dgamma, dbeta);
  auto dg = c.get(dgamma), db = c.get(dbeta);
  for (int i = 0; i < 3; ++i) dg[size_t(i)] -= i + 1, db[size_t(i)] -= i - 1;  // they accumulate
  EXPECT_TRUE(test::gradient_matches([&](const auto& v) { return f(x, v); }, c.get(x), c.get(dx)));
  EXPECT_TRUE(test::gradient_matches([&](const auto& v) { return f(gamma, v); }, c.get(gamma), dg));
  EXPECT_TRUE(test::gradient_matches([&](const auto& v) { return f(beta, v); }, c.get(beta), db));
}

// ---- classifier and losses ----------------------------------------------------------------

TEST(CpuLoss, SoftmaxIsStableAndNormalised) {
  CpuBackend cpu(1);
  Tensor logits = cpu.alloc({2, 3, 1, 1}), q = cpu.alloc({2, 3, 1, 1});
  cpu.upload(logits, std::vector<float>{1000, 1001, 1002, -5, 0, 5});
  cpu.softmax(logits, q);
  const auto v = cpu.download(q);
  const double z = 1 + std::exp(1.0) + std::exp(2.0);
  EXPECT_NEAR(v[0], 1 / z, 1e-6);
  EXPECT_NEAR(v[2], std::exp(2.0) / z, 1e-6);
  EXPECT_NEAR(v[3] + v[4] + v[5], 1, 1e-6);
  EXPECT_THROW(cpu.softmax(cpu.alloc({2, 3, 2, 1}), q), Error);
}

// A loss L(q(logits)) checked against finite differences in the logits.
void expect_loss_gradient(Check& c, const std::function<void(const Tensor& q, Tensor& loss, Tensor& dlogits)>& loss_fn,
                          const Tensor& logits_init) {
  Tensor logits = c.cpu.alloc(logits_init.shape());
  c.set(logits, c.get(logits_init));
  Tensor q = c.cpu.alloc(logits.shape()), loss = c.cpu.alloc({1, 1, 1, 1}), grad = c.cpu.alloc(logits.shape());
  auto f = [&](const std::vector<double>& v) {
    c.set(logits, v);
    c.cpu.softmax(logits, q);
    Tensor scratch = c.cpu.alloc(logits.shape());
    loss_fn(q, loss, scratch);
    return c.scalar(loss);
  };
  const auto x0 = c.get(logits);
  f(x0);
  loss_fn(q, loss, grad);
  EXPECT_TRUE(test::gradient_matches(f, x0, c.get(grad)));
}

TEST(CpuLoss, CrossEntropyValueAndGradient) {
  Check c;
  Tensor logits = c.random({6, 4, 1, 1}, -2, 2), labels = c.make({6, 1, 1, 1}, {2, -1, 0, 3, -1, 1});
  Tensor q = c.cpu.alloc(logits.shape()), loss = c.cpu.alloc({1, 1, 1, 1}), d = c.cpu.alloc(logits.shape());
  c.cpu.softmax(logits, q);
  c.cpu.cross_entropy(q, labels, 1.0f, loss, d);
  const auto qv = c.get(q);
  const double want = -(std::log(qv[2]) + std::log(qv[8]) + std::log(qv[15]) + std::log(qv[21])) / 4;  // 4 labeled
  EXPECT_NEAR(c.scalar(loss), want, 1e-12);
  expect_loss_gradient(c, [&](const Tensor& qq, Tensor& l, Tensor& g) { c.cpu.cross_entropy(qq, labels, 1.0f, l, g); },
                       logits);
  // The weight scales the gradient, not the reported loss; gradients accumulate.
  Tensor d2 = c.make(logits.shape(), c.get(d));
  c.cpu.cross_entropy(q, labels, 0.5f, loss, d2);
  EXPECT_NEAR(c.scalar(loss), want, 1e-12);
  for (size_t i = 0; i < qv.size(); ++i) EXPECT_NEAR(c.get(d2)[i], 1.5 * c.get(d)[i], 1e-14);
}

TEST(CpuLoss, CrossEntropyWithoutLabelsIsZeroAndBadLabelsThrow) {
  Check c;
  Tensor q = c.random({3, 4, 1, 1}, 0.1, 0.3), loss = c.make({1, 1, 1, 1}, {9}), d = c.cpu.alloc({3, 4, 1, 1});
  c.cpu.cross_entropy(q, c.make({3, 1, 1, 1}, {-1, -1, -1}), 1.0f, loss, d);
  EXPECT_EQ(c.scalar(loss), 0.0);
  for (double v : c.get(d)) EXPECT_EQ(v, 0.0);
  EXPECT_THROW(c.cpu.cross_entropy(q, c.make({3, 1, 1, 1}, {0, 4, 1}), 1.0f, loss, d), Error);
  EXPECT_THROW(c.cpu.cross_entropy(q, c.make({3, 1, 1, 1}, {0, 1.5, 1}), 1.0f, loss, d), Error);
  EXPECT_THROW(c.cpu.cross_entropy(q, c.cpu.alloc({2, 1, 1, 1}), 1.0f, loss, d), Error);
}

// The host default of render_class_onehot: a label that is no class index is refused (it
// would put the image's 1 past its row), whether it is too large or not an integer.
TEST(CpuLoss, RenderClassOnehotRefusesALabelThatIsNoClass) {
  CpuBackend cpu(1);
  Tensor q = cpu.alloc({2, 10, 1, 1}), labels = cpu.alloc({2, 1, 1, 1}), onehot = cpu.alloc({2, 10, 1, 1});
  cpu.upload(labels, std::vector<float>{3, 10});
  try {
    cpu.render_class_onehot(q, labels, true, onehot);
    ADD_FAILURE() << "label 10 of 10 classes was accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "render_class_onehot: label 10 of image 1 is not a class index in [0, 10) or negative (unlabeled)");
  }
  cpu.upload(labels, std::vector<float>{2.5f, -1});
  EXPECT_THROW(cpu.render_class_onehot(q, labels, true, onehot), Error);
  cpu.upload(labels, std::vector<float>{9, -1});  // the largest class and an unlabeled image
  cpu.render_class_onehot(q, labels, true, onehot);
  EXPECT_EQ(cpu.download(onehot)[9], 1.0f);
  cpu.upload(labels, std::vector<float>{3, 10});  // labels unused: predictions only
  cpu.render_class_onehot(q, labels, false, onehot);
}

TEST(CpuLoss, KlLossBothSignsValueAndGradient) {
  Check c;
  Tensor logits = c.random({5, 3, 1, 1}, -2, 2);
  Tensor q = c.cpu.alloc(logits.shape()), loss = c.cpu.alloc({1, 1, 1, 1}), d = c.cpu.alloc(logits.shape());
  c.cpu.softmax(logits, q);
  const auto qv = c.get(q);
  double kl = 0;  // (1/N) Σ q log(C q + 1e-8), paper 002 eq. 7
  for (double v : qv) kl += v * std::log(3 * v + 1e-8);
  kl /= 5;
  for (bool paper : {false, true}) {
    SCOPED_TRACE(paper ? "paper sign" : "code sign");
    c.cpu.kl_loss(q, paper, 1.0f, loss, d);
    EXPECT_NEAR(c.scalar(loss), paper ? kl : -kl, 1e-12);
    expect_loss_gradient(c, [&](const Tensor& qq, Tensor& l, Tensor& g) { c.cpu.kl_loss(qq, paper, 1.0f, l, g); },
                         logits);
  }
  // The uniform distribution is the minimum of the paper's sign: zero loss, zero gradient.
  Tensor uniform = c.make({1, 3, 1, 1}, {1.0 / 3, 1.0 / 3, 1.0 / 3}), du = c.cpu.alloc({1, 3, 1, 1});
  c.cpu.kl_loss(uniform, true, 1.0f, loss, du);
  EXPECT_NEAR(c.scalar(loss), 0, 1e-7);
  for (double v : c.get(du)) EXPECT_NEAR(v, 0, 1e-12);
}

TEST(CpuLoss, ReconstructionAndNonnegativity) {
  Check c;
  const Shape s{4, 2, 3, 3};
  Tensor a = c.random(s), b = c.random(s), loss = c.cpu.alloc({1, 1, 1, 1});
  const auto av = c.get(a), bv = c.get(b);
  double want = 0, neg = 0;
  for (size_t i = 0; i < av.size(); ++i) {
    want += (av[i] - bv[i]) * (av[i] - bv[i]);
    neg += av[i] < 0 ? av[i] * av[i] : 0;
  }
  auto rc = [&](const std::vector<double>& v, Tensor& grad, float weight) {
    c.set(a, v);
    c.cpu.reconstruction_loss(a, b, weight, loss, grad);
    return c.scalar(loss);
  };
  Tensor da = c.cpu.alloc(s), scratch = c.cpu.alloc(s);
  EXPECT_NEAR(rc(av, da, 1.0f), want / 4, 1e-12);
  EXPECT_TRUE(test::gradient_matches([&](const auto& v) { return rc(v, scratch, 1.0f); }, av, c.get(da)));

  auto nn = [&](const std::vector<double>& v, Tensor& grad) {
    c.set(a, v);
    c.set(loss, {0});
    c.cpu.nonnegativity_loss(a, 1.0f, loss, grad);
    return c.scalar(loss);
  };
  Tensor dz = c.cpu.alloc(s);
  EXPECT_NEAR(nn(av, dz), neg / double(s.count()), 1e-12);  // the mean over the level's elements
  EXPECT_TRUE(test::gradient_matches([&](const auto& v) { return nn(v, scratch); }, av, c.get(dz)));
  c.set(a, av);
  c.set(loss, {1.5});  // layers' terms add up
  c.cpu.nonnegativity_loss(a, 2.0f, loss, scratch);
  EXPECT_NEAR(c.scalar(loss), 1.5 + neg / double(s.count()), 1e-12);
}

// ---- statistics and optimisers ------------------------------------------------------------

TEST(CpuOptim, BatchMeanEma) {
  Check c;
  Tensor x = c.make({2, 1, 1, 3}, {1, 2, 3, 5, 6, 7}), ema = c.make({1, 1, 1, 3}, {10, 10, 10});
  c.cpu.batch_mean_ema(x, 0.75f, ema);
  const auto e = c.get(ema);
  EXPECT_NEAR(e[0], 0.75 * 10 + 0.25 * 3, 1e-12);
  EXPECT_NEAR(e[2], 0.75 * 10 + 0.25 * 5, 1e-12);
  Tensor wrong = c.cpu.alloc({2, 1, 1, 3});
  EXPECT_THROW(c.cpu.batch_mean_ema(x, 0.5f, wrong), Error);
}

TEST(CpuOptim, SgdStepByHand) {
  Check c;
  Tensor p = c.make({1, 1, 1, 2}, {1, -2}), g = c.make({1, 1, 1, 2}, {0.5, 4}), v = c.make({1, 1, 1, 2}, {0.1, 0});
  c.cpu.sgd_step(p, g, v, 0.25f, 0.5f);
  // v = 0.5·v − 0.25·g = (0.05 − 0.125, −1) = (−0.075, −1); p += v.
  EXPECT_NEAR(c.get(v)[0], -0.075, 1e-15);
  EXPECT_NEAR(c.get(v)[1], -1, 1e-15);
  EXPECT_NEAR(c.get(p)[0], 0.925, 1e-15);
  EXPECT_NEAR(c.get(p)[1], -3, 1e-15);
}

TEST(CpuOptim, AdamStepsByHand) {
  Check c;
  Tensor p = c.make({1, 1, 1, 2}, {1, -1}), g = c.make({1, 1, 1, 2}, {0.2, -0.4});
  Tensor m = c.cpu.alloc({1, 1, 1, 2}), v = c.cpu.alloc({1, 1, 1, 2});
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  c.cpu.adam_step(p, g, m, v, float(lr), float(b1), float(b2), float(eps), 1);
  // Step 1: m = 0.1 g, v = 0.001 g²; m̂ = g, v̂ = g², so p −= lr·g/(|g| + eps) ≈ lr·sign(g).
  const double f1 = double(float(b1)), f2 = double(float(b2)), flr = double(float(lr)), feps = double(float(eps));
  EXPECT_NEAR(c.get(m)[0], (1 - f1) * 0.2, 1e-15);
  EXPECT_NEAR(c.get(v)[1], (1 - f2) * 0.16, 1e-15);
  EXPECT_NEAR(c.get(p)[0], 1 - flr * 0.2 / (0.2 + feps), 1e-12);
  EXPECT_NEAR(c.get(p)[1], -1 + flr * 0.4 / (0.4 + feps), 1e-12);
  // Step 2 with a new gradient, bias corrections 1 − β^2.
  c.set(g, {-0.1, -0.4});
  const double m0 = (1 - f1) * 0.2, v0 = (1 - f2) * 0.04;
  const double m2 = f1 * m0 + (1 - f1) * -0.1, v2 = f2 * v0 + (1 - f2) * 0.01;
  const double p0 = c.get(p)[0];
  c.cpu.adam_step(p, g, m, v, float(lr), float(b1), float(b2), float(eps), 2);
  const double want = p0 - flr * (m2 / (1 - f1 * f1)) / (std::sqrt(v2 / (1 - f2 * f2)) + feps);
  EXPECT_NEAR(c.get(p)[0], want, 1e-12);
  EXPECT_THROW(c.cpu.adam_step(p, g, m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 0), Error);
}

// ---- shape checks -------------------------------------------------------------------------

TEST(CpuErrors, MismatchedShapesThrowNamingTheOp) {
  CpuBackend cpu(1);
  Tensor a = cpu.alloc({2, 3, 4, 4}), b = cpu.alloc({2, 3, 4, 5}), s = cpu.alloc({1, 1, 1, 1});
  auto expect = [](const std::function<void()>& call, const std::string& op) {
    try {
      call();
      ADD_FAILURE() << "no error from " << op;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(op + ":", 0), 0u) << e.what();
    }
  };
  Tensor small = cpu.alloc({2, 3, 2, 2}), odd = cpu.alloc({2, 3, 3, 3}), sw = cpu.alloc({2, 3, 3, 3});
  expect([&] { cpu.maxpool(odd, 2, small, sw); }, "maxpool");
  expect([&] { cpu.maxpool(a, 2, b, a); }, "maxpool");
  expect([&] { cpu.unpool(b, a, 2, a); }, "unpool");
  expect([&] { cpu.unpool_backward(a, b, 2, small); }, "unpool_backward");
  expect([&] { cpu.upsample(small, 3, a); }, "upsample");
  expect([&] { cpu.sum_pool(a, 2, b); }, "sum_pool");
  expect([&] { cpu.mean_pool(a, small); }, "mean_pool");
  expect([&] { cpu.mean_pool_backward(small, a); }, "mean_pool_backward");
  expect([&] { cpu.relu(a, b, a); }, "relu");
  expect([&] { cpu.mul(a, b, a); }, "mul");
  expect([&] { cpu.axpy(1, a, b); }, "axpy");
  Tensor ch = cpu.alloc({1, 3, 1, 1}), ch4 = cpu.alloc({1, 4, 1, 1});
  expect([&] { cpu.batchnorm_train(a, ch4, ch, 0.1f, 1e-5f, ch, ch, a, ch, ch); }, "batchnorm_train");
  expect([&] { cpu.batchnorm_infer(a, ch, ch, ch, ch, 1e-5f, b); }, "batchnorm_infer");
  expect([&] { cpu.batchnorm_backward(a, a, ch, ch, ch, b, ch, ch); }, "batchnorm_backward");
  Tensor q = cpu.alloc({2, 3, 1, 1});
  expect([&] { cpu.kl_loss(q, false, 1, a, q); }, "kl_loss");
  expect([&] { cpu.reconstruction_loss(a, b, 1, s, a); }, "reconstruction_loss");
  expect([&] { cpu.nonnegativity_loss(a, 1, s, b); }, "nonnegativity_loss");
  expect([&] { cpu.sgd_step(a, b, a, 0.1f, 0.9f); }, "sgd_step");
  expect([&] { cpu.adam_step(a, a, b, a, 0.1f, 0.9f, 0.99f, 1e-8f, 1); }, "adam_step");
}

}  // namespace
}  // namespace drmm
