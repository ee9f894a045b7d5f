#pragma once
// Convolution kernels of the cpu backend: stride-1 convolution of a few consecutive images
// as one GEMM over their im2col matrix (Chellapilla et al. 2006; Caffe's im2col), and its
// two adjoints. Single-threaded; the backend splits the batch across threads and calls
// these on each thread's images with that thread's workspace.
//
// The im2col matrix of `n` images has one row per (input channel, ky, kx), Cin·k·k rows, and
// one column per (image, oy, ox), n·Ho·Wo columns: col[(ci,ky,kx), (img,oy,ox)] =
// x[img, ci, oy+ky−pad, ox+kx−pad] (0 outside the image). It is never stored whole: the
// GEMM packs its panels straight from x, one row at a time.
#include <vector>

#include "core/backend/cpu/aligned_buffer.h"
#include "core/backend/cpu/gemm.h"

namespace drmm::cpu {

struct ConvGeometry {
  int cin = 1, cout = 1, h = 1, w = 1, k = 1, pad = 0, ho = 1, wo = 1;

  int pixels() const { return ho * wo; }    // output pixels per image, the GEMM's columns
  int patch() const { return cin * k * k; }  // im2col rows
  size_t in_image() const { return size_t(cin) * size_t(h) * size_t(w); }
  size_t out_image() const { return size_t(cout) * size_t(pixels()); }
  // A 1×1 kernel without padding: the im2col matrix of one image is the image itself.
  bool pointwise() const { return k == 1 && pad == 0; }
};

// A stretch of consecutive output pixels of one output row inside one packed panel: the
// panel's columns [at, at+len) read padded-image offsets [src, src+len) (plus the offset of
// the im2col row).
struct ConvRun {
  int at = 0, len = 0;
  ptrdiff_t src = 0;
};

// Scratch memory of one thread; reused across calls (buffers only grow).
template <class Real>
struct ConvWorkspace {
  Gemm<Real> gemm;
  AlignedBuffer<Real> rows;      // im2col rows being packed
  AlignedBuffer<Real> gathered;  // dy of a group of images, side by side
  AlignedBuffer<Real> product;   // a GEMM result before it is scattered to images
  AlignedBuffer<Real> dw;        // this thread's share of a weight gradient
  AlignedBuffer<Real> padded;    // a group of images with their zero border (see conv.cpp)
  AlignedBuffer<Real> packed_w;  // the weights as the GEMM's packed A, once per call
  AlignedBuffer<Real> flipped;   // the weights of the transposed convolution
  AlignedBuffer<Real> transformed_w;       // Winograd: the transformed filters U
  AlignedBuffer<Real> tiles_in, tiles_out;  // Winograd: V and M of a group of images
  std::vector<ConvRun> runs;     // im2col column runs of the panels being packed
  std::vector<int> panel_runs;   // panel q's runs: [panel_runs[q], panel_runs[q+1])
  std::vector<ptrdiff_t> row_offsets;  // padded-image offset of each im2col row being packed
};

// `planes` h×w planes into planes of hp×wp rows and columns at row and column `pad` (zeros
// around them; hp and wp may leave more zeros on the bottom and right than `pad`), followed
// by `slack` zeros so that packers may read whole vectors past the end.
template <class Real>
void pad_planes(const Real* x, ptrdiff_t planes, int h, int w, int pad, int hp, int wp, Real* out, size_t slack);

// How many consecutive images one GEMM should cover: enough columns (n·Ho·Wo ≥ ~256) to
// keep the micro-kernel's B panels full when the layer's images are small.
int conv_group_size(const ConvGeometry& g, int images);

// y[img] = Σ_ci x[img, ci] ⋆ w[·, ci] for `images` consecutive images (y overwritten).
template <class Real>
void conv_forward(const ConvGeometry& g, const Real* x, const Real* w, int images, Real* y,
                  ConvWorkspace<Real>& ws);
// conv_forward and conv_backward_weight by Winograd's F(2×2, 3×3) (winograd.cpp), which those
// two use where it applies: 3×3 kernels with outputs at least 12 wide and at least 16 channels
// on either side.
bool winograd_applies(const ConvGeometry& g);
template <class Real>
void winograd_forward(const ConvGeometry& g, const Real* x, const Real* w, int images, Real* y,
                      ConvWorkspace<Real>& ws);
template <class Real>
void winograd_backward_weight(const ConvGeometry& g, const Real* x, const Real* dy, int images, Real* dw,
                              ConvWorkspace<Real>& ws);
// dx[img] (+)= convᵀ(dy[img], w): the GEMM wᵀ·dy gives the im2col matrix of dx, which
// col2im sums back into the image (overlapping windows add up).
template <class Real>
void conv_backward_input(const ConvGeometry& g, const Real* dy, const Real* w, int images, Real* dx,
                         bool accumulate, ConvWorkspace<Real>& ws);
// dw += Σ_img dy[img] · col(x[img])ᵀ (always accumulates; dw is Cout × Cin·k·k).
template <class Real>
void conv_backward_weight(const ConvGeometry& g, const Real* x, const Real* dy, int images, Real* dw,
                          ConvWorkspace<Real>& ws);

}  // namespace drmm::cpu
