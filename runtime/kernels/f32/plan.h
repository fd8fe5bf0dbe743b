// How the optimized float32 kernels (x86 and AArch64) execute an operator, decided from shapes
// and options alone so that packed_bytes and scratch_bytes (called with the Model before
// prepare) and prepare (called with the tensors) always agree. Portable code: no intrinsics.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace outpost {
namespace kernels {
namespace f32 {

enum class ConvPath : int32_t {
  kReference = 0,  // not optimized: the reference eval runs
  kDepthwise,      // groups == channels: per-plane vector kernel, weights used in place
  kPointwise,      // 1x1, stride 1, no padding: on NCHW the input plane already is the GEMM B
  kIm2col,         // anything else: columns gathered into scratch, then GEMM
};

struct ConvShape {
  int64_t n, c, h, w;        // input
  int64_t m, kh, kw;         // weights [m, c / groups, kh, kw]
  int64_t oh, ow;            // output
  int64_t stride_h, stride_w, dil_h, dil_w, pad_t, pad_l, pad_b, pad_r, groups;
  bool weights_constant;
};

struct ConvPlan {
  ConvPath path = ConvPath::kReference;
  int64_t gemm_k = 0;          // reduction length per group: (c / groups) * kh * kw
  size_t packed_bytes = 0;     // GEMM A panels of every group
  size_t scratch_bytes = 0;    // im2col columns of one group of one image
};

// `mr` is the GEMM micro-kernel's row count (A panels are padded to it); `has_depthwise`
// whether the instruction set has a depthwise kernel. Any inconsistent shape (which prepare
// will refuse) plans kReference so that no size computation can overflow.
ConvPlan PlanConv(const ConvShape& s, int64_t mr, bool has_depthwise);

struct FullyConnectedPlan {
  bool optimized = false;
  bool gemv = false;         // batch 1: a matrix-vector product on W as stored, nothing packed
  size_t packed_bytes = 0;   // otherwise W transposed to [k, o] in column panels of nr
  size_t scratch_bytes = 0;  // and X packed into A panels
};

FullyConnectedPlan PlanFullyConnected(int64_t n, int64_t k, int64_t o, bool weights_constant,
                                      int64_t mr, int64_t nr);

}  // namespace f32
}  // namespace kernels
}  // namespace outpost
