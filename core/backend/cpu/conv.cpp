#include "core/backend/cpu/conv.h"

#include <algorithm>
#include <cstring>

#include "core/backend/cpu/simd.h"

namespace drmm::cpu {

template <class Real>
void pad_planes(const Real* x, ptrdiff_t planes, int h, int w, int pad, int hp, int wp, Real* out, size_t slack) {
  // One bulk zero fill, then the rows copied in: rows are short (6 to 32 values), so the
  // copy is inline vector code rather than a library call per row.
  using S = Simd<Real>;
  const ptrdiff_t plane_size = ptrdiff_t(hp) * wp;
  std::fill_n(out, size_t(planes * plane_size) + slack, Real(0));
  for (ptrdiff_t plane = 0; plane < planes; ++plane) {
    const Real* src = x + plane * h * w;
    Real* dst = out + plane * plane_size + ptrdiff_t(pad) * wp + pad;
    for (int y = 0; y < h; ++y, src += w, dst += wp) {
      int i = 0;
      for (; i + S::lanes <= w; i += S::lanes) S::store(dst + i, S::load(src + i));
      for (; i < w; ++i) dst[i] = src[i];
    }
  }
}

namespace {

// A group of images copied with their zero border into [img][ci][h+2·pad][w+2·pad], followed
// by kPaddedSlack zeros: im2col row (ci, ky, kx), column (img, oy, ox) is then
// data[img·image + (ci·hp + ky)·wp + kx + oy·wp + ox], a plain read with no bounds tests, and
// the packers may read whole vectors past the last value they need.
template <class Real>
struct PaddedImages {
  const Real* data = nullptr;
  int hp = 0, wp = 0;
  ptrdiff_t image = 0;
  ptrdiff_t row_offset(const ConvGeometry& g, int r) const {  // of im2col row r
    const int kk = g.k * g.k, ci = r / kk, ky = r % kk / g.k, kx = r % g.k;
    return (ptrdiff_t(ci) * hp + ky) * wp + kx;
  }
};

constexpr size_t kPaddedSlack = 64;

template <class Real>
PaddedImages<Real> pad_images(const ConvGeometry& g, const Real* x, int n, AlignedBuffer<Real>& buffer) {
  const int hp = g.h + 2 * g.pad, wp = g.w + 2 * g.pad;
  const ptrdiff_t image = ptrdiff_t(g.cin) * hp * wp, total = image * n;
  buffer.reserve_discard(size_t(total) + kPaddedSlack);
  Real* out = buffer.data();
  if (g.pad == 0) {
    std::copy_n(x, total, out);
    std::fill_n(out + total, kPaddedSlack, Real(0));
  } else {
    pad_planes(x, ptrdiff_t(n) * g.cin, g.h, g.w, g.pad, hp, wp, out, kPaddedSlack);
  }
  return {out, hp, wp, image};
}

// Splits columns [j0, j0+cols) of the im2col matrix into panels of `width` columns and each
// panel into runs of one output row (the runs do not depend on the im2col row).
template <class Real>
void column_runs(const ConvGeometry& g, const PaddedImages<Real>& p, int j0, int cols, int width,
                 std::vector<ConvRun>& runs, std::vector<int>& panel_runs) {
  runs.clear();
  panel_runs.clear();
  const int pixels = g.pixels();
  for (int q0 = 0; q0 < cols; q0 += width) {
    panel_runs.push_back(int(runs.size()));
    const int end = j0 + std::min(cols, q0 + width);
    for (int c = j0 + q0; c < end;) {
      const int img = c / pixels, oy = c % pixels / g.wo, ox = c % g.wo;
      const int len = std::min(g.wo - ox, end - c);
      runs.push_back({c - j0 - q0, len, ptrdiff_t(img) * p.image + ptrdiff_t(oy) * p.wp + ox});
      c += len;
    }
  }
  panel_runs.push_back(int(runs.size()));
}

// Copies `len` ≤ width values; with width = one register tile (2 vectors) it copies the whole
// tile width, and the caller lets the next copy overwrite the excess.
template <class Real>
inline void copy_run(const Real* src, Real* dst, int len, int width) {
  using S = Simd<Real>;
  if (width == 2 * S::lanes) {
    S::store(dst, S::load(src));
    S::store(dst + S::lanes, S::load(src + S::lanes));
  } else {
    std::copy_n(src, len, dst);
  }
}

// The im2col matrix of n images as a GEMM B operand (Cin·k·k × n·Ho·Wo), packed straight from
// the padded images: each panel row is a few whole-vector copies, one per run.
template <class Real>
class Im2colOperand final : public GemmOperand<Real> {
 public:
  Im2colOperand(const ConvGeometry& g, const PaddedImages<Real>& x, ConvWorkspace<Real>& ws) : g_(g), x_(x), ws_(ws) {}
  void pack(int k0, int kc, int j0, int cols, int width, Real* out) const override {
    column_runs(g_, x_, j0, cols, width, ws_.runs, ws_.panel_runs);
    ws_.row_offsets.resize(size_t(kc));
    for (int p = 0; p < kc; ++p) ws_.row_offsets[size_t(p)] = x_.row_offset(g_, k0 + p);
    const ConvRun* runs = ws_.runs.data();
    for (int q = 0; q * width < cols; ++q) {
      const int w = std::min(width, cols - q * width), first = ws_.panel_runs[size_t(q)],
                last = ws_.panel_runs[size_t(q) + 1];
      Real* panel = out + ptrdiff_t(q) * kc * width;
      for (int p = 0; p < kc; ++p) {
        const Real* src = x_.data + ws_.row_offsets[size_t(p)];
        Real* dst = panel + ptrdiff_t(p) * width;
        for (int i = first; i < last; ++i) copy_run(src + runs[i].src, dst + runs[i].at, runs[i].len, width);
        std::fill(dst + w, dst + width, Real(0));  // after the runs: their excess may land here
      }
    }
  }

 private:
  ConvGeometry g_;
  PaddedImages<Real> x_;
  ConvWorkspace<Real>& ws_;
};

// Its transpose (n·Ho·Wo × Cin·k·k), the B operand of the weight gradient: the `width` im2col
// rows of a panel are copied from the padded images into scratch (whole vectors per run, the
// next copy overwriting the excess) and transposed into the panel.
template <class Real>
class Im2rowOperand final : public GemmOperand<Real> {
 public:
  Im2rowOperand(const ConvGeometry& g, const PaddedImages<Real>& x, ConvWorkspace<Real>& ws) : g_(g), x_(x), ws_(ws) {}
  void pack(int k0, int kc, int j0, int cols, int width, Real* out) const override {
    using S = Simd<Real>;
    column_runs(g_, x_, k0, kc, kc, ws_.runs, ws_.panel_runs);  // one "panel": all kc columns
    const ConvRun* runs = ws_.runs.data();
    const int count = int(ws_.runs.size());
    Real* scratch = ws_.rows.data();
    for (int q = 0; q * width < cols; ++q) {
      const int w = std::min(width, cols - q * width);
      for (int j = 0; j < w; ++j) {
        const Real* src = x_.data + x_.row_offset(g_, j0 + q * width + j);
        Real* dst = scratch + ptrdiff_t(j) * kc;
        for (int i = 0; i < count; ++i)
          for (int v = 0; v < runs[i].len; v += S::lanes)
            S::store(dst + runs[i].at + v, S::load(src + runs[i].src + v));
      }
      pack_transposed_panel(scratch, ptrdiff_t(kc), w, kc, width, out + ptrdiff_t(q) * kc * width);
    }
  }

 private:
  ConvGeometry g_;
  PaddedImages<Real> x_;
  ConvWorkspace<Real>& ws_;
};

// dst (rows × n·pixels) = the `rows`×pixels planes of n consecutive images side by side.
template <class Real>
void gather_images(const Real* src, int n, int rows, int pixels, Real* dst) {
  const ptrdiff_t wide = ptrdiff_t(n) * pixels;
  for (int img = 0; img < n; ++img)
    for (int r = 0; r < rows; ++r)
      std::copy_n(src + (ptrdiff_t(img) * rows + r) * pixels, pixels, dst + r * wide + ptrdiff_t(img) * pixels);
}

// The inverse of gather_images.
template <class Real>
void scatter_images(const Real* src, int n, int rows, int pixels, Real* dst) {
  const ptrdiff_t wide = ptrdiff_t(n) * pixels;
  for (int img = 0; img < n; ++img)
    for (int r = 0; r < rows; ++r)
      std::copy_n(src + r * wide + ptrdiff_t(img) * pixels, pixels, dst + (ptrdiff_t(img) * rows + r) * pixels);
}

// dy of n images as one Cout × n·pixels matrix: in place for one image, else gathered.
template <class Real>
const Real* images_side_by_side(const ConvGeometry& g, const Real* dy, int n, ConvWorkspace<Real>& ws) {
  if (n == 1) return dy;
  ws.gathered.reserve_discard(g.out_image() * size_t(n));
  gather_images(dy, n, g.cout, g.pixels(), ws.gathered.data());
  return ws.gathered.data();
}

// Calls fn(first image, count) over [0, images) in groups of conv_group_size.
template <class Fn>
void for_each_group(const ConvGeometry& g, int images, Fn&& fn) {
  const int size = conv_group_size(g, images);
  const int groups = (images + size - 1) / size;
  for (int i = 0; i < groups; ++i) {  // spread evenly: sizes differ by at most one
    const int first = int(ptrdiff_t(images) * i / groups), last = int(ptrdiff_t(images) * (i + 1) / groups);
    fn(first, last - first);
  }
}

template <class Real>
void forward_group(const ConvGeometry& g, const Real* x, int n, Real* y, ConvWorkspace<Real>& ws) {
  const int cols = n * g.pixels();
  const bool direct = n == 1;  // one image: the GEMM writes y itself
  Real* out = y;
  if (!direct) {
    ws.product.reserve_discard(size_t(g.cout) * size_t(cols));
    out = ws.product.data();
  }
  const Real* w = ws.packed_w.data();
  if (g.pointwise() && n == 1) {
    ws.gemm.run_packed(g.cout, cols, g.patch(), w, StridedOperand<Real>(MatrixView<Real>::row_major(x, cols)), out,
                       cols, false);
  } else {
    const PaddedImages<Real> padded = pad_images(g, x, n, ws.padded);
    ws.gemm.run_packed(g.cout, cols, g.patch(), w, Im2colOperand<Real>(g, padded, ws), out, cols, false);
  }
  if (!direct) scatter_images(out, n, g.cout, g.pixels(), y);
}

template <class Real>
void backward_input_group(const ConvGeometry& g, const Real* dy, const Real* w, int n, Real* dx, bool accumulate,
                          ConvWorkspace<Real>& ws) {
  const int cols = n * g.pixels();
  const Real* dy_wide = images_side_by_side(g, dy, n, ws);
  const StridedOperand<Real> b(MatrixView<Real>::row_major(dy_wide, cols));
  if (g.pointwise() && n == 1) {  // the im2col matrix is dx itself
    ws.gemm.run(g.cin, cols, g.cout, StridedOperand<Real>(MatrixView<Real>::row_major(w, g.cin)), b, dx, cols,
                accumulate);
    return;
  }
  // col2im adds into a zero-bordered copy of dx (the padded layout of pad_images), where every
  // im2col row is a few whole runs with no bounds tests; the interior then goes into dx.
  const int hp = g.h + 2 * g.pad, wp = g.w + 2 * g.pad;
  const ptrdiff_t image = ptrdiff_t(g.cin) * hp * wp, total = image * n;
  ws.padded.reserve_discard(size_t(total) + kPaddedSlack);
  Real* sum = ws.padded.data();
  std::fill_n(sum, total, Real(0));
  const PaddedImages<Real> padded{sum, hp, wp, image};
  column_runs(g, padded, 0, cols, cols, ws.runs, ws.panel_runs);  // one "panel": all columns
  const ConvRun* runs = ws.runs.data();
  const int run_count = int(ws.runs.size());
  // The im2col matrix of dx in slices of whole channels (≤ ~256 rows), so each slice is
  // still in cache when col2im adds it up.
  const int kk = g.k * g.k, channels_per_slice = std::max(1, 256 / kk);
  ws.product.reserve_discard(size_t(channels_per_slice * kk) * size_t(cols));
  for (int c0 = 0; c0 < g.cin; c0 += channels_per_slice) {
    const int r0 = c0 * kk, rows = std::min(channels_per_slice, g.cin - c0) * kk;
    // Aᵀ = w viewed as Cout × (Cin·k·k), columns [r0, r0+rows).
    const StridedOperand<Real> a_t(MatrixView<Real>::row_major(w + r0, g.patch()));
    ws.gemm.run(rows, cols, g.cout, a_t, b, ws.product.data(), cols, false);
    for (int r = 0; r < rows; ++r) {
      const Real* src = ws.product.data() + ptrdiff_t(r) * cols;
      Real* dst = sum + padded.row_offset(g, r0 + r);
      for (int i = 0; i < run_count; ++i) {
        Real* d = dst + runs[i].src;
        const Real* from = src + runs[i].at;
        for (int v = 0; v < runs[i].len; ++v) d[v] += from[v];
      }
    }
  }
  for (ptrdiff_t plane = 0; plane < ptrdiff_t(n) * g.cin; ++plane)
    for (int y = 0; y < g.h; ++y) {
      const Real* from = sum + plane * hp * wp + ptrdiff_t(y + g.pad) * wp + g.pad;
      Real* to = dx + (plane * g.h + y) * g.w;
      if (accumulate)
        for (int i = 0; i < g.w; ++i) to[i] += from[i];
      else
        for (int i = 0; i < g.w; ++i) to[i] = from[i];
    }
}

template <class Real>
void backward_weight_group(const ConvGeometry& g, const Real* x, const Real* dy, int n, Real* dw,
                           ConvWorkspace<Real>& ws) {
  const int cols = n * g.pixels();
  const Real* dy_wide = images_side_by_side(g, dy, n, ws);
  // Aᵀ = (dy as Cout × n·pixels)ᵀ; B = the im2col matrix transposed.
  const StridedOperand<Real> a_t(MatrixView<Real>::row_major(dy_wide, cols).transposed());
  // ≥ one panel (NR ≤ 32 rows) of kc ≤ cols, and room for the last run's excess
  ws.rows.reserve_discard(size_t(32) * size_t(cols) + kPaddedSlack);
  const PaddedImages<Real> padded = pad_images(g, x, n, ws.padded);
  ws.gemm.run(g.cout, g.patch(), cols, a_t, Im2rowOperand<Real>(g, padded, ws), dw, g.patch(), true);
}

}  // namespace

// Below this many input channels the transposed convolution keeps the GEMM + col2im form:
// as a forward convolution its GEMM would have only Cin rows (6-row register tiles).
constexpr int kMinTransposedChannels = 16;

int conv_group_size(const ConvGeometry& g, int images) {
  constexpr int kTargetColumns = 256;
  return std::clamp((kTargetColumns + g.pixels() - 1) / g.pixels(), 1, std::max(images, 1));
}

template <class Real>
void conv_forward(const ConvGeometry& g, const Real* x, const Real* w, int images, Real* y, ConvWorkspace<Real>& ws) {
  if (images <= 0) return;
  if (winograd_applies(g)) {
    winograd_forward(g, x, w, images, y, ws);
    return;
  }
  // The weights (Cout × Cin·k·k) are the GEMM's A for every group: packed once here.
  ws.packed_w.reserve_discard(Gemm<Real>::packed_a_size(g.cout, g.patch()));
  Gemm<Real>::pack_a(g.cout, g.patch(), StridedOperand<Real>(MatrixView<Real>::row_major(w, g.patch()).transposed()),
                     ws.packed_w.data());
  for_each_group(g, images, [&](int first, int n) {
    forward_group(g, x + g.in_image() * size_t(first), n, y + g.out_image() * size_t(first), ws);
  });
}

template <class Real>
void conv_backward_input(const ConvGeometry& g, const Real* dy, const Real* w, int images, Real* dx, bool accumulate,
                         ConvWorkspace<Real>& ws) {
  // The transposed convolution is a convolution of dy with the flipped, transposed filters
  // w'[ci, co, ky, kx] = w[co, ci, k−1−ky, k−1−kx] and padding k−1−pad: the forward GEMM
  // (dx's channels are its rows) with no col2im pass and no zero fill of dx. Only where that
  // convolution does (almost) no more work than this one (for a valid convolution's
  // transpose the full convolution also multiplies dy's zero border), or where it runs as
  // Winograd's, whose 2.25× fewer multiplications outweigh that border.
  const ConvGeometry t{g.cout, g.cin, g.ho, g.wo, g.k, g.k - 1 - g.pad, g.h, g.w};
  const bool flip_pays = 8 * ptrdiff_t(g.h) * g.w <= 9 * ptrdiff_t(g.pixels()) || winograd_applies(t);
  if (!accumulate && g.cin >= kMinTransposedChannels && flip_pays) {
    const int kk = g.k * g.k;
    ws.flipped.reserve_discard(size_t(g.cout) * size_t(g.patch()));
    Real* f = ws.flipped.data();
    for (int co = 0; co < g.cout; ++co)
      for (int ci = 0; ci < g.cin; ++ci)
        for (int t = 0; t < kk; ++t)
          f[(ptrdiff_t(ci) * g.cout + co) * kk + (kk - 1 - t)] = w[(ptrdiff_t(co) * g.cin + ci) * kk + t];
    conv_forward(t, dy, f, images, dx, ws);
    return;
  }
  for_each_group(g, images, [&](int first, int n) {
    backward_input_group(g, dy + g.out_image() * size_t(first), w, n, dx + g.in_image() * size_t(first), accumulate,
                         ws);
  });
}

template <class Real>
void conv_backward_weight(const ConvGeometry& g, const Real* x, const Real* dy, int images, Real* dw,
                          ConvWorkspace<Real>& ws) {
  if (winograd_applies(g)) {
    winograd_backward_weight(g, x, dy, images, dw, ws);
    return;
  }
  for_each_group(g, images, [&](int first, int n) {
    backward_weight_group(g, x + g.in_image() * size_t(first), dy + g.out_image() * size_t(first), n, dw, ws);
  });
}

#define DRMM_INSTANTIATE(Real)                                                                                  \
  template void pad_planes<Real>(const Real*, ptrdiff_t, int, int, int, int, int, Real*, size_t);               \
  template void conv_forward<Real>(const ConvGeometry&, const Real*, const Real*, int, Real*,                  \
                                   ConvWorkspace<Real>&);                                                      \
  template void conv_backward_input<Real>(const ConvGeometry&, const Real*, const Real*, int, Real*, bool,     \
                                          ConvWorkspace<Real>&);                                               \
  template void conv_backward_weight<Real>(const ConvGeometry&, const Real*, const Real*, int, Real*,          \
                                           ConvWorkspace<Real>&);
DRMM_INSTANTIATE(float)
DRMM_INSTANTIATE(double)
#undef DRMM_INSTANTIATE

}  // namespace drmm::cpu
