// FULLY_CONNECTED on INT8, prepare and registration: Y[N,O] = X[N,K] * W[O,K]^T (+ B[O]) with
// the integer scheme of docs/quantization.md. Weights INT8 per tensor or per output channel
// (axis 0), any zero points; optional INT32 bias; output INT8 requantized with a fused
// NONE / RELU / CLIP, or INT32 raw accumulators. The integer-only eval is in
// fully_connected_int8_eval.cc.
#include "runtime/kernels/reference/int8_linear_prepare.h"
#include "runtime/kernels/reference/int8_op_data.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace int8 {

Status PrepareFullyConnected(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckLinearOperandCount(ctx));
  const auto* o = ctx.options<opm::FullyConnectedOptions>();
  OUTPOST_RETURN_IF_ERROR(ref::CheckActivation(ctx, o->activation()));
  OUTPOST_RETURN_IF_ERROR(ref::CheckFullyConnectedShapes(ctx));
  const TensorView& x = ctx.input(0);
  const TensorView& w = ctx.input(1);
  const TensorView& y = ctx.output(0);
  const TensorView* bias = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  int8::FullyConnectedData* d = ctx.op_data<int8::FullyConnectedData>();
  OUTPOST_RETURN_IF_ERROR(int8::PrepareLinearOutput(ctx, x, w, 0, bias, y, o->activation(),
                                                    o->act_min(), o->act_max(), &d->out));
  return int8::CheckAccumulatorRange(ctx, d->out, w, 0, bias, w.dims[0], w.dims[1], w.dims[1],
                                     1);
}

}  // namespace int8

const KernelRegistration kFullyConnectedI8Ref =
    ref::Reference(OpCode::FULLY_CONNECTED, DType::INT8, "fully_connected_i8_ref",
                   sizeof(int8::FullyConnectedData), int8::PrepareFullyConnected,
                   int8::EvalFullyConnected);

}  // namespace kernels
}  // namespace outpost
