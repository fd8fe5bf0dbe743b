// CONV_2D on INT8 for AVX2: the plan shared by the size functions, prepare and the two eval
// paths (GEMM over im2col or the input itself, and depthwise).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "runtime/kernels/int8_plan/channel_constants.h"
#include "runtime/kernels/int8_plan/conv_geometry.h"
#include "runtime/kernels/reference/int8_op_data.h"

namespace outpost {
namespace kernels {
namespace x86 {

constexpr int64_t kAvx2ConvMr = 4;      // output channels per GEMM tile
constexpr int64_t kAvx2Vector = 8;      // int32 lanes: pixels per vector, constants rounding
constexpr int64_t kAvx2DwSlots = 4;     // depthwise scratch slices (parallel chunks)
constexpr int64_t kAvx2DwMaxTaps = 64;  // larger depthwise kernels take the GEMM path

struct Avx2ConvPlan : int8_plan::ConvGeometry {
  bool depthwise;  // one input and one output channel per group
  int64_t kp;      // GEMM depth in int16 pairs
  int64_t npad;    // output pixels per plane rounded up to 8
  int64_t mg_pad;  // output channels per group rounded up to kAvx2ConvMr
  // Depthwise (conv_int8_dw_avx2.cc): the padded input as int32 x - zx, split by column
  // stride phase into sw planes of dw_rows rows of dw_cols values.
  int64_t dw_rows, dw_cols;
};

bool MakeAvx2ConvPlan(const int32_t x[4], const int32_t wt[4], const int32_t y[4],
                      const opm::Conv2DOptions* o, Avx2ConvPlan* p);

struct Avx2ConvData {
  int8::ConvData ref;  // first: the reference prepare fills it through op_data<Avx2ConvData>()
  Avx2ConvPlan plan;
  bool use_reference;  // weights with a zero point or not constant
};

// Depthwise: packed weights [channel][tap] as int32 words holding the weight in the low int16
// and 0 in the high one (the vpmaddwd operand against an int32 lane of x - zx).
void PackDepthwiseWeightsAvx2(const Avx2ConvPlan& p, const int8_t* w, int32_t* out);
int64_t DepthwiseSlotBytesAvx2(const Avx2ConvPlan& p);
void EvalDepthwiseAvx2(const Avx2ConvData& d, const int8_plan::ChannelConstants& cc,
                       const int8_t* x, void* y, void* scratch, const Executor& ex);

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
