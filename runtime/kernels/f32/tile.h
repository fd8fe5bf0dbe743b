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

}  // namespace f32
}  // namespace kernels
}  // namespace outpost
