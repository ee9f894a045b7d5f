#pragma once
// Single-threaded blocked GEMM for the cpu backend's convolutions (the backend runs one
// per thread on different images). The structure is the classic one of Goto & van de Geijn
// 2008 ("Anatomy of high-performance matrix multiplication", also BLIS): both operands are
// packed into narrow k-major panels so that a register-tiled MR×NR micro-kernel streams them
// with unit stride; K is blocked so that a B micro-panel stays in L1 while the packed A
// block sits in L2.
//
// Operands are given as packers rather than as arrays, so that a convolution can pack
// straight from the image (implicit im2col) instead of first writing a column matrix that
// is bigger than L2 and then reading it back.
#include <cstddef>

#include "core/backend/cpu/aligned_buffer.h"

namespace drmm::cpu {

// A logical K×cols matrix that can write any block of itself in packed-panel form.
template <class Real>
class GemmOperand {
 public:
  virtual ~GemmOperand() = default;
  // Writes rows [k0, k0+kc) × columns [j0, j0+cols) as consecutive panels of `width`
  // columns, each stored k-major (kc·width values, row p at p·width); the columns of the
  // last panel past `cols` are zero.
  virtual void pack(int k0, int kc, int j0, int cols, int width, Real* out) const = 0;
};

// A strided array: element (i, j) is data[i·row_stride + j·col_stride]. A transpose is a
// view with the strides swapped, so the GEMM needs no transpose flags.
template <class Real>
struct MatrixView {
  const Real* data = nullptr;
  ptrdiff_t row_stride = 0, col_stride = 1;

  static MatrixView row_major(const Real* p, ptrdiff_t ld) { return {p, ld, 1}; }
  MatrixView transposed() const { return {data, col_stride, row_stride}; }
};

template <class Real>
class StridedOperand final : public GemmOperand<Real> {
 public:
  explicit StridedOperand(MatrixView<Real> view) : v_(view) {}
  void pack(int k0, int kc, int j0, int cols, int width, Real* out) const override;

 private:
  MatrixView<Real> v_;
};

// Packs `rows` ≤ width source rows (row j: src[j·ld + p], p < kc) as the columns of one
// panel: out[p·width + j]. A transpose; vectorised for float panels of 16.
template <class Real>
void pack_transposed_panel(const Real* src, ptrdiff_t ld, int rows, int kc, int width, Real* out);

// Owns the packing buffers; keep one per thread and reuse it (they only grow).
template <class Real>
class Gemm {
 public:
  // C[m×n] (row stride ldc) = A·B (+ the old C when `accumulate`), where `a_t` is Aᵀ
  // (k×m; packing A's rows is packing Aᵀ's columns) and `b` is B (k×n).
  void run(int m, int n, int k, const GemmOperand<Real>& a_t, const GemmOperand<Real>& b, Real* c,
           ptrdiff_t ldc, bool accumulate);
  // The same with A (m×k) and B (k×n) as strided arrays.
  void run(int m, int n, int k, MatrixView<Real> a, MatrixView<Real> b, Real* c, ptrdiff_t ldc,
           bool accumulate) {
    run(m, n, k, StridedOperand<Real>(a.transposed()), StridedOperand<Real>(b), c, ldc, accumulate);
  }

  // A packed once for many products with the same A (a convolution's weights, reused for
  // every group of images): all of A in the panel order run() uses, see pack_a.
  static size_t packed_a_size(int m, int k);
  static void pack_a(int m, int k, const GemmOperand<Real>& a_t, Real* out);
  void run_packed(int m, int n, int k, const Real* packed_a, const GemmOperand<Real>& b, Real* c, ptrdiff_t ldc,
                  bool accumulate);

  // Values a B packer may write past the end of its block (the conv packers copy whole
  // vectors and let the next copy overwrite the excess); the buffer reserves this much more.
  static constexpr int kPackSlack = 64;

 private:
  template <class PackA>
  void run_blocks(int m, int n, int k, PackA&& pack_a_block, const GemmOperand<Real>& b, Real* c, ptrdiff_t ldc,
                  bool accumulate);

  AlignedBuffer<Real> packed_a_, packed_b_;
};

extern template class StridedOperand<float>;
extern template class StridedOperand<double>;
extern template class Gemm<float>;
extern template class Gemm<double>;

}  // namespace drmm::cpu
