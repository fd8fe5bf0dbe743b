// Pooling on INT8, prepare and registration: MAX_POOL_2D (optional INT64 indices) and
// GLOBAL_MAX_POOL move values, so their output must be quantized exactly as the input;
// AVERAGE_POOL_2D and GLOBAL_AVERAGE_POOL accept any output parameters and requantize
// (rounding: see PoolData in int8_op_data.h). Windows, padding, ceil_mode and
// count_include_pad follow the float kernels (pooling.cc). The integer-only eval is in
// pooling_int8_eval.cc.
#include "runtime/kernels/reference/int8_op_data.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

using ref::Range;
using ref::ValidRange;

// The window checks of the float kernel.
Status PrepareWindow(KernelContext& ctx, int8::PoolData* d) {
  const auto* o = ctx.options<opm::Pool2DOptions>();
  const TensorView& x = ctx.input(0);
  const TensorView& y = ctx.output(0);
  OUTPOST_KERNEL_CHECK(ctx, x.rank == 4 && y.rank == 4, Status::kShapeMismatch,
                       "input and output must have rank 4 (NCHW), have %d and %d", x.rank, y.rank);
  OUTPOST_KERNEL_CHECK(ctx, y.dims[0] == x.dims[0] && y.dims[1] == x.dims[1],
                       Status::kShapeMismatch,
                       "output batch/channels [%d,%d] differ from input [%d,%d]", y.dims[0],
                       y.dims[1], x.dims[0], x.dims[1]);
  d->kernel[0] = o->kernel_h();
  d->kernel[1] = o->kernel_w();
  d->stride[0] = o->stride_h();
  d->stride[1] = o->stride_w();
  d->dilation[0] = o->dilation_h();
  d->dilation[1] = o->dilation_w();
  d->pad_begin[0] = o->pad_top();
  d->pad_begin[1] = o->pad_left();
  d->pad_end[0] = o->pad_bottom();
  d->pad_end[1] = o->pad_right();
  d->count_include_pad = o->count_include_pad();
  OUTPOST_KERNEL_CHECK(ctx, o->storage_order() == 0 || o->storage_order() == 1,
                       Status::kCorruptModel, "storage_order is %d, must be 0 or 1",
                       static_cast<int>(o->storage_order()));
  d->column_major = o->storage_order() == 1;
  for (int a = 0; a < 2; ++a) {
    OUTPOST_KERNEL_CHECK(ctx, d->kernel[a] >= 1 && d->stride[a] >= 1 && d->dilation[a] >= 1,
                         Status::kCorruptModel,
                         "axis %d: kernel %d, stride %d, dilation %d must all be >= 1", 2 + a,
                         d->kernel[a], d->stride[a], d->dilation[a]);
    OUTPOST_KERNEL_CHECK(ctx, d->pad_begin[a] >= 0 && d->pad_end[a] >= 0, Status::kCorruptModel,
                         "axis %d: pads %d, %d must be >= 0", 2 + a, d->pad_begin[a],
                         d->pad_end[a]);
    const int64_t in = x.dims[2 + a], out = y.dims[2 + a];
    const int64_t span = in + d->pad_begin[a] + d->pad_end[a] -
                         (static_cast<int64_t>(d->dilation[a]) * (d->kernel[a] - 1) + 1);
    const int64_t floor_out = ref::FloorDiv(span, d->stride[a]) + 1;
    const int64_t ceil_out = ref::CeilDiv(span, d->stride[a]) + 1;
    OUTPOST_KERNEL_CHECK(ctx, out == floor_out || out == ceil_out, Status::kShapeMismatch,
                         "output axis %d is %lld, pooling gives %lld (floor) or %lld (ceil)", 2 + a,
                         static_cast<long long>(out), static_cast<long long>(floor_out),
                         static_cast<long long>(ceil_out));
    for (int64_t i = 0; i < out; ++i) {
      const Range r =
          ValidRange(i * d->stride[a] - d->pad_begin[a], d->dilation[a], in, d->kernel[a]);
      OUTPOST_KERNEL_CHECK(ctx, r.size() > 0, Status::kShapeMismatch,
                           "axis %d: window %lld lies entirely in the padding", 2 + a,
                           static_cast<long long>(i));
    }
  }
  return Status::kOk;
}

Status PrepareGlobalShape(KernelContext& ctx) {
  const TensorView& x = ctx.input(0);
  const TensorView& y = ctx.output(0);
  OUTPOST_KERNEL_CHECK(ctx, x.rank >= 3, Status::kShapeMismatch,
                       "input must have rank >= 3 (N, C, spatial...), has %d", x.rank);
  bool ok = y.rank == x.rank && y.dims[0] == x.dims[0] && y.dims[1] == x.dims[1];
  for (int i = 2; ok && i < y.rank; ++i) ok = y.dims[i] == 1;
  OUTPOST_KERNEL_CHECK(ctx, ok, Status::kShapeMismatch,
                       "output must be [N, C, 1, ...] of rank %d with N=%d, C=%d", x.rank,
                       x.dims[0], x.dims[1]);
  return Status::kOk;
}

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

Status PrepareMaxPool2D(KernelContext& ctx) {
  const int outs = ctx.num_outputs();
  OUTPOST_KERNEL_CHECK(ctx, outs == 1 || outs == 2, Status::kCorruptModel,
                       "expects 1 or 2 outputs (values, indices), has %d", outs);
  OUTPOST_KERNEL_CHECK(ctx, ctx.num_inputs() == 1 && ctx.has_input(0), Status::kCorruptModel,
                       "expects 1 input, has %d", ctx.num_inputs());
  OUTPOST_KERNEL_CHECK(ctx, ctx.input(0).dtype == DType::INT8, Status::kUnsupported,
                       "input 0 is %s, kernel takes INT8", DTypeName(ctx.input(0).dtype));
  OUTPOST_KERNEL_CHECK(ctx, ctx.output(0).dtype == DType::INT8, Status::kUnsupported,
                       "output 0 is %s, kernel takes INT8", DTypeName(ctx.output(0).dtype));
  if (outs == 2) {
    const TensorView& i = ctx.output(1);
    OUTPOST_KERNEL_CHECK(ctx, i.dtype == DType::INT64, Status::kUnsupported,
                         "output 1 (indices) is %s, must be INT64", DTypeName(i.dtype));
    OUTPOST_KERNEL_CHECK(ctx, i.SameShape(ctx.output(0)), Status::kShapeMismatch,
                         "output 1 (indices) must have the shape of output 0");
  }
  OUTPOST_RETURN_IF_ERROR(CheckSameQuantization(ctx));
  return PrepareWindow(ctx, ctx.op_data<int8::PoolData>());
}

Status PrepareAveragePool2D(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 1, 1, 1, DType::INT8));
  int8::PoolData* d = ctx.op_data<int8::PoolData>();
  OUTPOST_RETURN_IF_ERROR(PrepareAverageRescale(ctx, d));
  return PrepareWindow(ctx, d);
}

Status PrepareGlobalMaxPool(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 1, 1, 1, DType::INT8));
  OUTPOST_RETURN_IF_ERROR(CheckSameQuantization(ctx));
  return PrepareGlobalShape(ctx);
}

Status PrepareGlobalAveragePool(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 1, 1, 1, DType::INT8));
  OUTPOST_RETURN_IF_ERROR(PrepareAverageRescale(ctx, ctx.op_data<int8::PoolData>()));
  return PrepareGlobalShape(ctx);
}

}  // namespace

const KernelRegistration kMaxPool2DI8Ref =
    ref::Reference(OpCode::MAX_POOL_2D, DType::INT8, "max_pool2d_i8_ref", sizeof(int8::PoolData),
                   PrepareMaxPool2D, int8::EvalMaxPool2D);
const KernelRegistration kAveragePool2DI8Ref =
    ref::Reference(OpCode::AVERAGE_POOL_2D, DType::INT8, "average_pool2d_i8_ref",
                   sizeof(int8::PoolData), PrepareAveragePool2D, int8::EvalAveragePool2D);
const KernelRegistration kGlobalMaxPoolI8Ref =
    ref::Reference(OpCode::GLOBAL_MAX_POOL, DType::INT8, "global_max_pool_i8_ref", 0,
                   PrepareGlobalMaxPool, int8::EvalGlobalMaxPool);
const KernelRegistration kGlobalAveragePoolI8Ref =
    ref::Reference(OpCode::GLOBAL_AVERAGE_POOL, DType::INT8, "global_average_pool_i8_ref",
                   sizeof(int8::PoolData), PrepareGlobalAveragePool, int8::EvalGlobalAveragePool);

}  // namespace kernels
}  // namespace outpost
