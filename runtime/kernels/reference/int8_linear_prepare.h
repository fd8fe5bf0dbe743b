// Prepare steps shared by the int8 CONV_2D, FULLY_CONNECTED and MATMUL kernels: operand and
// quantization checks, the output's requantization, and a proof that no int32 accumulator can
// overflow.
#pragma once

#include <stdint.h>

#include "runtime/kernels/reference/int8_op_data.h"

namespace outpost {
namespace kernels {
namespace int8 {

// CONV_2D and FULLY_CONNECTED: input, weights, an optional bias and one output. Their dtypes
// are PrepareLinearOutput's to check (they differ between operands).
Status CheckLinearOperandCount(KernelContext& ctx);

// Fills `out` and checks:
//   x: INT8, per tensor;
//   w: INT8, per tensor or per channel on `channel_axis` (any zero points in range; per tensor
//      only when `channel_axis` < 0);
//   bias (may be null): constant INT32 [channels], zero point 0, and, when it carries scales,
//     scale[c] = s_x * s_w[c] (relative tolerance 1e-5);
//   y: INT8 per tensor (requantized, fused activation NONE / RELU / CLIP) or INT32 (raw
//     accumulators: no bias, no activation, its quantization parameters are not used).
Status PrepareLinearOutput(KernelContext& ctx, const TensorView& x, const TensorView& w,
                           int channel_axis, const TensorView* bias, const TensorView& y,
                           opm::Activation act, float act_min, float act_max, LinearOutput* out);

// Refuses the model if an accumulator could overflow int32: for each channel c,
// max|x - input_zp| * sum_i |w_c[i] - weight_zp[c]| + |bias[c]| must fit. Channel c's k
// weights are w.data[offset + c * channel_stride + i * elem_stride]; non-constant weights are
// bounded by their dtype's range. `bias` may be null.
Status CheckAccumulatorRange(KernelContext& ctx, const LinearOutput& o, const TensorView& w,
                             int64_t offset, const TensorView* bias, int64_t channels, int64_t k,
                             int64_t channel_stride, int64_t elem_stride);

// The complete prepare of the int8 reference CONV_2D (ConvData in op_data) and
// FULLY_CONNECTED (FullyConnectedData): optimized kernels run it first, so that they accept
// exactly the models the reference accepts, then add their own packing.
Status PrepareConv(KernelContext& ctx);
Status PrepareFullyConnected(KernelContext& ctx);

}  // namespace int8
}  // namespace kernels
}  // namespace outpost
