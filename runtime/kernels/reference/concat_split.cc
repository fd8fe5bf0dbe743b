// CONCAT and SPLIT along one axis, for every dtype (the bytes are moved unchanged).
//
// Both view a tensor as [outer, axis * inner] rows: for each outer index, every piece
// contributes one contiguous block of (its axis size) * inner elements. memmove, because the
// memory planner may place an input at its final position inside the output.
#include <string.h>

#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

struct AxisData {
  int32_t axis;
  int64_t outer;  // product of the dims before the axis
  int64_t inner;  // product of the dims after the axis, in bytes
};

// Checks that `piece` matches `whole` on every axis but `axis`.
Status CheckPiece(KernelContext& ctx, const TensorView& piece, const TensorView& whole, int axis,
                  const char* what, int index) {
  OUTPOST_KERNEL_CHECK(ctx, piece.rank == whole.rank, Status::kShapeMismatch,
                       "%s %d has rank %d, expected %d", what, index, piece.rank, whole.rank);
  for (int i = 0; i < whole.rank; ++i)
    OUTPOST_KERNEL_CHECK(ctx, i == axis || piece.dims[i] == whole.dims[i], Status::kShapeMismatch,
                         "%s %d has dim %d on axis %d, expected %d", what, index, piece.dims[i], i,
                         whole.dims[i]);
  return Status::kOk;
}

// Fills AxisData for splitting / joining `whole` along the (possibly negative) `raw_axis`.
Status PrepareAxis(KernelContext& ctx, const TensorView& whole, int32_t raw_axis) {
  AxisData* d = ctx.op_data<AxisData>();
  int axis = 0;
  OUTPOST_KERNEL_CHECK(ctx, ref::NormalizeAxis(raw_axis, whole.rank, &axis), Status::kCorruptModel,
                       "axis %d out of range for rank %d", raw_axis, whole.rank);
  d->axis = axis;
  d->outer = 1;
  d->inner = static_cast<int64_t>(DTypeSize(whole.dtype));
  for (int i = 0; i < axis; ++i) d->outer *= whole.dims[i];
  for (int i = axis + 1; i < whole.rank; ++i) d->inner *= whole.dims[i];
  return Status::kOk;
}

Status PrepareConcat(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(ref::CheckMoveOperands(ctx, 1, 64, 1, 1));
  const TensorView& y = ctx.output(0);
  OUTPOST_RETURN_IF_ERROR(PrepareAxis(ctx, y, ctx.options<opm::ConcatOptions>()->axis()));
  const int axis = ctx.op_data<AxisData>()->axis;
  int64_t total = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    OUTPOST_KERNEL_CHECK(ctx, ctx.has_input(i), Status::kCorruptModel, "input %d missing", i);
    OUTPOST_RETURN_IF_ERROR(CheckPiece(ctx, ctx.input(i), y, axis, "input", i));
    total += ctx.input(i).dims[axis];
  }
  OUTPOST_KERNEL_CHECK(ctx, total == y.dims[axis], Status::kShapeMismatch,
                       "inputs sum to %lld on axis %d, output has %d",
                       static_cast<long long>(total), axis, y.dims[axis]);
  return Status::kOk;
}

Status EvalConcat(KernelContext& ctx) {
  const AxisData* d = ctx.op_data<AxisData>();
  const TensorView& y = ctx.output(0);
  uint8_t* out = y.as<uint8_t>();
  const int64_t row = y.dims[d->axis] * d->inner;
  int64_t col = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const TensorView& x = ctx.input(i);
    const uint8_t* in = x.as<uint8_t>();
    const int64_t block = x.dims[d->axis] * d->inner;
    for (int64_t o = 0; o < d->outer; ++o) {
      uint8_t* dst = out + o * row + col;
      const uint8_t* src = in + o * block;
      if (dst != src) memmove(dst, src, static_cast<size_t>(block));
    }
    col += block;
  }
  return Status::kOk;
}

Status PrepareSplit(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(ref::CheckMoveOperands(ctx, 1, 1, 1, 64));
  const TensorView& x = ctx.input(0);
  OUTPOST_RETURN_IF_ERROR(PrepareAxis(ctx, x, ctx.options<opm::SplitOptions>()->axis()));
  const int axis = ctx.op_data<AxisData>()->axis;
  int64_t total = 0;
  for (int i = 0; i < ctx.num_outputs(); ++i) {
    OUTPOST_RETURN_IF_ERROR(CheckPiece(ctx, ctx.output(i), x, axis, "output", i));
    total += ctx.output(i).dims[axis];
  }
  OUTPOST_KERNEL_CHECK(ctx, total == x.dims[axis], Status::kShapeMismatch,
                       "outputs sum to %lld on axis %d, input has %d",
                       static_cast<long long>(total), axis, x.dims[axis]);
  return Status::kOk;
}

Status EvalSplit(KernelContext& ctx) {
  const AxisData* d = ctx.op_data<AxisData>();
  const TensorView& x = ctx.input(0);
  const uint8_t* in = x.as<uint8_t>();
  const int64_t row = x.dims[d->axis] * d->inner;
  int64_t col = 0;
  for (int i = 0; i < ctx.num_outputs(); ++i) {
    const TensorView& y = ctx.output(i);
    uint8_t* out = y.as<uint8_t>();
    const int64_t block = y.dims[d->axis] * d->inner;
    for (int64_t o = 0; o < d->outer; ++o) {
      uint8_t* dst = out + o * block;
      const uint8_t* src = in + o * row + col;
      if (dst != src) memmove(dst, src, static_cast<size_t>(block));
    }
    col += block;
  }
  return Status::kOk;
}

}  // namespace

OUTPOST_MOVE_KERNEL(Concat, "concat", CONCAT, sizeof(AxisData), PrepareConcat, EvalConcat)
OUTPOST_MOVE_KERNEL(Split, "split", SPLIT, sizeof(AxisData), PrepareSplit, EvalSplit)

}  // namespace kernels
}  // namespace outpost
