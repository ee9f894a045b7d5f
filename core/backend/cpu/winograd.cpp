// 3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray 2016,
// "Fast Algorithms for Convolutional Neural Networks", §4, with their B, G and A): each 2×2
// block of outputs is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A of the 4×4 input tile d around it, so the 36
// multiplications per block and channel pair of the direct form become 16. Summed over the
// input channels, the elementwise products are 16 GEMMs (one per tile position ξ):
//   M[ξ] (Cout × tiles) = U[ξ] (Cout × Cin) · V[ξ] (Cin × tiles),
// U = the transformed filters, V = the transformed input tiles, and the outputs are the
// inverse transform of M. Tiles run along the rows of a padded copy of the images; the
// transforms work on `lanes` tiles of one tile row at once (their inputs are every other
// column of 4 image rows: the Pairs even/odd split).
//
// The weight gradient follows from the same form: with Y = Aᵀ(U ⊙ V)A per tile and U = G g Gᵀ,
// ∂L/∂U = (A dY Aᵀ) ⊙ V summed over the tiles, and ∂L/∂g = Gᵀ (∂L/∂U) G. The sum over tiles
// is again 16 GEMMs, S[ξ] (Cout × Cin) = Ŷ[ξ] (Cout × tiles) · V[ξ]ᵀ with Ŷ = A dY Aᵀ of the
// 2×2 blocks of dy: 16 instead of 36 multiplications per block and channel pair.
#include <algorithm>

#include "core/backend/cpu/conv.h"
#include "core/backend/cpu/simd.h"

namespace drmm::cpu {

namespace {

constexpr int kPositions = 16;  // ξ: the 4×4 positions of a transformed tile

// The tiling of one image: tiles_y × tiles_x blocks of 2×2 outputs, read from a zero-bordered
// copy of the image that is 2·tiles + 2 values high and wide (the layer's padding on the top
// and left, and as much as the last tiles need on the bottom and right).
struct Tiling {
  int tiles_y = 0, tiles_x = 0, hp = 0, wp = 0;
  explicit Tiling(const ConvGeometry& g)
      : tiles_y((g.ho + 1) / 2), tiles_x((g.wo + 1) / 2), hp(2 * tiles_y + 2), wp(2 * tiles_x + 2) {}
  int per_image() const { return tiles_y * tiles_x; }
  ptrdiff_t plane() const { return ptrdiff_t(hp) * wp; }
};

inline int round_up(int x, int m) { return (x + m - 1) / m * m; }

// n images into ws.padded in the Tiling's layout (and zeros after them for whole-vector reads).
template <class Real>
const Real* pad_for_tiles(const ConvGeometry& g, const Tiling& t, const Real* x, int n, ConvWorkspace<Real>& ws) {
  constexpr size_t kSlack = 64;
  const ptrdiff_t planes = ptrdiff_t(n) * g.cin;
  ws.padded.reserve_discard(size_t(planes * t.plane()) + kSlack);
  pad_planes(x, planes, g.h, g.w, g.pad, t.hp, t.wp, ws.padded.data(), kSlack);
  return ws.padded.data();
}

// The 1-D transforms, on rows of tiles (vectors) or single values.
template <class V>
void filter_1d(const V (&f)[3], V (&out)[4]) {  // G f
  out[0] = f[0];
  out[1] = (f[0] + f[1] + f[2]) / 2;
  out[2] = (f[0] - f[1] + f[2]) / 2;
  out[3] = f[2];
}
template <class V>
void input_1d(const V (&d)[4], V (&out)[4]) {  // Bᵀ d
  out[0] = d[0] - d[2];
  out[1] = d[1] + d[2];
  out[2] = d[2] - d[1];
  out[3] = d[1] - d[3];
}
template <class V>
void output_1d(const V (&m)[4], V (&out)[2]) {  // Aᵀ m
  out[0] = m[0] + m[1] + m[2];
  out[1] = m[1] - m[2] - m[3];
}
template <class V>
void gradient_1d(const V (&y)[2], V (&out)[4]) {  // A y, the adjoint of output_1d
  out[0] = y[0];
  out[1] = y[0] + y[1];
  out[2] = y[0] - y[1];
  out[3] = -y[1];
}
template <class V>
void filter_gradient_1d(const V (&s)[4], V (&out)[3]) {  // Gᵀ s, the adjoint of G g
  out[0] = s[0] + (s[1] + s[2]) / 2;
  out[1] = (s[1] - s[2]) / 2;
  out[2] = (s[1] + s[2]) / 2 + s[3];
}

// The 2-D transform X in ↦ T X Tᵀ of an N×N block, T being the 1-D transform one_d (N → M
// values): one_d on every column, then on every row.
template <int N, int M, class T, class OneD>
void transform_2d(const T (&in)[N][N], T (&out)[M][M], OneD&& one_d) {
  T columns_done[M][N];
  for (int c = 0; c < N; ++c) {
    T column[N], lifted[M];
    for (int r = 0; r < N; ++r) column[r] = in[r][c];
    one_d(column, lifted);
    for (int r = 0; r < M; ++r) columns_done[r][c] = lifted[r];
  }
  for (int r = 0; r < M; ++r) one_d(columns_done[r], out[r]);
}

// Calls fn(plane, column, ty, tx) for every vector of `lanes` tiles of one tile row: tiles
// (ty, tx …) of channel plane `plane` (image·channels + channel) of n images, whose
// transformed values sit at `column` of their rows of V, M or Ŷ (channel·ld + their index
// among the n images' tiles).
template <class Fn>
void for_each_tile_vector(const Tiling& t, int n, int channels, ptrdiff_t ld, int lanes, Fn&& fn) {
  for (int img = 0; img < n; ++img)
    for (int channel = 0; channel < channels; ++channel) {
      const ptrdiff_t plane = ptrdiff_t(img) * channels + channel;
      const ptrdiff_t first = ptrdiff_t(channel) * ld + ptrdiff_t(img) * t.per_image();
      for (int ty = 0; ty < t.tiles_y; ++ty)
        for (int tx = 0; tx < t.tiles_x; tx += lanes) fn(plane, first + ptrdiff_t(ty) * t.tiles_x + tx, ty, tx);
    }
}

// U[ξ] = (G g Gᵀ)[ξ] for every filter, packed as the GEMM's A (Cout × Cin) per ξ.
template <class Real>
void transform_filters(const ConvGeometry& g, const Real* w, ConvWorkspace<Real>& ws) {
  const size_t pairs = size_t(g.cout) * size_t(g.cin);
  ws.transformed_w.reserve_discard(kPositions * pairs);
  Real* u = ws.transformed_w.data();  // U[ξ][co][ci]
  for (size_t pair = 0; pair < pairs; ++pair) {
    Real f[3][3], lifted[4][4];
    std::copy_n(w + pair * 9, 9, &f[0][0]);
    transform_2d(f, lifted, filter_1d<Real>);
    for (int xi = 0; xi < kPositions; ++xi) u[size_t(xi) * pairs + pair] = lifted[xi / 4][xi % 4];
  }
  const size_t packed = Gemm<Real>::packed_a_size(g.cout, g.cin);
  ws.packed_w.reserve_discard(kPositions * packed);
  for (int xi = 0; xi < kPositions; ++xi)
    Gemm<Real>::pack_a(g.cout, g.cin,
                       StridedOperand<Real>(MatrixView<Real>::row_major(u + xi * pairs, g.cin).transposed()),
                       ws.packed_w.data() + xi * packed);
}

// V[ξ][ci][tile] for the n images' tiles; a row of V is `ld` values long (whole vectors of
// tiles are stored, the excess of a tile row's last vector landing in the next tile row's
// place before that row overwrites it, or in the row's padding).
template <class Real>
void transform_input(const ConvGeometry& g, const Tiling& t, const Real* padded, int n, Real* v, ptrdiff_t ld) {
  using S = Simd<Real>;
  using P = Pairs<Real>;
  using V = typename S::V;
  constexpr int L = S::lanes;
  const ptrdiff_t position_stride = ld * g.cin;
  for_each_tile_vector(t, n, g.cin, ld, L, [&](ptrdiff_t plane, ptrdiff_t column, int ty, int tx) {
    V d[4][4];  // d[r][c]: input (2ty + r, 2tx + c) of L neighbouring tiles
    for (int r = 0; r < 4; ++r) {
      const Real* src = padded + plane * t.plane() + ptrdiff_t(2 * ty + r) * t.wp + 2 * tx;
      const V a = S::load(src), b = S::load(src + L), c = S::load(src + 2), e = S::load(src + 2 + L);
      d[r][0] = P::even(a, b);
      d[r][1] = P::odd(a, b);
      d[r][2] = P::even(c, e);
      d[r][3] = P::odd(c, e);
    }
    V out[4][4];  // Bᵀ d B
    transform_2d(d, out, input_1d<V>);
    for (int xi = 0; xi < kPositions; ++xi) S::store(v + column + xi * position_stride, out[xi / 4][xi % 4]);
  });
}

// y of the n images from M[ξ][co][tile] (rows `ld` apart): Aᵀ m A per tile, the 2×2 outputs
// interleaved back into image rows; the last tiles of odd-sized outputs drop what is outside.
template <class Real>
void transform_output(const ConvGeometry& g, const Tiling& t, const Real* m, ptrdiff_t ld, int n, Real* y) {
  using S = Simd<Real>;
  using P = Pairs<Real>;
  using V = typename S::V;
  constexpr int L = S::lanes;
  const ptrdiff_t position_stride = ld * g.cout;
  for_each_tile_vector(t, n, g.cout, ld, L, [&](ptrdiff_t plane, ptrdiff_t column, int ty, int tx) {
    V block[4][4], out[2][2];  // Aᵀ m A: outputs (2ty + r, 2tx + 2i + c) in out[r][c], lane i
    for (int xi = 0; xi < kPositions; ++xi) block[xi / 4][xi % 4] = S::load(m + column + xi * position_stride);
    transform_2d(block, out, output_1d<V>);
    for (int r = 0; r < 2 && 2 * ty + r < g.ho; ++r) {
      Real* dst = y + plane * g.pixels() + ptrdiff_t(2 * ty + r) * g.wo + 2 * tx;
      const int count = std::min(2 * L, g.wo - 2 * tx);
      if (count == 2 * L) {
        S::store(dst, P::first(out[r][0], out[r][1]));
        S::store(dst + L, P::second(out[r][0], out[r][1]));
      } else {
        alignas(64) Real values[2 * L];
        S::store(values, P::first(out[r][0], out[r][1]));
        S::store(values + L, P::second(out[r][0], out[r][1]));
        std::copy_n(values, count, dst);
      }
    }
  });
}

// Ŷ[ξ][co][tile] = (A dY Aᵀ)[ξ] for the n images' 2×2 blocks of dy, read from a copy of dy
// padded with zeros to whole blocks (rows 2·tiles_x apart); stored like V in transform_input.
template <class Real>
void transform_gradient(const ConvGeometry& g, const Tiling& t, const Real* padded_dy, int n, Real* out, ptrdiff_t ld) {
  using S = Simd<Real>;
  using P = Pairs<Real>;
  using V = typename S::V;
  constexpr int L = S::lanes;
  const ptrdiff_t position_stride = ld * g.cout, row = 2 * t.tiles_x;
  for_each_tile_vector(t, n, g.cout, ld, L, [&](ptrdiff_t plane, ptrdiff_t column, int ty, int tx) {
    const Real* top = padded_dy + plane * row * 2 * t.tiles_y + 2 * ty * row + 2 * tx;
    const V a = S::load(top), b = S::load(top + L), d = S::load(top + row), e = S::load(top + row + L);
    const V block[2][2] = {{P::even(a, b), P::odd(a, b)}, {P::even(d, e), P::odd(d, e)}};
    V lifted[4][4];  // A dY Aᵀ
    transform_2d(block, lifted, gradient_1d<V>);
    for (int xi = 0; xi < kPositions; ++xi) S::store(out + column + xi * position_stride, lifted[xi / 4][xi % 4]);
  });
}

// dw[co, ci] += Gᵀ S G, S[ξ] being the 16 per-position sums (pairs = Cout·Cin values apart).
template <class Real>
void add_filter_gradients(const ConvGeometry& g, const Real* sums, Real* dw) {
  const size_t pairs = size_t(g.cout) * size_t(g.cin);
  for (size_t pair = 0; pair < pairs; ++pair) {
    Real sum[4][4], reduced[3][3];
    for (int xi = 0; xi < kPositions; ++xi) sum[xi / 4][xi % 4] = sums[size_t(xi) * pairs + pair];
    transform_2d(sum, reduced, filter_gradient_1d<Real>);
    for (int k = 0; k < 9; ++k) dw[pair * 9 + size_t(k)] += reduced[k / 3][k % 3];
  }
}

}  // namespace

// The transforms handle a vector of tiles of one tile row at a time: on outputs narrower than
// 12 (ConvSmall's 6×6 and 8×8 conv4) most of their lanes would be wasted, and the direct
// GEMM was as fast there. The 16 GEMMs are Cout × Cin (× tiles): with few channels on either
// side they are too thin (ConvLarge's first layer, 3 → 96 channels: Winograd took 1.1 ms
// forward and 2.8 ms for the weight gradient on 10 images, the direct GEMM 0.7–1.0 and
// 1.0–1.3 ms; with 16 → 32 channels Winograd was 1.2–1.4× faster, with 96 → 96 1.7×).
constexpr int kMinWinogradChannels = 16;

bool winograd_applies(const ConvGeometry& g) {
  return g.k == 3 && g.wo >= 12 && g.ho >= 2 && g.cin >= kMinWinogradChannels && g.cout >= kMinWinogradChannels;
}

namespace {

// Images per round of 16 GEMMs: enough tiles (≥ 64 columns) to fill the micro-kernel's
// panels, few enough that the transformed tiles (16 × channels × tiles, twice) stay in L2.
int images_per_round(const Tiling& t, int images) {
  return std::clamp((64 + t.per_image() - 1) / t.per_image(), 1, images);
}

// The row length of the transformed tiles of `group` images: room for the last tile row's
// whole vector past them.
template <class Real>
ptrdiff_t tile_row_length(const Tiling& t, int group) {
  constexpr int L = Simd<Real>::lanes;
  return round_up(group * t.per_image(), L) + L;
}

}  // namespace

template <class Real>
void winograd_forward(const ConvGeometry& g, const Real* x, const Real* w, int images, Real* y,
                      ConvWorkspace<Real>& ws) {
  if (images <= 0) return;
  transform_filters(g, w, ws);
  const Tiling t(g);
  const int group = images_per_round(t, images);
  const ptrdiff_t ld = tile_row_length<Real>(t, group);
  ws.tiles_in.reserve_discard(size_t(kPositions) * size_t(g.cin) * size_t(ld));
  ws.tiles_out.reserve_discard(size_t(kPositions) * size_t(g.cout) * size_t(ld));
  const size_t packed = Gemm<Real>::packed_a_size(g.cout, g.cin);
  for (int first = 0; first < images; first += group) {
    const int n = std::min(group, images - first), columns = n * t.per_image();
    const Real* padded = pad_for_tiles(g, t, x + g.in_image() * size_t(first), n, ws);
    transform_input(g, t, padded, n, ws.tiles_in.data(), ld);
    for (int row = 0; row < kPositions * g.cout; ++row)  // the columns past the tiles: read, never used
      std::fill(ws.tiles_out.data() + row * ld + columns, ws.tiles_out.data() + (row + 1) * ld, Real(0));
    for (int xi = 0; xi < kPositions; ++xi)
      ws.gemm.run_packed(g.cout, columns, g.cin, ws.packed_w.data() + xi * packed,
                         StridedOperand<Real>(MatrixView<Real>::row_major(ws.tiles_in.data() + xi * ld * g.cin, ld)),
                         ws.tiles_out.data() + xi * ld * g.cout, ld, false);
    transform_output(g, t, ws.tiles_out.data(), ld, n, y + g.out_image() * size_t(first));
  }
}

template <class Real>
void winograd_backward_weight(const ConvGeometry& g, const Real* x, const Real* dy, int images, Real* dw,
                              ConvWorkspace<Real>& ws) {
  if (images <= 0) return;
  constexpr size_t kSlack = 64;
  const Tiling t(g);
  const int group = images_per_round(t, images);
  const ptrdiff_t ld = tile_row_length<Real>(t, group);
  const size_t pairs = size_t(g.cout) * size_t(g.cin);
  ws.tiles_in.reserve_discard(size_t(kPositions) * size_t(g.cin) * size_t(ld));
  ws.tiles_out.reserve_discard(size_t(kPositions) * size_t(g.cout) * size_t(ld));
  ws.transformed_w.reserve_discard(kPositions * pairs);
  Real* sums = ws.transformed_w.data();  // S[ξ][co][ci]
  std::fill_n(sums, kPositions * pairs, Real(0));
  for (int first = 0; first < images; first += group) {
    const int n = std::min(group, images - first), columns = n * t.per_image();
    const Real* padded = pad_for_tiles(g, t, x + g.in_image() * size_t(first), n, ws);
    transform_input(g, t, padded, n, ws.tiles_in.data(), ld);
    const ptrdiff_t dy_planes = ptrdiff_t(n) * g.cout;
    ws.gathered.reserve_discard(size_t(dy_planes * 4 * t.tiles_y * t.tiles_x) + kSlack);
    pad_planes(dy + g.out_image() * size_t(first), dy_planes, g.ho, g.wo, 0, 2 * t.tiles_y, 2 * t.tiles_x,
               ws.gathered.data(), kSlack);
    transform_gradient(g, t, ws.gathered.data(), n, ws.tiles_out.data(), ld);
    for (int xi = 0; xi < kPositions; ++xi)
      ws.gemm.run(g.cout, g.cin, columns, MatrixView<Real>::row_major(ws.tiles_out.data() + xi * ld * g.cout, ld),
                  MatrixView<Real>::row_major(ws.tiles_in.data() + xi * ld * g.cin, ld).transposed(),
                  sums + xi * pairs, g.cin, true);
  }
  add_filter_gradients(g, sums, dw);
}

#define DRMM_INSTANTIATE(Real)                                                                                \
  template void winograd_forward<Real>(const ConvGeometry&, const Real*, const Real*, int, Real*,             \
                                       ConvWorkspace<Real>&);                                                \
  template void winograd_backward_weight<Real>(const ConvGeometry&, const Real*, const Real*, int, Real*,     \
                                               ConvWorkspace<Real>&);
DRMM_INSTANTIATE(float)
DRMM_INSTANTIATE(double)
#undef DRMM_INSTANTIATE

}  // namespace drmm::cpu
