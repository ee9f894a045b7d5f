#pragma once
// Plain-loop CNN pieces shared by the model tests: references written from their definitions,
// independent of the backends' ops (no im2col, no GEMM, no shared kernels), so that a test
// comparing the engine against them checks the engine and not a copy of itself.
#include <cstdint>
#include <vector>

#include "core/util/random.h"

namespace drmm::naive {

using Volume = std::vector<double>;  // C×H×W of one image, row-major

inline std::vector<float> random_values(size_t n, uint64_t seed, double lo = 0.0, double hi = 1.0) {
  Random r(seed);
  std::vector<float> v(n);
  for (float& x : v) x = float(r.uniform(lo, hi));
  return v;
}

// y[o] = Σ_i x[i] ⋆ w[o,i], stride 1, `pad` zeros on every side (cross-correlation, weights
// Cout×Cin×k×k, no bias): the DRMM's bottom-up conv (DESIGN.md §3.2).
inline Volume conv_naive(const Volume& x, int cin, int h, int w, const double* weights, int cout, int k, int pad,
                         int& oh, int& ow) {
  oh = h + 2 * pad - k + 1;
  ow = w + 2 * pad - k + 1;
  Volume y(size_t(cout) * oh * ow, 0.0);
  for (int o = 0; o < cout; ++o)
    for (int i = 0; i < cin; ++i)
      for (int r = 0; r < oh; ++r)
        for (int c = 0; c < ow; ++c)
          for (int u = 0; u < k; ++u)
            for (int v = 0; v < k; ++v) {
              const int yy = r + u - pad, xx = c + v - pad;
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              y[(size_t(o) * oh + r) * ow + c] +=
                  weights[((size_t(o) * cin + i) * k + u) * k + v] * x[(size_t(i) * h + yy) * w + xx];
            }
  return y;
}

// The adjoint of conv_naive in x, written directly as a scatter: every output position and
// kernel tap sends w·z[out] back to the input pixel that tap read. This is the DRMM's top-down
// rendering Γᵀ ∗ z (paper 002 App. B, eq. 13; valid↔full, half↔half fall out of the padding),
// deliberately not conv_naive with flipped filters, so the two stay independent. z is
// Cout×oh×ow with oh = h + 2·pad − k + 1; the result is Cin×h×w.
inline Volume conv_transpose_naive(const Volume& z, int cout, int oh, int ow, const double* weights, int cin, int k,
                                   int pad, int h, int w) {
  Volume x(size_t(cin) * h * w, 0.0);
  for (int o = 0; o < cout; ++o)
    for (int r = 0; r < oh; ++r)
      for (int c = 0; c < ow; ++c) {
        const double zo = z[(size_t(o) * oh + r) * ow + c];
        for (int i = 0; i < cin; ++i)
          for (int u = 0; u < k; ++u)
            for (int v = 0; v < k; ++v) {
              const int yy = r + u - pad, xx = c + v - pad;
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              x[(size_t(i) * h + yy) * w + xx] += weights[((size_t(o) * cin + i) * k + u) * k + v] * zo;
            }
      }
  return x;
}

}  // namespace drmm::naive
