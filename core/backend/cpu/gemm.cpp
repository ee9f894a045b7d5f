#include "core/backend/cpu/gemm.h"

#include <algorithm>
#include <cstring>

#include "core/backend/cpu/simd.h"

namespace drmm::cpu {

namespace {

// Register tile MR×NR: 6 rows × 2 vectors = 12 accumulators, plus 2 B vectors and one
// broadcast A value, fits the 16 vector registers of AVX2 (the shape BLIS uses on Haswell
// and Zen). KC keeps a B micro-panel (KC·NR values, ≤ 20 KB in float) in L1; MC keeps the
// packed A block (MC·KC, ≤ 180 KB in float) in L2; NC bounds the packed B block. K is cut
// into equal blocks of at most KC (k_block), so 3×3 layers of 32 and 64 channels (K = 288,
// 576) take one and two blocks.
template <class Real>
struct Tile {
  static constexpr int MR = 6, NR = 2 * Simd<Real>::lanes;
  static constexpr int KC = 320, MC = 144, NC = 2048;
};

// c[Rows×NR] (+)= A-panel · B-panel over kc steps; a: kc×MR packed (only its first Rows
// columns are read), b: kc×NR packed. Rows < MR serves the last tile of a matrix whose row
// count is not a multiple of MR (64 = 10·6 + 4), at the cost of its own rows only.
template <class Real, int Rows>
void micro_kernel(int kc, const Real* __restrict a, const Real* __restrict b, Real* __restrict c,
                  ptrdiff_t ldc, bool accumulate) {
  using S = Simd<Real>;
  using V = typename S::V;
  constexpr int MR = Tile<Real>::MR, NR = Tile<Real>::NR, L = S::lanes;
  V acc[Rows][2];
#pragma GCC unroll 6
  for (int i = 0; i < Rows; ++i) acc[i][0] = acc[i][1] = S::zero();
  for (int p = 0; p < kc; ++p, a += MR, b += NR) {
    const V b0 = S::load(b), b1 = S::load(b + L);
#pragma GCC unroll 6
    for (int i = 0; i < Rows; ++i) {
      const V ai = S::broadcast(a[i]);
      acc[i][0] = S::fma(ai, b0, acc[i][0]);
      acc[i][1] = S::fma(ai, b1, acc[i][1]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < Rows; ++i) {
    Real* ci = c + i * ldc;
    if (accumulate) {
      acc[i][0] += S::load(ci);
      acc[i][1] += S::load(ci + L);
    }
    S::store(ci, acc[i][0]);
    S::store(ci + L, acc[i][1]);
  }
}

// A tile of m ≤ MR rows and n ≤ NR columns: the kernel for exactly m rows, straight into C
// when the tile has all NR columns, else into a local tile (the packed B panel is
// zero-padded) of which the n columns that exist are copied out.
template <class Real, int Rows>
void rows_kernel(int kc, const Real* a, const Real* b, Real* c, ptrdiff_t ldc, bool accumulate, int n) {
  constexpr int NR = Tile<Real>::NR;
  if (n == NR) {
    micro_kernel<Real, Rows>(kc, a, b, c, ldc, accumulate);
    return;
  }
  alignas(64) Real tile[Rows * NR];
  micro_kernel<Real, Rows>(kc, a, b, tile, NR, false);
  for (int i = 0; i < Rows; ++i)
    for (int j = 0; j < n; ++j) c[i * ldc + j] = (accumulate ? c[i * ldc + j] : Real(0)) + tile[i * NR + j];
}

template <class Real>
void tile_kernel(int kc, const Real* a, const Real* b, Real* c, ptrdiff_t ldc, bool accumulate, int m, int n) {
  static_assert(Tile<Real>::MR == 6, "one case per row count below");
  switch (m) {
    case 6: rows_kernel<Real, 6>(kc, a, b, c, ldc, accumulate, n); break;
    case 5: rows_kernel<Real, 5>(kc, a, b, c, ldc, accumulate, n); break;
    case 4: rows_kernel<Real, 4>(kc, a, b, c, ldc, accumulate, n); break;
    case 3: rows_kernel<Real, 3>(kc, a, b, c, ldc, accumulate, n); break;
    case 2: rows_kernel<Real, 2>(kc, a, b, c, ldc, accumulate, n); break;
    default: rows_kernel<Real, 1>(kc, a, b, c, ldc, accumulate, n); break;
  }
}

#if defined(__AVX__)
// The in-lane part of an 8×8 float transpose: afterwards r[i] (i < 4) holds column i of
// rows 0–3 in its lower 128-bit lane and column i+4 of them in its upper lane, and r[i+4]
// the same for rows 4–7. The callers join the lanes as they store.
inline void transpose_lanes(__m256 (&r)[8]) {
  __m256 t[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
}

// Transposes the 8×8 float block with rows src[r·ld ...] into dst rows of stride dst_ld.
inline void transpose_8x8(const float* src, ptrdiff_t ld, float* dst, ptrdiff_t dst_ld) {
  __m256 r[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * ld);
  transpose_lanes(r);
  for (int i = 0; i < 4; ++i) {
    _mm256_storeu_ps(dst + i * dst_ld, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
    _mm256_storeu_ps(dst + (i + 4) * dst_ld, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
  }
}

// 6 source rows × 8 k values into 8 panel rows of width 6 (the micro-kernel's A panels):
// each panel row is stored as a whole vector whose last two lanes the next store overwrites,
// so the caller's buffer needs 2 values of slack after the panel (Gemm::kPackSlack).
inline void transpose_6x8(const float* src, ptrdiff_t ld, float* dst) {
  __m256 r[8];
  for (int i = 0; i < 6; ++i) r[i] = _mm256_loadu_ps(src + i * ld);
  r[6] = r[7] = _mm256_setzero_ps();
  transpose_lanes(r);
  for (int i = 0; i < 4; ++i) _mm256_storeu_ps(dst + i * 6, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
  for (int i = 0; i < 4; ++i) _mm256_storeu_ps(dst + (i + 4) * 6, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
}

// The vector part of pack_transposed_panel: whole 8×8 blocks (6×8 for a full A panel);
// returns the k rows done.
inline int transpose_blocks(const float* src, ptrdiff_t ld, int rows, int kc, int width, float* out) {
  if (rows == 6 && width == 6) {
    int p = 0;
    for (; p + 8 <= kc; p += 8) transpose_6x8(src + p, ld, out + p * 6);
    return p;
  }
  if (rows % 8 != 0 || width % 8 != 0) return 0;
  int p = 0;
  for (; p + 8 <= kc; p += 8)
    for (int j0 = 0; j0 < rows; j0 += 8) transpose_8x8(src + j0 * ld + p, ld, out + p * width + j0, width);
  return p;
}
#endif
template <class Real>
int transpose_blocks(const Real*, ptrdiff_t, int, int, int, Real*) {
  return 0;  // no vector path for this type: the scalar loop does it all
}

inline int round_up(int x, int m) { return (x + m - 1) / m * m; }

// The K block size for a product of depth k: the fewest blocks of at most KC, of equal size
// (a 576-deep product runs as 2 × 288, not 256 + 256 + 64, whose last thin block would pay
// the C tile's loads and stores for a quarter of the work).
template <class Real>
int k_block(int k) {
  constexpr int KC = Tile<Real>::KC;
  const int blocks = (k + KC - 1) / KC;
  return (k + blocks - 1) / blocks;
}

}  // namespace

template <class Real>
void pack_transposed_panel(const Real* src, ptrdiff_t ld, int rows, int kc, int width, Real* out) {
  const int done = transpose_blocks(src, ld, rows, kc, width, out);
  for (int j = 0; j < rows; ++j)
    for (int p = done; p < kc; ++p) out[p * width + j] = src[j * ld + p];
  for (int p = done; p < kc; ++p)
    for (int j = rows; j < width; ++j) out[p * width + j] = 0;
  if (rows < width)
    for (int p = 0; p < done; ++p)
      for (int j = rows; j < width; ++j) out[p * width + j] = 0;
}

template <class Real>
void StridedOperand<Real>::pack(int k0, int kc, int j0, int cols, int width, Real* out) const {
  for (int q = 0; q * width < cols; ++q, out += ptrdiff_t(kc) * width) {
    const int first = j0 + q * width, w = std::min(width, cols - q * width);
    const Real* src = v_.data + k0 * v_.row_stride + first * v_.col_stride;
    if (v_.row_stride == 1 && v_.col_stride != 1) {  // columns contiguous: a transpose
      pack_transposed_panel(src, v_.col_stride, w, kc, width, out);
      continue;
    }
    for (int p = 0; p < kc; ++p) {
      Real* o = out + p * width;
      const Real* s = src + p * v_.row_stride;
      for (int j = 0; j < w; ++j) o[j] = s[j * v_.col_stride];
      for (int j = w; j < width; ++j) o[j] = 0;
    }
  }
}

template <class Real>
template <class PackA>
void Gemm<Real>::run_blocks(int m, int n, int k, PackA&& pack_a_block, const GemmOperand<Real>& b, Real* c,
                            ptrdiff_t ldc, bool accumulate) {
  using T = Tile<Real>;
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {  // an empty sum
    if (!accumulate)
      for (int i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, Real(0));
    return;
  }
  const int kb = k_block<Real>(k);
  packed_b_.reserve_discard(size_t(round_up(std::min(n, T::NC), T::NR)) * size_t(kb) + size_t(kPackSlack));
  for (int jc = 0; jc < n; jc += T::NC) {
    const int nc = std::min(T::NC, n - jc);
    for (int pc = 0; pc < k; pc += kb) {
      const int kc = std::min(kb, k - pc);
      const bool acc = accumulate || pc > 0;  // later K blocks add to the first one's result
      b.pack(pc, kc, jc, nc, T::NR, packed_b_.data());
      for (int ic = 0; ic < m; ic += T::MC) {
        const int mc = std::min(T::MC, m - ic);
        const Real* block = pack_a_block(pc, kc, ic, mc);
        for (int jr = 0; jr < nc; jr += T::NR) {
          const Real* pb = packed_b_.data() + ptrdiff_t(jr) * kc;
          for (int ir = 0; ir < mc; ir += T::MR) {
            const Real* pa = block + ptrdiff_t(ir) * kc;
            Real* ct = c + ptrdiff_t(ic + ir) * ldc + (jc + jr);
            tile_kernel(kc, pa, pb, ct, ldc, acc, std::min(T::MR, mc - ir), std::min(T::NR, nc - jr));
          }
        }
      }
    }
  }
}

template <class Real>
void Gemm<Real>::run(int m, int n, int k, const GemmOperand<Real>& a_t, const GemmOperand<Real>& b, Real* c,
                     ptrdiff_t ldc, bool accumulate) {
  using T = Tile<Real>;
  if (m > 0 && k > 0)
    packed_a_.reserve_discard(size_t(round_up(std::min(m, T::MC), T::MR)) * size_t(k_block<Real>(k)) +
                              size_t(kPackSlack));
  run_blocks(
      m, n, k,
      [&](int pc, int kc, int ic, int mc) {
        a_t.pack(pc, kc, ic, mc, T::MR, packed_a_.data());
        return static_cast<const Real*>(packed_a_.data());
      },
      b, c, ldc, accumulate);
}

// Layout: K block by K block (kc = min(KC, k − pc) rows each), each holding all of A's row
// panels (round_up(m, MR) rows × kc); an M block starting at row ic is then at offset ic·kc.
template <class Real>
size_t Gemm<Real>::packed_a_size(int m, int k) {
  return size_t(round_up(std::max(m, 1), Tile<Real>::MR)) * size_t(std::max(k, 1)) + size_t(kPackSlack);
}

template <class Real>
void Gemm<Real>::pack_a(int m, int k, const GemmOperand<Real>& a_t, Real* out) {
  using T = Tile<Real>;
  const int kb = k_block<Real>(k);
  for (int pc = 0; pc < k; pc += kb) {
    const int kc = std::min(kb, k - pc);
    a_t.pack(pc, kc, 0, m, T::MR, out + ptrdiff_t(round_up(m, T::MR)) * pc);
  }
}

template <class Real>
void Gemm<Real>::run_packed(int m, int n, int k, const Real* packed_a, const GemmOperand<Real>& b, Real* c,
                            ptrdiff_t ldc, bool accumulate) {
  const ptrdiff_t rows = round_up(m, Tile<Real>::MR);
  run_blocks(
      m, n, k, [&](int pc, int kc, int ic, int) { return packed_a + rows * pc + ptrdiff_t(ic) * kc; }, b, c, ldc,
      accumulate);
}

template void pack_transposed_panel<float>(const float*, ptrdiff_t, int, int, int, float*);
template void pack_transposed_panel<double>(const double*, ptrdiff_t, int, int, int, double*);
template class StridedOperand<float>;
template class StridedOperand<double>;
template class Gemm<float>;
template class Gemm<double>;

}  // namespace drmm::cpu
