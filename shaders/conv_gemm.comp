#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// The three convolution ops of Backend (conv2d, conv2d_backward_input,
// conv2d_backward_weight; formulas in backend.h) as one tiled implicit GEMM
// C[M×N] (+)= A[M×K]·B[K×N]. Nothing is unrolled into memory (no im2col buffer): load_a
// and load_b gather the operands from the NCHW tensors, and MODE picks the gather:
//   MODE 0  conv2d           M = Cout, N = batch·Ho·Wo, K = Cin·k·k   A = w,  B = patches of x
//   MODE 1  backward_input   M = Cin,  N = batch·H·W,   K = Cout·k·k  A = wᵀ, B = patches of dy
//   MODE 2  backward_weight  M = Cout, N = Cin·k·k,     K = batch·Ho·Wo  A = dy, B = patches of x
// MODE 1 reads dy at (q − kpos + pad): that is the transposed convolution, the adjoint of
// MODE 0. MODE 2 may split K over gl_WorkGroupID.z (split-K): each slice then writes its own
// partial C into c_dst at offset z·M·N and the host sums the slices (sum_slices.comp);
// without it a weight gradient (small M·N, huge K) would run on one or two workgroups.
//
// Tiling: a WGX×WGY workgroup (256 invocations) computes a (WGY·TM)×(WGX·TN) block of C;
// per step of BK along K it stages a BK×BM tile of A and a BK×BN tile of B in shared
// memory, so each operand value fetched from the buffers is reused WGX·TN (A) or WGY·TM (B)
// times. All of MODE, KS, TM, TN and the workgroup shape are specialization constants: the
// index arithmetic divides by constants, and layers with few rows (Cin = 1 for the first
// layer's input gradient, Cout = 10) get a flat workgroup instead of computing 90 % zeros.
layout(local_size_x_id = 4, local_size_y_id = 5) in;
layout(constant_id = 0) const int MODE = 0;
layout(constant_id = 1) const int KS = 3;
layout(constant_id = 2) const int TM = 4;
layout(constant_id = 3) const int TN = 4;
const int WGX = int(gl_WorkGroupSize.x);
const int WGY = int(gl_WorkGroupSize.y);
const int THREADS = WGX * WGY;
const int BK = 16;
const int BM = WGY * TM;
const int BN = WGX * TN;
const int KK = KS * KS;

BUFFER_RO(0, a_src)
BUFFER_RO(1, b_src)
BUFFER_RW(2, c_dst)
layout(push_constant) uniform Params {
  int batch, cin, h, w, cout, ho, wo, pad;
  int accumulate;  // C += A·B instead of C = A·B (ignored by split-K slices)
  int M, N, K;
  int k_per_slice;  // split-K: K range of one gl_WorkGroupID.z
} p;

shared float As[BK][BM];
shared float Bs[BK][BN];

float load_a(int m, int k) {
  if (m >= p.M || k >= p.K) return 0.0;
  if (MODE == 0) return a_src[m * p.K + k];
  if (MODE == 1) {  // A[i, (o,r)] = w[o, i, r]
    const int o = k / KK;
    return a_src[(o * p.cin + m) * KK + (k - o * KK)];
  }
  const int hw = p.ho * p.wo;  // MODE 2: A[o, (n,q)] = dy[n, o, q]
  const int n = k / hw;
  return a_src[(n * p.cout + m) * hw + (k - n * hw)];
}

float load_b(int k, int col) {
  if (k >= p.K || col >= p.N) return 0.0;
  if (MODE == 0) {  // B[(i,ky,kx), (n,oy,ox)] = x[n, i, oy+ky−pad, ox+kx−pad]
    const int i = k / KK, r = k - i * KK, ky = r / KS, kx = r - ky * KS;
    const int hw = p.ho * p.wo, n = col / hw, q = col - n * hw, oy = q / p.wo, ox = q - oy * p.wo;
    const int iy = oy + ky - p.pad, ix = ox + kx - p.pad;
    if (iy < 0 || iy >= p.h || ix < 0 || ix >= p.w) return 0.0;
    return b_src[((n * p.cin + i) * p.h + iy) * p.w + ix];
  }
  if (MODE == 1) {  // B[(o,ky,kx), (n,qy,qx)] = dy[n, o, qy−ky+pad, qx−kx+pad]
    const int o = k / KK, r = k - o * KK, ky = r / KS, kx = r - ky * KS;
    const int hw = p.h * p.w, n = col / hw, q = col - n * hw, qy = q / p.w, qx = q - qy * p.w;
    const int oy = qy - ky + p.pad, ox = qx - kx + p.pad;
    if (oy < 0 || oy >= p.ho || ox < 0 || ox >= p.wo) return 0.0;
    return b_src[((n * p.cout + o) * p.ho + oy) * p.wo + ox];
  }
  // MODE 2: B[(n,oy,ox), (i,ky,kx)] = x[n, i, oy+ky−pad, ox+kx−pad]
  const int hw = p.ho * p.wo, n = k / hw, q = k - n * hw, oy = q / p.wo, ox = q - oy * p.wo;
  const int i = col / KK, r = col - i * KK, ky = r / KS, kx = r - ky * KS;
  const int iy = oy + ky - p.pad, ix = ox + kx - p.pad;
  if (iy < 0 || iy >= p.h || ix < 0 || ix >= p.w) return 0.0;
  return b_src[((n * p.cin + i) * p.h + iy) * p.w + ix];
}

uint c_index(int m, int col) {
  if (MODE == 2) return uint(m * p.N + col) + gl_WorkGroupID.z * uint(p.M * p.N);
  const int hw = (MODE == 0) ? p.ho * p.wo : p.h * p.w;
  const int rows = (MODE == 0) ? p.cout : p.cin;
  const int n = col / hw;
  return uint((n * rows + m) * hw + (col - n * hw));
}

void main() {
  const int tx = int(gl_LocalInvocationID.x), ty = int(gl_LocalInvocationID.y);
  const int tid = ty * WGX + tx;
  const int row0 = int(gl_WorkGroupID.y) * BM;
  const int k_begin = int(gl_WorkGroupID.z) * p.k_per_slice;
  const int k_end = min(p.K, k_begin + p.k_per_slice);
  const bool add_old = p.accumulate != 0 && gl_NumWorkGroups.z == 1;

  // Grid-stride over column blocks: the host caps gl_NumWorkGroups.x.
  for (int col0 = int(gl_WorkGroupID.x) * BN; col0 < p.N; col0 += int(gl_NumWorkGroups.x) * BN) {
    float acc[TM][TN];
    for (int i = 0; i < TM; ++i)
      for (int j = 0; j < TN; ++j) acc[i][j] = 0.0;

    for (int k0 = k_begin; k0 < k_end; k0 += BK) {
      // The invocations stage the two tiles together; consecutive invocations read
      // consecutive k (A) or consecutive columns (B), the contiguous directions of the
      // sources.
      for (int e = tid; e < BK * BM; e += THREADS) {
        const int kk = e % BK, mm = e / BK;
        As[kk][mm] = (k0 + kk < k_end) ? load_a(row0 + mm, k0 + kk) : 0.0;
      }
      for (int e = tid; e < BK * BN; e += THREADS) {
        const int nn = e % BN, kk = e / BN;
        Bs[kk][nn] = (k0 + kk < k_end) ? load_b(k0 + kk, col0 + nn) : 0.0;
      }
      barrier();
      for (int kk = 0; kk < BK; ++kk) {
        float a[TM], b[TN];
        for (int i = 0; i < TM; ++i) a[i] = As[kk][ty + WGY * i];
        for (int j = 0; j < TN; ++j) b[j] = Bs[kk][tx + WGX * j];
        for (int i = 0; i < TM; ++i)
          for (int j = 0; j < TN; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
      }
      barrier();
    }

    for (int i = 0; i < TM; ++i) {
      const int m = row0 + ty + WGY * i;
      if (m >= p.M) continue;
      for (int j = 0; j < TN; ++j) {
        const int col = col0 + tx + WGX * j;
        if (col >= p.N) continue;
        const uint idx = c_index(m, col);
        c_dst[idx] = add_old ? c_dst[idx] + acc[i][j] : acc[i][j];
      }
    }
  }
}
