// CONV_2D on INT8, prepare and registration: ONNX Conv semantics on NCHW (grouped and depthwise
// included) with the integer scheme of docs/quantization.md. Weights INT8 [M, C/groups, kH, kW]
// per tensor or per output channel (axis 0), any zero points (ONNX ConvInteger); optional INT32
// bias; output INT8 requantized with a fused NONE / RELU / CLIP, or INT32 raw accumulators.
// The integer-only eval is in conv_int8_eval.cc.
#include "runtime/kernels/reference/conv_window.h"
#include "runtime/kernels/reference/int8_linear_prepare.h"
#include "runtime/kernels/reference/int8_op_data.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace int8 {

Status PrepareConv(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckLinearOperandCount(ctx));
  const auto* o = ctx.options<opm::Conv2DOptions>();
  OUTPOST_RETURN_IF_ERROR(ref::CheckActivation(ctx, o->activation()));
  int8::ConvData* d = ctx.op_data<int8::ConvData>();
  OUTPOST_RETURN_IF_ERROR(ref::PrepareConv2DWindow(ctx, o, d));
  const TensorView& w = ctx.input(1);
  const TensorView* bias = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  OUTPOST_RETURN_IF_ERROR(int8::PrepareLinearOutput(ctx, ctx.input(0), w, 0, bias, ctx.output(0),
                                                    o->activation(), o->act_min(), o->act_max(),
                                                    &d->out));
  const int64_t k = static_cast<int64_t>(w.dims[1]) * w.dims[2] * w.dims[3];
  OUTPOST_RETURN_IF_ERROR(
      int8::CheckAccumulatorRange(ctx, d->out, w, 0, bias, w.dims[0], k, k, 1));
  return Status::kOk;
}

}  // namespace int8

const KernelRegistration kConv2DI8Ref =
    ref::Reference(OpCode::CONV_2D, DType::INT8, "conv2d_i8_ref", sizeof(int8::ConvData),
                   int8::PrepareConv, int8::EvalConv);

}  // namespace kernels
}  // namespace outpost
