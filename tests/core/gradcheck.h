#pragma once
// Finite-difference gradient checks, shared by the backend op tests and the whole-model
// gradient tests. Use them with CpuCheckBackend (double precision): in float, central
// differences lose about half the digits and the check stops meaning much.
//
//   auto f = [&](const std::vector<double>& x) { ...; return scalar; };
//   EXPECT_TRUE(drmm::test::gradient_matches(f, x0, analytic_gradient));
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace drmm::test {

struct GradCheckOptions {
  double step = 1e-6;        // central difference (f(x+h) − f(x−h)) / 2h, error O(h²)
  double rtol = 1e-5;        // |analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|)
  double atol = 1e-7;
  size_t max_coordinates = 0;  // > 0: check an evenly spread subset of this many coordinates
};

using ScalarFunction = std::function<double(const std::vector<double>&)>;

// The central-difference derivative of f at x along coordinate i.
inline double numeric_partial(const ScalarFunction& f, std::vector<double>& x, size_t i, double step) {
  const double saved = x[i];
  x[i] = saved + step;
  const double plus = f(x);
  x[i] = saved - step;
  const double minus = f(x);
  x[i] = saved;
  return (plus - minus) / (2 * step);
}

// Compares `analytic` (∂f/∂x at x) with central differences, coordinate by coordinate, and
// reports the worst coordinate when one is off.
inline ::testing::AssertionResult gradient_matches(const ScalarFunction& f, std::vector<double> x,
                                                   const std::vector<double>& analytic,
                                                   const GradCheckOptions& options = {}) {
  if (analytic.size() != x.size())
    return ::testing::AssertionFailure() << "gradient has " << analytic.size() << " entries for " << x.size()
                                         << " coordinates";
  const size_t stride =
      options.max_coordinates > 0 ? std::max<size_t>(1, x.size() / options.max_coordinates) : size_t(1);
  size_t failures = 0, checked = 0;
  std::ostringstream report;
  for (size_t i = 0; i < x.size(); i += stride, ++checked) {
    const double numeric = numeric_partial(f, x, i, options.step);
    const double tolerance = options.atol + options.rtol * std::max(std::fabs(analytic[i]), std::fabs(numeric));
    if (std::fabs(analytic[i] - numeric) > tolerance && failures++ < 5)
      report << "\n  coordinate " << i << ": analytic " << analytic[i] << ", numeric " << numeric;
  }
  if (failures == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << failures << " of " << checked << " coordinates differ" << report.str();
}

// ---- small helpers for such tests ---------------------------------------------------------

inline std::vector<double> random_vector(size_t n, std::mt19937& rng, double lo = -1, double hi = 1) {
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) s += a[i] * b[i];
  return s;
}

inline std::vector<float> to_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }
inline std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

}  // namespace drmm::test
