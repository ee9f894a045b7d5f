#include <algorithm>

#include "core/backend/cpu/kernels.h"
#include "core/backend/cpu/simd.h"

namespace drmm::cpu {

namespace {

// Calls fn(window, small) for every k×k window of every plane, where `window` points at the
// window's top-left element of the big side (row stride g.w) and `small` indexes the pooled
// side. Every pooling op below is one such loop with a different body.
template <class Fn>
void for_each_window(const PoolGeometry& g, size_t planes, Fn&& fn) {
  const int sh = g.h / g.k, sw = g.w / g.k;
  for (size_t p = 0; p < planes; ++p)
    for (int oy = 0; oy < sh; ++oy)
      for (int ox = 0; ox < sw; ++ox)
        fn(p * g.big_plane() + size_t(oy) * g.k * g.w + size_t(ox) * g.k, (p * sh + oy) * sw + ox);
}

// Calls fn(r0, r1, o) for every pair of big-side rows (r0, r1 = r0 + w, offsets into the big
// side) and the pooled row o they fold into (offset into the pooled side): the 2×2 windows,
// ConvSmall's only pooling, as straight loops over a row pair the compiler can vectorise.
template <class Fn>
void for_each_row_pair(const PoolGeometry& g, size_t planes, Fn&& fn) {
  const size_t rows = planes * size_t(g.h / 2);
  for (size_t r = 0; r < rows; ++r) fn(r * 2 * size_t(g.w), r * 2 * size_t(g.w) + size_t(g.w), r * size_t(g.w / 2));
}

// The 2×2 kernels below on `lanes` windows at once: the 2·lanes values of a row pair are
// split into the windows' four corners (even/odd columns of each row) and put back the
// same way. Each returns the windows done; the callers' scalar loops do the rest.

template <class Real>
int maxpool_2x2_lanes(int windows, const Real* top, const Real* bottom, Real* y, Real* s_top, Real* s_bottom) {
  using S = Simd<Real>;
  using P = Pairs<Real>;
  using V = typename S::V;
  constexpr int L = S::lanes;
  const V one = S::broadcast(1), zero = S::zero();
  int done = 0;
  for (; done + L <= windows; done += L, top += 2 * L, bottom += 2 * L, y += L, s_top += 2 * L, s_bottom += 2 * L) {
    const V t0 = S::load(top), t1 = S::load(top + L), b0 = S::load(bottom), b1 = S::load(bottom + L);
    // The scalar scan of maxpool(): corners in row-major order, strict '>', first max wins.
    V m = P::even(t0, t1), at = zero;
    const auto take = [&](V v, Real corner) {
      const auto greater = v > m;
      m = greater ? v : m;
      at = greater ? S::broadcast(corner) : at;
    };
    take(P::odd(t0, t1), 1);
    take(P::even(b0, b1), 2);
    take(P::odd(b0, b1), 3);
    const auto is = [&](Real corner) { return at == S::broadcast(corner) ? one : zero; };
    const V s0 = is(0), s1 = is(1), s2 = is(2), s3 = is(3);
    S::store(s_top, P::first(s0, s1));
    S::store(s_top + L, P::second(s0, s1));
    S::store(s_bottom, P::first(s2, s3));
    S::store(s_bottom + L, P::second(s2, s3));
    S::store(y, m);
  }
  return done;
}

// x (both rows of the pair) = switches ⊙ (y with every value repeated twice).
template <class Real>
int unpool_2x2_lanes(int windows, const Real* y, const Real* s_top, const Real* s_bottom, Real* top, Real* bottom) {
  using S = Simd<Real>;
  using P = Pairs<Real>;
  using V = typename S::V;
  constexpr int L = S::lanes;
  int done = 0;
  for (; done + L <= windows; done += L) {
    const V v = S::load(y + done), lo = P::first(v, v), hi = P::second(v, v);
    const int at = 2 * done;
    S::store(top + at, S::load(s_top + at) * lo);
    S::store(top + at + L, S::load(s_top + at + L) * hi);
    S::store(bottom + at, S::load(s_bottom + at) * lo);
    S::store(bottom + at + L, S::load(s_bottom + at + L) * hi);
  }
  return done;
}

// dy = the sum of switches ⊙ dx over each window, added in the scalar loop's order.
template <class Real>
int unpool_backward_2x2_lanes(int windows, const Real* d_top, const Real* d_bottom, const Real* s_top,
                              const Real* s_bottom, Real* dy) {
  using S = Simd<Real>;
  using P = Pairs<Real>;
  using V = typename S::V;
  constexpr int L = S::lanes;
  int done = 0;
  for (; done + L <= windows; done += L) {
    const int at = 2 * done;
    const V t0 = S::load(s_top + at) * S::load(d_top + at), t1 = S::load(s_top + at + L) * S::load(d_top + at + L);
    const V b0 = S::load(s_bottom + at) * S::load(d_bottom + at),
            b1 = S::load(s_bottom + at + L) * S::load(d_bottom + at + L);
    S::store(dy + done, ((P::even(t0, t1) + P::odd(t0, t1)) + P::even(b0, b1)) + P::odd(b0, b1));
  }
  return done;
}

}  // namespace

template <class Real>
void maxpool(const PoolGeometry& g, size_t planes, const Real* x, Real* y, Real* switches) {
  if (g.k == 2) {
    for_each_row_pair(g, planes, [&](size_t r0, size_t r1, size_t o) {
      const int windows = g.w / 2;
      for (int ox = maxpool_2x2_lanes(windows, x + r0, x + r1, y + o, switches + r0, switches + r1); ox < windows;
           ++ox) {
        const Real a = x[r0 + 2 * ox], b = x[r0 + 2 * ox + 1], c = x[r1 + 2 * ox], d = x[r1 + 2 * ox + 1];
        // The same scan as below: row-major, strict '>', the first maximum wins.
        Real m = a;
        int at = 0;
        if (b > m) m = b, at = 1;
        if (c > m) m = c, at = 2;
        if (d > m) m = d, at = 3;
        switches[r0 + 2 * ox] = at == 0 ? Real(1) : Real(0);
        switches[r0 + 2 * ox + 1] = at == 1 ? Real(1) : Real(0);
        switches[r1 + 2 * ox] = at == 2 ? Real(1) : Real(0);
        switches[r1 + 2 * ox + 1] = at == 3 ? Real(1) : Real(0);
        y[o + size_t(ox)] = m;
      }
    });
    return;
  }
  for_each_window(g, planes, [&](size_t at, size_t out) {
    // Row-major scan with a strict '>' keeps the first position that attains the max.
    size_t best = at;
    for (int dy = 0; dy < g.k; ++dy)
      for (int dx = 0; dx < g.k; ++dx) {
        const size_t i = at + size_t(dy) * g.w + dx;
        switches[i] = 0;
        if (x[i] > x[best]) best = i;
      }
    switches[best] = 1;
    y[out] = x[best];
  });
}

template <class Real>
void unpool(const PoolGeometry& g, size_t planes, const Real* y, const Real* switches, Real* x) {
  if (g.k == 2) {
    for_each_row_pair(g, planes, [&](size_t r0, size_t r1, size_t o) {
      const int done = unpool_2x2_lanes(g.w / 2, y + o, switches + r0, switches + r1, x + r0, x + r1);
      for (int i = 2 * done; i < g.w; ++i) {
        const Real v = y[o + size_t(i / 2)];
        x[r0 + size_t(i)] = switches[r0 + size_t(i)] * v;
        x[r1 + size_t(i)] = switches[r1 + size_t(i)] * v;
      }
    });
    return;
  }
  for_each_window(g, planes, [&](size_t at, size_t out) {
    for (int dy = 0; dy < g.k; ++dy)
      for (int dx = 0; dx < g.k; ++dx) {
        const size_t i = at + size_t(dy) * g.w + dx;
        x[i] = switches[i] * y[out];
      }
  });
}

template <class Real>
void unpool_backward(const PoolGeometry& g, size_t planes, const Real* dx, const Real* switches, Real* dy) {
  if (g.k == 2) {
    for_each_row_pair(g, planes, [&](size_t r0, size_t r1, size_t o) {
      const int windows = g.w / 2;
      for (int ox = unpool_backward_2x2_lanes(windows, dx + r0, dx + r1, switches + r0, switches + r1, dy + o);
           ox < windows; ++ox) {
        const size_t a = r0 + 2 * size_t(ox), c = r1 + 2 * size_t(ox);
        dy[o + size_t(ox)] = switches[a] * dx[a] + switches[a + 1] * dx[a + 1] + switches[c] * dx[c] +
                             switches[c + 1] * dx[c + 1];
      }
    });
    return;
  }
  for_each_window(g, planes, [&](size_t at, size_t out) {
    Real sum = 0;
    for (int r = 0; r < g.k; ++r)
      for (int c = 0; c < g.k; ++c) sum += switches[at + size_t(r) * g.w + c] * dx[at + size_t(r) * g.w + c];
    dy[out] = sum;
  });
}

template <class Real>
void upsample(const PoolGeometry& g, size_t planes, const Real* x, Real* y) {
  for_each_window(g, planes, [&](size_t at, size_t small) {
    for (int r = 0; r < g.k; ++r) std::fill_n(y + at + size_t(r) * g.w, g.k, x[small]);
  });
}

template <class Real>
void sum_pool(const PoolGeometry& g, size_t planes, const Real* x, Real* y) {
  for_each_window(g, planes, [&](size_t at, size_t out) {
    Real sum = 0;
    for (int r = 0; r < g.k; ++r)
      for (int c = 0; c < g.k; ++c) sum += x[at + size_t(r) * g.w + c];
    y[out] = sum;
  });
}

template <class Real>
void mean_pool(size_t planes, size_t plane, const Real* x, Real* y) {
  for (size_t p = 0; p < planes; ++p) {
    double sum = 0;  // double: a float sum of a large plane loses digits
    for (size_t i = 0; i < plane; ++i) sum += x[p * plane + i];
    y[p] = Real(sum / double(plane));
  }
}

template <class Real>
void mean_pool_backward(size_t planes, size_t plane, const Real* dy, Real* dx) {
  for (size_t p = 0; p < planes; ++p) std::fill_n(dx + p * plane, plane, Real(dy[p] / Real(plane)));
}

#define DRMM_INSTANTIATE(Real)                                                                           \
  template void maxpool<Real>(const PoolGeometry&, size_t, const Real*, Real*, Real*);                   \
  template void unpool<Real>(const PoolGeometry&, size_t, const Real*, const Real*, Real*);              \
  template void unpool_backward<Real>(const PoolGeometry&, size_t, const Real*, const Real*, Real*);     \
  template void upsample<Real>(const PoolGeometry&, size_t, const Real*, Real*);                         \
  template void sum_pool<Real>(const PoolGeometry&, size_t, const Real*, Real*);                         \
  template void mean_pool<Real>(size_t, size_t, const Real*, Real*);                                     \
  template void mean_pool_backward<Real>(size_t, size_t, const Real*, Real*);
DRMM_INSTANTIATE(float)
DRMM_INSTANTIATE(double)
#undef DRMM_INSTANTIATE

}  // namespace drmm::cpu
