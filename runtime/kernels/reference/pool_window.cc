// Prepare-time checks shared by the float and int8 pooling kernels (pool_window.h).
#include "runtime/kernels/reference/pool_window.h"

namespace outpost {
namespace kernels {
namespace ref {

Status PreparePoolWindow(KernelContext& ctx, PoolWindow* d) {
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
    const int64_t floor_out = FloorDiv(span, d->stride[a]) + 1;
    const int64_t ceil_out = CeilDiv(span, d->stride[a]) + 1;
    OUTPOST_KERNEL_CHECK(ctx, out == floor_out || out == ceil_out, Status::kShapeMismatch,
                         "output axis %d is %lld, pooling gives %lld (floor) or %lld (ceil)", 2 + a,
                         static_cast<long long>(out), static_cast<long long>(floor_out),
                         static_cast<long long>(ceil_out));
    // A window with no cell inside the input has no max and no average.
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

Status CheckMaxPoolOperands(KernelContext& ctx, DType dtype) {
  const int outs = ctx.num_outputs();
  OUTPOST_KERNEL_CHECK(ctx, outs == 1 || outs == 2, Status::kCorruptModel,
                       "expects 1 or 2 outputs (values, indices), has %d", outs);
  OUTPOST_KERNEL_CHECK(ctx, ctx.num_inputs() == 1 && ctx.has_input(0), Status::kCorruptModel,
                       "expects 1 input, has %d", ctx.num_inputs());
  OUTPOST_KERNEL_CHECK(ctx, ctx.input(0).dtype == dtype, Status::kUnsupported,
                       "input 0 is %s, kernel takes %s", DTypeName(ctx.input(0).dtype),
                       DTypeName(dtype));
  OUTPOST_KERNEL_CHECK(ctx, ctx.output(0).dtype == dtype, Status::kUnsupported,
                       "output 0 is %s, kernel takes %s", DTypeName(ctx.output(0).dtype),
                       DTypeName(dtype));
  if (outs == 2) {
    const TensorView& i = ctx.output(1);
    OUTPOST_KERNEL_CHECK(ctx, i.dtype == DType::INT64, Status::kUnsupported,
                         "output 1 (indices) is %s, must be INT64", DTypeName(i.dtype));
    OUTPOST_KERNEL_CHECK(ctx, i.SameShape(ctx.output(0)), Status::kShapeMismatch,
                         "output 1 (indices) must have the shape of output 0");
  }
  return Status::kOk;
}

Status CheckGlobalPoolShape(KernelContext& ctx) {
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

}  // namespace ref
}  // namespace kernels
}  // namespace outpost
