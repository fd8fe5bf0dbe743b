// CONV_2D on INT8, prepare and registration: ONNX Conv semantics on NCHW (grouped and depthwise
// included) with the integer scheme of docs/quantization.md. Weights INT8 [M, C/groups, kH, kW]
// per tensor or per output channel (axis 0), any zero points (ONNX ConvInteger); optional INT32
// bias; output INT8 requantized with a fused NONE / RELU / CLIP, or INT32 raw accumulators.
// The integer-only eval is in conv_int8_eval.cc.
#include "runtime/kernels/reference/int8_linear_prepare.h"
#include "runtime/kernels/reference/int8_op_data.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

// The geometry checks of the float kernel (conv.cc), repeated for the int8 operands.
Status CheckGeometry(KernelContext& ctx, const opm::Conv2DOptions* o) {
  const TensorView& x = ctx.input(0);
  const TensorView& w = ctx.input(1);
  const TensorView& y = ctx.output(0);
  OUTPOST_KERNEL_CHECK(ctx, x.rank == 4 && w.rank == 4 && y.rank == 4, Status::kShapeMismatch,
                       "input, weights and output must have rank 4 (NCHW), have %d, %d, %d", x.rank,
                       w.rank, y.rank);
  OUTPOST_KERNEL_CHECK(ctx, o->stride_h() >= 1 && o->stride_w() >= 1, Status::kCorruptModel,
                       "strides must be >= 1, are %d, %d", o->stride_h(), o->stride_w());
  OUTPOST_KERNEL_CHECK(ctx, o->dilation_h() >= 1 && o->dilation_w() >= 1, Status::kCorruptModel,
                       "dilations must be >= 1, are %d, %d", o->dilation_h(), o->dilation_w());
  OUTPOST_KERNEL_CHECK(
      ctx, o->pad_top() >= 0 && o->pad_left() >= 0 && o->pad_bottom() >= 0 && o->pad_right() >= 0,
      Status::kCorruptModel, "pads must be >= 0, are %d, %d, %d, %d", o->pad_top(), o->pad_left(),
      o->pad_bottom(), o->pad_right());
  const int32_t groups = o->groups();
  const int32_t c = x.dims[1], m = w.dims[0];
  OUTPOST_KERNEL_CHECK(ctx, groups >= 1, Status::kCorruptModel, "groups must be >= 1, is %d",
                       groups);
  OUTPOST_KERNEL_CHECK(ctx, c % groups == 0, Status::kShapeMismatch,
                       "%d input channels do not divide into %d groups", c, groups);
  OUTPOST_KERNEL_CHECK(ctx, m % groups == 0, Status::kShapeMismatch,
                       "%d output channels do not divide into %d groups", m, groups);
  OUTPOST_KERNEL_CHECK(ctx, w.dims[1] == c / groups, Status::kShapeMismatch,
                       "weights have %d input channels per group, input gives %d", w.dims[1],
                       c / groups);
  int64_t want[4] = {x.dims[0], m, 0, 0};
  const int64_t pads[2][2] = {{o->pad_top(), o->pad_bottom()}, {o->pad_left(), o->pad_right()}};
  const int64_t strides[2] = {o->stride_h(), o->stride_w()};
  const int64_t dilations[2] = {o->dilation_h(), o->dilation_w()};
  for (int a = 0; a < 2; ++a) {
    const int64_t padded = x.dims[2 + a] + pads[a][0] + pads[a][1];
    const int64_t extent = dilations[a] * (w.dims[2 + a] - 1) + 1;
    OUTPOST_KERNEL_CHECK(ctx, extent <= padded, Status::kShapeMismatch,
                         "dilated kernel extent %lld exceeds padded input %lld on axis %d",
                         static_cast<long long>(extent), static_cast<long long>(padded), 2 + a);
    want[2 + a] = (padded - extent) / strides[a] + 1;
  }
  for (int i = 0; i < 4; ++i)
    OUTPOST_KERNEL_CHECK(ctx, y.dims[i] == want[i], Status::kShapeMismatch,
                         "output shape [%d,%d,%d,%d], expected [%lld,%lld,%lld,%lld]", y.dims[0],
                         y.dims[1], y.dims[2], y.dims[3], static_cast<long long>(want[0]),
                         static_cast<long long>(want[1]), static_cast<long long>(want[2]),
                         static_cast<long long>(want[3]));
  return Status::kOk;
}

}  // namespace

namespace int8 {

Status PrepareConv(KernelContext& ctx) {
  OUTPOST_KERNEL_CHECK(ctx, ctx.num_inputs() >= 2 && ctx.num_inputs() <= 3, Status::kCorruptModel,
                       "expects 2..3 inputs, has %d", ctx.num_inputs());
  OUTPOST_KERNEL_CHECK(ctx, ctx.num_outputs() == 1, Status::kCorruptModel,
                       "expects 1 output, has %d", ctx.num_outputs());
  OUTPOST_KERNEL_CHECK(ctx, ctx.has_input(0) && ctx.has_input(1), Status::kCorruptModel,
                       "input or weights missing");
  const auto* o = ctx.options<opm::Conv2DOptions>();
  OUTPOST_RETURN_IF_ERROR(ref::CheckActivation(ctx, o->activation()));
  OUTPOST_RETURN_IF_ERROR(CheckGeometry(ctx, o));
  const TensorView& w = ctx.input(1);
  const TensorView* bias = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  int8::ConvData* d = ctx.op_data<int8::ConvData>();
  OUTPOST_RETURN_IF_ERROR(int8::PrepareLinearOutput(ctx, ctx.input(0), w, 0, bias, ctx.output(0),
                                                    o->activation(), o->act_min(), o->act_max(),
                                                    &d->out));
  const int64_t k = static_cast<int64_t>(w.dims[1]) * w.dims[2] * w.dims[3];
  OUTPOST_RETURN_IF_ERROR(
      int8::CheckAccumulatorRange(ctx, d->out, w, 0, bias, w.dims[0], k, k, 1));
  d->stride_h = o->stride_h();
  d->stride_w = o->stride_w();
  d->dilation_h = o->dilation_h();
  d->dilation_w = o->dilation_w();
  d->pad_top = o->pad_top();
  d->pad_left = o->pad_left();
  d->groups = o->groups();
  return Status::kOk;
}

}  // namespace int8

const KernelRegistration kConv2DI8Ref =
    ref::Reference(OpCode::CONV_2D, DType::INT8, "conv2d_i8_ref", sizeof(int8::ConvData),
                   int8::PrepareConv, int8::EvalConv);

}  // namespace kernels
}  // namespace outpost
