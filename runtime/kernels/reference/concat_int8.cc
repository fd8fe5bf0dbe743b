// CONCAT on INT8, prepare and registration. Unlike the byte-moving CONCAT of the other dtypes,
// inputs may be quantized differently from the output: those are requantized, the others
// copied. Either every operand is quantized or none is (plain int8 integers, copied). The
// integer-only eval is in concat_int8_eval.cc.
#include "runtime/kernels/reference/int8_op_data.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

Status PrepareConcat(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 1, 64, 1, DType::INT8));
  const TensorView& y = ctx.output(0);
  int8::ConcatData* d = ctx.op_data<int8::ConcatData>();
  d->quantized = y.quant.present();
  if (d->quantized) OUTPOST_RETURN_IF_ERROR(CheckQuantization(ctx, y, "output"));
  int axis = 0;
  const int32_t raw = ctx.options<opm::ConcatOptions>()->axis();
  OUTPOST_KERNEL_CHECK(ctx, ref::NormalizeAxis(raw, y.rank, &axis), Status::kCorruptModel,
                       "axis %d out of range for rank %d", raw, y.rank);
  d->axis = axis;
  d->outer = 1;
  d->inner = 1;
  for (int i = 0; i < axis; ++i) d->outer *= y.dims[i];
  for (int i = axis + 1; i < y.rank; ++i) d->inner *= y.dims[i];
  int64_t total = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    OUTPOST_KERNEL_CHECK(ctx, ctx.has_input(i), Status::kCorruptModel, "input %d missing", i);
    const TensorView& x = ctx.input(i);
    OUTPOST_KERNEL_CHECK(ctx, x.rank == y.rank, Status::kShapeMismatch,
                         "input %d has rank %d, expected %d", i, x.rank, y.rank);
    for (int k = 0; k < y.rank; ++k)
      OUTPOST_KERNEL_CHECK(ctx, k == axis || x.dims[k] == y.dims[k], Status::kShapeMismatch,
                           "input %d has dim %d on axis %d, expected %d", i, x.dims[k], k,
                           y.dims[k]);
    total += x.dims[axis];
    if (d->quantized)
      OUTPOST_RETURN_IF_ERROR(CheckInputQuantization(ctx, i));
    else
      OUTPOST_KERNEL_CHECK(ctx, !x.quant.present(), Status::kUnsupported,
                           "input %d is quantized but the output has no quantization "
                           "parameters",
                           i);
  }
  OUTPOST_KERNEL_CHECK(ctx, total == y.dims[axis], Status::kShapeMismatch,
                       "inputs sum to %lld on axis %d, output has %d",
                       static_cast<long long>(total), axis, y.dims[axis]);
  return Status::kOk;
}

}  // namespace

const KernelRegistration kQuantizedConcatI8Ref =
    ref::Reference(OpCode::CONCAT, DType::INT8, "concat_i8_ref", sizeof(int8::ConcatData),
                   PrepareConcat, int8::EvalConcat);

}  // namespace kernels
}  // namespace outpost
