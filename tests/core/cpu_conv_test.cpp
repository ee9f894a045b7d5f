// The cpu backend's convolutions against naive loops written here, against each other
// (adjoint identities) and against finite differences in double precision.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/backend/cpu/cpu_backend.h"
#include "core/util/error.h"
#include "tests/core/gradcheck.h"

namespace drmm {
namespace {

using test::dot;
using test::random_vector;

struct ConvCase {
  int n, cin, cout, h, w, k, pad;
  std::string str() const {  // a stream: GCC 12 -Wrestrict misfires on long string '+' chains
    std::ostringstream s;
    s << "n" << n << " cin" << cin << " cout" << cout << " " << h << "x" << w << " k" << k << " pad" << pad;
    return s.str();
  }
  int ho() const { return h + 2 * pad - k + 1; }
  int wo() const { return w + 2 * pad - k + 1; }
  Shape x() const { return {n, cin, h, w}; }
  Shape wt() const { return {cout, cin, k, k}; }
  Shape y() const { return {n, cout, ho(), wo()}; }
};

// Odd sizes, pads 0 / 1 / k−1, kernels 1 / 3 / 5, channel counts off the 6×16 tile, images
// small enough that several share one GEMM, and a layer big enough to cross the K (256) and
// M (144) cache blocks. The last rows are ConvSmall's layers at a small batch. The two cases
// ending the third row have Cin ≥ 16 at odd sizes with padding, where the transposed
// convolution runs as a forward convolution with flipped filters (ConvSmall's conv2, conv3
// and 1×1 layer take that path too, its conv4 the GEMM + col2im one). 3×3 kernels with
// outputs at least 12 wide and at least 16 channels on either side run as Winograd
// F(2×2, 3×3): the fourth row has odd output sizes there (a partial last tile, a partial last
// vector of tiles), and both its cases' transposes run that way too.
std::vector<ConvCase> conv_cases() {
  return {{1, 1, 1, 1, 1, 1, 0},   {2, 1, 3, 5, 7, 3, 0},   {3, 2, 5, 6, 5, 3, 1},   {2, 3, 7, 4, 4, 3, 2},
          {5, 4, 13, 3, 3, 1, 0},  {1, 3, 17, 9, 11, 5, 4}, {4, 7, 6, 7, 7, 5, 2},   {9, 5, 11, 2, 3, 3, 2},
          {2, 6, 5, 8, 8, 1, 0},   {3, 40, 150, 9, 9, 3, 1}, {2, 2, 3, 5, 5, 5, 0},  {2, 17, 5, 7, 9, 3, 1},  {3, 20, 7, 5, 6, 5, 4},
          {2, 16, 18, 13, 15, 3, 1}, {3, 17, 20, 11, 25, 3, 2},
          {4, 1, 32, 28, 28, 5, 4},
          {3, 32, 64, 16, 16, 3, 0}, {3, 64, 64, 14, 14, 3, 2}, {5, 64, 128, 8, 8, 3, 0}, {7, 128, 10, 6, 6, 1, 0}};
}

double at4(const std::vector<double>& v, const Shape& s, int n, int c, int y, int x) {
  return v[((size_t(n) * s.c + c) * s.h + y) * s.w + x];
}

// The definitions, summed in double, straight from backend.h.
std::vector<double> naive_conv(const ConvCase& cc, const std::vector<double>& x, const std::vector<double>& w) {
  std::vector<double> y(cc.y().count());
  for (int n = 0; n < cc.n; ++n)
    for (int o = 0; o < cc.cout; ++o)
      for (int oy = 0; oy < cc.ho(); ++oy)
        for (int ox = 0; ox < cc.wo(); ++ox) {
          double s = 0;
          for (int i = 0; i < cc.cin; ++i)
            for (int ky = 0; ky < cc.k; ++ky)
              for (int kx = 0; kx < cc.k; ++kx) {
                const int iy = oy + ky - cc.pad, ix = ox + kx - cc.pad;
                if (iy >= 0 && iy < cc.h && ix >= 0 && ix < cc.w)
                  s += at4(x, cc.x(), n, i, iy, ix) * at4(w, cc.wt(), o, i, ky, kx);
              }
          y[((size_t(n) * cc.cout + o) * cc.ho() + oy) * cc.wo() + ox] = s;
        }
  return y;
}

std::vector<double> naive_conv_backward_input(const ConvCase& cc, const std::vector<double>& dy,
                                              const std::vector<double>& w) {
  std::vector<double> dx(cc.x().count());
  for (int n = 0; n < cc.n; ++n)
    for (int i = 0; i < cc.cin; ++i)
      for (int iy = 0; iy < cc.h; ++iy)
        for (int ix = 0; ix < cc.w; ++ix) {
          double s = 0;
          for (int o = 0; o < cc.cout; ++o)
            for (int ky = 0; ky < cc.k; ++ky)
              for (int kx = 0; kx < cc.k; ++kx) {
                const int oy = iy - ky + cc.pad, ox = ix - kx + cc.pad;
                if (oy >= 0 && oy < cc.ho() && ox >= 0 && ox < cc.wo())
                  s += at4(dy, cc.y(), n, o, oy, ox) * at4(w, cc.wt(), o, i, ky, kx);
              }
          dx[((size_t(n) * cc.cin + i) * cc.h + iy) * cc.w + ix] = s;
        }
  return dx;
}

std::vector<double> naive_conv_backward_weight(const ConvCase& cc, const std::vector<double>& x,
                                               const std::vector<double>& dy) {
  std::vector<double> dw(cc.wt().count());
  for (int o = 0; o < cc.cout; ++o)
    for (int i = 0; i < cc.cin; ++i)
      for (int ky = 0; ky < cc.k; ++ky)
        for (int kx = 0; kx < cc.k; ++kx) {
          double s = 0;
          for (int n = 0; n < cc.n; ++n)
            for (int oy = 0; oy < cc.ho(); ++oy)
              for (int ox = 0; ox < cc.wo(); ++ox) {
                const int iy = oy + ky - cc.pad, ix = ox + kx - cc.pad;
                if (iy >= 0 && iy < cc.h && ix >= 0 && ix < cc.w)
                  s += at4(x, cc.x(), n, i, iy, ix) * at4(dy, cc.y(), n, o, oy, ox);
              }
          dw[((size_t(o) * cc.cin + i) * cc.k + ky) * cc.k + kx] = s;
        }
  return dw;
}

// float results against the double reference: the error of a float sum of K products of
// values in [−1, 1] grows like √K·2⁻²⁴; 1e-5·K is a loose but still failing bound.
void expect_close(const std::vector<float>& got, const std::vector<double>& want, double terms,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  const double tolerance = 1e-5 * (1 + terms);
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= tolerance) && bad++ < 3)
      ADD_FAILURE() << what << " [" << i << "]: got " << got[i] << ", want " << want[i];
}

Tensor make(CpuBackend& cpu, Shape s, const std::vector<double>& v) {
  Tensor t = cpu.alloc(s);
  cpu.upload(t, test::to_float(v));
  return t;
}

class CpuConv : public ::testing::TestWithParam<int> {};  // the thread count

TEST_P(CpuConv, MatchesNaiveLoops) {
  CpuBackend cpu(GetParam());
  std::mt19937 rng(7);
  for (const auto& cc : conv_cases()) {
    SCOPED_TRACE(cc.str());
    const auto x = random_vector(cc.x().count(), rng), w = random_vector(cc.wt().count(), rng);
    const auto dy = random_vector(cc.y().count(), rng);
    Tensor tx = make(cpu, cc.x(), x), tw = make(cpu, cc.wt(), w), tdy = make(cpu, cc.y(), dy);
    Tensor ty = cpu.alloc(cc.y()), tdx = cpu.alloc(cc.x()), tdw = cpu.alloc(cc.wt());
    cpu.conv2d(tx, tw, cc.pad, ty);
    expect_close(cpu.download(ty), naive_conv(cc, x, w), cc.cin * cc.k * cc.k, "conv2d");
    cpu.conv2d_backward_input(tdy, tw, cc.pad, tdx, false);
    expect_close(cpu.download(tdx), naive_conv_backward_input(cc, dy, w), cc.cout * cc.k * cc.k,
                 "conv2d_backward_input");
    cpu.conv2d_backward_weight(tx, tdy, cc.pad, tdw, false);
    expect_close(cpu.download(tdw), naive_conv_backward_weight(cc, x, dy), cc.n * cc.ho() * cc.wo(),
                 "conv2d_backward_weight");
  }
}

TEST_P(CpuConv, AccumulateAddsToTheOldValue) {
  CpuBackend cpu(GetParam());
  std::mt19937 rng(8);
  const ConvCase cc{3, 2, 5, 6, 6, 3, 1};
  const auto x = random_vector(cc.x().count(), rng), w = random_vector(cc.wt().count(), rng);
  const auto dy = random_vector(cc.y().count(), rng);
  const auto old_dx = random_vector(cc.x().count(), rng), old_dw = random_vector(cc.wt().count(), rng);
  Tensor tx = make(cpu, cc.x(), x), tw = make(cpu, cc.wt(), w), tdy = make(cpu, cc.y(), dy);
  Tensor tdx = make(cpu, cc.x(), old_dx), tdw = make(cpu, cc.wt(), old_dw);
  cpu.conv2d_backward_input(tdy, tw, cc.pad, tdx, true);
  cpu.conv2d_backward_weight(tx, tdy, cc.pad, tdw, true);
  auto want_dx = naive_conv_backward_input(cc, dy, w), want_dw = naive_conv_backward_weight(cc, x, dy);
  for (size_t i = 0; i < want_dx.size(); ++i) want_dx[i] += old_dx[i];
  for (size_t i = 0; i < want_dw.size(); ++i) want_dw[i] += old_dw[i];
  expect_close(cpu.download(tdx), want_dx, 50, "dx");
  expect_close(cpu.download(tdw), want_dw, 150, "dw");
}

INSTANTIATE_TEST_SUITE_P(CpuThreads, CpuConv, ::testing::Values(1, 2, 3));

// ---- double precision: adjoints and finite differences -----------------------------------

void set(CpuCheckBackend& cpu, Tensor& t, const std::vector<double>& v) { std::copy(v.begin(), v.end(), cpu.data(t)); }
std::vector<double> get(CpuCheckBackend& cpu, const Tensor& t) {
  const double* p = cpu.data(t);
  return {p, p + t.count()};
}

// <conv(x), y> = <x, convᵀ(y)> and = <w, backward_weight(x, y)>: the three ops are one
// bilinear form read three ways.
TEST(CpuConvCheck, AdjointIdentities) {
  CpuCheckBackend cpu(2);
  std::mt19937 rng(9);
  for (const auto& cc : conv_cases()) {
    SCOPED_TRACE(cc.str());
    const auto x = random_vector(cc.x().count(), rng), w = random_vector(cc.wt().count(), rng);
    const auto r = random_vector(cc.y().count(), rng);
    Tensor tx = cpu.alloc(cc.x()), tw = cpu.alloc(cc.wt()), tr = cpu.alloc(cc.y());
    set(cpu, tx, x), set(cpu, tw, w), set(cpu, tr, r);
    Tensor ty = cpu.alloc(cc.y()), tdx = cpu.alloc(cc.x()), tdw = cpu.alloc(cc.wt());
    cpu.conv2d(tx, tw, cc.pad, ty);
    cpu.conv2d_backward_input(tr, tw, cc.pad, tdx, false);
    cpu.conv2d_backward_weight(tx, tr, cc.pad, tdw, false);
    const double form = dot(get(cpu, ty), r);
    EXPECT_NEAR(dot(x, get(cpu, tdx)), form, 1e-10 * (1 + std::fabs(form)));
    EXPECT_NEAR(dot(w, get(cpu, tdw)), form, 1e-10 * (1 + std::fabs(form)));
  }
}

// f(x, w) = <conv(x, w), r>: ∂f/∂x = backward_input(r), ∂f/∂w = backward_weight(x, r).
TEST(CpuConvCheck, GradientsMatchFiniteDifferences) {
  CpuCheckBackend cpu(2);
  std::mt19937 rng(10);
  for (const ConvCase& cc : {ConvCase{2, 3, 4, 5, 6, 3, 1}, ConvCase{3, 2, 3, 4, 4, 5, 4}, ConvCase{2, 4, 3, 3, 3, 1, 0}}) {
    SCOPED_TRACE(cc.str());
    const auto x = random_vector(cc.x().count(), rng), w = random_vector(cc.wt().count(), rng);
    const auto r = random_vector(cc.y().count(), rng);
    Tensor tx = cpu.alloc(cc.x()), tw = cpu.alloc(cc.wt()), tr = cpu.alloc(cc.y()), ty = cpu.alloc(cc.y());
    set(cpu, tr, r);
    auto f = [&](const std::vector<double>& xv, const std::vector<double>& wv) {
      set(cpu, tx, xv), set(cpu, tw, wv);
      cpu.conv2d(tx, tw, cc.pad, ty);
      return dot(get(cpu, ty), r);
    };
    set(cpu, tx, x), set(cpu, tw, w);
    Tensor tdx = cpu.alloc(cc.x()), tdw = cpu.alloc(cc.wt());
    cpu.conv2d_backward_input(tr, tw, cc.pad, tdx, false);
    cpu.conv2d_backward_weight(tx, tr, cc.pad, tdw, false);
    const auto dx = get(cpu, tdx), dw = get(cpu, tdw);
    EXPECT_TRUE(test::gradient_matches([&](const std::vector<double>& v) { return f(v, w); }, x, dx));
    EXPECT_TRUE(test::gradient_matches([&](const std::vector<double>& v) { return f(x, v); }, w, dw));
  }
}

// ---- misuse is an error, not undefined behaviour -----------------------------------------

void expect_error_naming(const std::function<void()>& call, const std::string& op, const std::string& detail) {
  try {
    call();
    ADD_FAILURE() << "no error for " << op;
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(op), std::string::npos) << what;
    EXPECT_NE(what.find(detail), std::string::npos) << what;
  }
}

TEST(CpuConvErrors, ShapeMismatchesThrowNamingTheOpAndShapes) {
  CpuBackend cpu(1);
  Tensor x = cpu.alloc({2, 3, 8, 8}), w = cpu.alloc({4, 3, 3, 3}), y = cpu.alloc({2, 4, 6, 6});
  Tensor wrong_w = cpu.alloc({4, 2, 3, 3}), wrong_y = cpu.alloc({2, 4, 8, 8}), rect = cpu.alloc({4, 3, 3, 2});
  expect_error_naming([&] { cpu.conv2d(x, w, 1, y); }, "conv2d", "2x4x8x8");  // pad 1 needs 8×8 output
  expect_error_naming([&] { cpu.conv2d(x, wrong_w, 0, y); }, "conv2d", "4x2x3x3");
  expect_error_naming([&] { cpu.conv2d(x, rect, 0, y); }, "conv2d", "square");
  expect_error_naming([&] { cpu.conv2d(x, w, 3, wrong_y); }, "conv2d", "pad");
  expect_error_naming([&] { cpu.conv2d(x, w, 0, x); }, "conv2d", "y is 2x3x8x8");
  expect_error_naming([&] { cpu.conv2d_backward_input(wrong_y, w, 0, x, false); }, "conv2d_backward_input",
                      "2x4x8x8");
  expect_error_naming([&] { cpu.conv2d_backward_weight(x, y, 0, wrong_w, false); }, "conv2d_backward_weight",
                      "4x2x3x3");
  Tensor empty;
  expect_error_naming([&] { cpu.conv2d(empty, w, 0, y); }, "conv2d", "not allocated");
  CpuCheckBackend other(1);
  Tensor foreign = other.alloc({2, 3, 8, 8});
  expect_error_naming([&] { cpu.conv2d(foreign, w, 0, y); }, "cpu", "not allocated by this backend");
}

}  // namespace
}  // namespace drmm
