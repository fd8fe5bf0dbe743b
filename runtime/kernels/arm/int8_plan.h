// How the ARM int8 kernels execute CONV_2D and FULLY_CONNECTED, and the prepare they share:
// the plan is derived from shapes and options alone, so that packed_bytes and scratch_bytes
// (called with the Model before prepare) and prepare (called with the tensors) agree. The
// packed layout is the same for the plain NEON and the dot-product kernels; only their GEMM
// micro-kernels differ (int8_gemm_inl.h). Portable code: no intrinsics here. What does not
// depend on the instruction set (geometry, channel constants, weight tiles, im2col) is shared
// with the x86 kernels in runtime/kernels/int8_plan/.
//
// Arithmetic: sum((x - zx) * w) = sum(x * w) - zx * sum(w). The GEMMs multiply the int8
// inputs as they are (SDOT is signed x signed) and subtract zx * sum(w) - bias, a per-channel
// constant folded at prepare (int8_plan/channel_constants.h, offset 0).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "runtime/kernel.h"
#include "runtime/kernels/int8_plan/conv_geometry.h"
#include "runtime/kernels/reference/int8_op_data.h"

namespace outpost {
namespace kernels {
namespace arm {

constexpr int64_t kConvMr = 8;          // output channels per GEMM tile
constexpr int64_t kConvNv = 3;          // 4-pixel vectors per GEMM tile
constexpr int64_t kDepthwiseSlots = 4;  // depthwise scratch slices (parallel chunks)
constexpr int64_t kDepthwiseBlock = 8;  // depthwise output columns per step
constexpr int64_t kFcBlocks = 4;        // 4-channel vectors per fully connected task

struct Int8ConvPlan : int8_plan::ConvGeometry {
  bool depthwise;  // one input and one output channel per group
  int64_t kq;      // GEMM depth in groups of 4
  int64_t npad;    // output pixels per plane rounded up to 4
  int64_t mg_pad;  // output channels per group rounded up to kConvMr
  // Depthwise: one input plane as int16 x - zx, zero in the padding, dw_rows x dw_cols: every
  // row and column a tap reads, including the discarded columns of the last output block.
  int64_t dw_rows, dw_cols;
};

// Per-channel constants at the start of packed memory, each an array of channels rounded up
// to 4 (vector loads), then the re-laid-out weights (none for depthwise, which reads the
// weights tensor in place).
struct ChannelConstants {
  int32_t* corr;       // subtracted from the raw sum: zx * sum(w) - bias (depthwise: -bias)
  int32_t* m0;         // requantization multiplier
  int32_t* left;       // max(shift, 0)
  int32_t* neg_right;  // min(shift, 0)
  int8_t* weights;
};

struct Int8ConvData {
  int8::ConvData ref;  // first: the reference prepare fills it through op_data<Int8ConvData>()
  Int8ConvPlan plan;
  bool use_reference;
};

struct Int8FullyConnectedData {
  int8::FullyConnectedData ref;  // first, as above
  int64_t out, k, kq4, out_pad;  // kq4: groups of 4 k rounded up to 4 (16-byte input loads)
  bool use_reference;
};

ChannelConstants ConvConstants(const Int8ConvPlan& p, void* packed);
ChannelConstants FullyConnectedConstants(const Int8FullyConnectedData& d, void* packed);

// Registration entry points shared by the NEON and the dot-product kernels.
size_t ConvPackedBytes(const Model& model, const opm::Operator& op);
size_t ConvScratchBytes(const Model& model, const opm::Operator& op);
Status PrepareConv(KernelContext& ctx);
size_t FullyConnectedPackedBytes(const Model& model, const opm::Operator& op);
size_t FullyConnectedScratchBytes(const Model& model, const opm::Operator& op);
Status PrepareFullyConnected(KernelContext& ctx);

// The depthwise path (NEON, no dot product: its taps are not 4-deep).
void EvalDepthwise(const Int8ConvData& d, const ChannelConstants& cc, const int8_t* x,
                   const int8_t* w, void* y, void* scratch, const Executor& ex);
size_t DepthwiseSlotBytes(const Int8ConvPlan& p);

}  // namespace arm
}  // namespace kernels
}  // namespace outpost
