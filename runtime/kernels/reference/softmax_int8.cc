// SOFTMAX on INT8, prepare and registration: ONNX opset-13 semantics along one axis, any
// per-tensor output parameters (TFLite's are scale 1/256, zero point -128). Prepare
// tabulates exp(-s_in * d) for the 256 possible distances d = max - x as Q24 integers; the
// integer-only eval (softmax_int8_eval.cc) sums them per row and divides. See SoftmaxData in
// int8_op_data.h for the arithmetic.
#include <math.h>

#include "runtime/kernels/reference/int8_op_data.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

Status PrepareSoftmax(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 1, 1, 1, DType::INT8));
  const TensorView& x = ctx.input(0);
  const TensorView& y = ctx.output(0);
  OUTPOST_KERNEL_CHECK(ctx, x.SameShape(y), Status::kShapeMismatch,
                       "output shape differs from input shape");
  OUTPOST_RETURN_IF_ERROR(CheckInputQuantization(ctx, 0));
  OUTPOST_RETURN_IF_ERROR(CheckQuantization(ctx, y, "output"));
  int axis = 0;
  const int32_t raw = ctx.options<opm::SoftmaxOptions>()->axis();
  OUTPOST_KERNEL_CHECK(ctx, ref::NormalizeAxis(raw, x.rank, &axis), Status::kCorruptModel,
                       "axis %d out of range for rank %d", raw, x.rank);
  int8::SoftmaxData* d = ctx.op_data<int8::SoftmaxData>();
  d->outer = d->inner = 1;
  for (int i = 0; i < axis; ++i) d->outer *= x.dims[i];
  for (int i = axis + 1; i < x.rank; ++i) d->inner *= x.dims[i];
  d->axis_size = x.dims[axis];
  const double s_in = x.quant.scale[0];
  for (int k = 0; k < 256; ++k)
    d->exp_table[k] = static_cast<int32_t>(round(ldexp(exp(-s_in * k), int8::kSoftmaxExpBits)));
  d->output_zp = static_cast<int32_t>(y.quant.zero_point[0]);
  QuantizeMultiplier(1.0 / (static_cast<double>(y.quant.scale[0]) * 1073741824.0),
                     &d->multiplier);
  return Status::kOk;
}

}  // namespace

const KernelRegistration kSoftmaxI8Ref =
    ref::Reference(OpCode::SOFTMAX, DType::INT8, "softmax_i8_ref", sizeof(int8::SoftmaxData),
                   PrepareSoftmax, int8::EvalSoftmax);

}  // namespace kernels
}  // namespace outpost
