// Data handed from the instruction-set-independent driver (driver_inl.h) to the
// per-instruction-set micro-kernels. Plain data only.
#pragma once

#include <stdint.h>

#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/conv_f32.h"

namespace outpost {
namespace kernels {
namespace f32 {

// How a GEMM micro-kernel starts and ends one block of the reduction. The first block starts
// from the bias, per row (conv: per output channel) or per column (fully connected: per output
// feature); later blocks continue from the partial sums stored in C (fp32 in registers and in
// memory alike, so blocking does not change the result). The last block applies the fused
// activation.
struct Epilogue {
  const float* bias_row;  // indexed by row within the tile, or null
  const float* bias_col;  // indexed by column within the tile, or null
  FusedActivation act;
  bool first;
  bool last;
  // B is a large row-major matrix in memory (a 1x1 convolution's input, a whole im2col) and
  // C a large output, both visited column tile by column tile: the micro-kernel fetches the
  // next tiles ahead, as their rows are more streams than the hardware prefetcher follows.
  bool stream = false;
};

// A depthwise convolution (one input and one output channel per group) over N*C planes.
struct DepthwiseArgs {
  const ref::ConvF32Data* d;
  const float* x;     // [n, c, h, w]
  const float* w;     // [c, 1, kh, kw]
  const float* bias;  // [c] or null
  float* y;           // [n, c, oh, ow]
  int64_t c, h, wd, oh, ow, kh, kw;
};

// Implicit im2col (ConvPath::kGatherTiles): the convolution the GEMM B is gathered from, one
// group of one image. The instruction set's GatherTile writes B[k0 + r, n0 + j] (reduction
// row kk = (ci, u, v), column = output pixel (oy, ox); zero in the padding) for r < kc,
// j < cols at dst[r * kNR + j]. A materialized im2col of a large map (56x56, 64 channels,
// 3x3: 7.2 MB) is written to memory and read back once per column tile; the tile's block
// (kKc x kNR floats at most) is gathered right before the panels use it and stays in L1/L2,
// and the micro-kernel reads it contiguously.
struct GatherSource {
  const ref::ConvF32Data* d;
  const float* x;  // first channel of the group, [c/groups, h, w]
  int64_t h, w, kh, kw, oh, ow;
};

}  // namespace f32
}  // namespace kernels
}  // namespace outpost
