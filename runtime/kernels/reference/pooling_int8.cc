// Pooling on INT8, prepare and registration: MAX_POOL_2D (optional INT64 indices) and
// GLOBAL_MAX_POOL move values, so their output must be quantized exactly as the input;
// AVERAGE_POOL_2D and GLOBAL_AVERAGE_POOL accept any output parameters and requantize
// (rounding: see PoolData in int8_op_data.h). Windows, padding, ceil_mode and
// count_include_pad are pool_window.h's, shared with the float kernels. The integer-only eval is in
// pooling_int8_eval.cc.
#include "runtime/kernels/reference/int8_op_data.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

// Max pooling moves values: the output must be quantized as the input.
Status CheckSameQuantization(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckInputQuantization(ctx, 0));
  OUTPOST_KERNEL_CHECK(ctx, ref::SameQuantization(ctx.input(0), ctx.output(0)),
                       Status::kUnsupported,
                       "max pooling needs the output quantized exactly as the input");
  return Status::kOk;
}

// Average pooling: any per-tensor parameters, rescaled by s_in / s_out after the division by
// the cell count, which keeps kAverageFractionBits fractional bits.
Status PrepareAverageRescale(KernelContext& ctx, int8::PoolData* d) {
  OUTPOST_RETURN_IF_ERROR(CheckInputQuantization(ctx, 0));
  OUTPOST_RETURN_IF_ERROR(CheckQuantization(ctx, ctx.output(0), "output"));
  const TensorView& x = ctx.input(0);
  const TensorView& y = ctx.output(0);
  d->input_zp = static_cast<int32_t>(x.quant.zero_point[0]);
  d->output_zp = static_cast<int32_t>(y.quant.zero_point[0]);
  QuantizeMultiplier(static_cast<double>(x.quant.scale[0]) / y.quant.scale[0] /
                         static_cast<double>(1 << int8::kAverageFractionBits),
                     &d->multiplier);
  return Status::kOk;
}

Status PrepareMaxPool2DInt8(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(ref::CheckMaxPoolOperands(ctx, DType::INT8));
  OUTPOST_RETURN_IF_ERROR(CheckSameQuantization(ctx));
  return ref::PreparePoolWindow(ctx, ctx.op_data<int8::PoolData>());
}

Status PrepareAveragePool2DInt8(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 1, 1, 1, DType::INT8));
  int8::PoolData* d = ctx.op_data<int8::PoolData>();
  OUTPOST_RETURN_IF_ERROR(PrepareAverageRescale(ctx, d));
  return ref::PreparePoolWindow(ctx, d);
}

Status PrepareGlobalMaxPool(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 1, 1, 1, DType::INT8));
  OUTPOST_RETURN_IF_ERROR(CheckSameQuantization(ctx));
  return ref::CheckGlobalPoolShape(ctx);
}

Status PrepareGlobalAveragePool(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 1, 1, 1, DType::INT8));
  OUTPOST_RETURN_IF_ERROR(PrepareAverageRescale(ctx, ctx.op_data<int8::PoolData>()));
  return ref::CheckGlobalPoolShape(ctx);
}

}  // namespace

const KernelRegistration kMaxPool2DI8Ref =
    ref::Reference(OpCode::MAX_POOL_2D, DType::INT8, "max_pool2d_i8_ref", sizeof(int8::PoolData),
                   PrepareMaxPool2DInt8, int8::EvalMaxPool2D);
const KernelRegistration kAveragePool2DI8Ref =
    ref::Reference(OpCode::AVERAGE_POOL_2D, DType::INT8, "average_pool2d_i8_ref",
                   sizeof(int8::PoolData), PrepareAveragePool2DInt8, int8::EvalAveragePool2D);
const KernelRegistration kGlobalMaxPoolI8Ref =
    ref::Reference(OpCode::GLOBAL_MAX_POOL, DType::INT8, "global_max_pool_i8_ref", 0,
                   PrepareGlobalMaxPool, int8::EvalGlobalMaxPool);
const KernelRegistration kGlobalAveragePoolI8Ref =
    ref::Reference(OpCode::GLOBAL_AVERAGE_POOL, DType::INT8, "global_average_pool_i8_ref",
                   sizeof(int8::PoolData), PrepareGlobalAveragePool, int8::EvalGlobalAveragePool);

}  // namespace kernels
}  // namespace outpost
