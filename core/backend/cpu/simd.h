#pragma once
// The few vector operations the cpu backend's hot loops need, for float and double, on
// GCC vector extensions. Only included by the drmm_cpu sources, which are compiled with
// -march=x86-64-v3 (AVX2 + FMA) when the compiler supports it; without AVX the vectors
// shrink to 16 bytes (SSE2, every x86-64) and the same code still builds.
//
// Why explicit fma(): the project builds with -std=c++20 (not gnu++20), under which GCC
// does not contract a*b+c into one FMA instruction, and the GEMM is FMA-bound.
#include <cstddef>
#include <cstring>
#include <utility>

#if defined(__FMA__)
#include <immintrin.h>
#endif

namespace drmm::cpu {

#if defined(__AVX__)
inline constexpr int kVectorBytes = 32;
#else
inline constexpr int kVectorBytes = 16;
#endif

template <class Real>
struct Simd {
  static constexpr int lanes = kVectorBytes / int(sizeof(Real));
  typedef Real V __attribute__((vector_size(kVectorBytes)));

  static V zero() { return V{}; }
  static V broadcast(Real s) { return V{} + s; }  // folded into one broadcast by GCC
  static V load(const Real* p) {                  // any alignment
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(Real* p, V v) { std::memcpy(p, &v, sizeof v); }
  static V fma(V a, V b, V c);  // a*b + c, one rounding where the hardware has FMA
};

#if defined(__FMA__) && defined(__AVX__)
template <>
inline Simd<float>::V Simd<float>::fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
template <>
inline Simd<double>::V Simd<double>::fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
template <>
inline Simd<float>::V Simd<float>::broadcast(float s) { return _mm256_set1_ps(s); }
template <>
inline Simd<double>::V Simd<double>::broadcast(double s) { return _mm256_set1_pd(s); }
#else
template <class Real>
inline typename Simd<Real>::V Simd<Real>::fma(V a, V b, V c) { return a * b + c; }
#endif

// Pairs of neighbours, for 2×2 pooling windows and Winograd's 2×2 tiles: the even- and
// odd-indexed values of the 2·lanes values a, b (a first), and its inverse, which interleaves
// x and y into x0 y0 x1 y1 … (first: the lower halves of x and y, second: the upper halves).
template <class V, size_t... I>
V take_even(V a, V b, std::index_sequence<I...>) {
  return __builtin_shufflevector(a, b, (2 * I)...);
}
template <class V, size_t... I>
V take_odd(V a, V b, std::index_sequence<I...>) {
  return __builtin_shufflevector(a, b, (2 * I + 1)...);
}
template <class V, size_t... I>
V interleave_low(V x, V y, std::index_sequence<I...>) {
  return __builtin_shufflevector(x, y, (I / 2 + (I % 2) * sizeof...(I))...);
}
template <class V, size_t... I>
V interleave_high(V x, V y, std::index_sequence<I...>) {
  return __builtin_shufflevector(x, y, (sizeof...(I) / 2 + I / 2 + (I % 2) * sizeof...(I))...);
}

template <class Real>
struct Pairs {
  using V = typename Simd<Real>::V;
  using Lanes = std::make_index_sequence<size_t(Simd<Real>::lanes)>;
  static V even(V a, V b) { return take_even(a, b, Lanes{}); }
  static V odd(V a, V b) { return take_odd(a, b, Lanes{}); }
  static V first(V x, V y) { return interleave_low(x, y, Lanes{}); }
  static V second(V x, V y) { return interleave_high(x, y, Lanes{}); }
};

// Four doubles: sums of float data are taken in double, four lanes at a time (a scalar double
// accumulator would serialise on the adder's latency).
typedef double D4 __attribute__((vector_size(32)));

inline D4 load_d4(const double* p) {
  D4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline D4 load_d4(const float* p) {
  typedef float F4 __attribute__((vector_size(16)));
  F4 v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_convertvector(v, D4);
}
inline double sum_lanes(D4 v) { return (v[0] + v[1]) + (v[2] + v[3]); }

}  // namespace drmm::cpu
