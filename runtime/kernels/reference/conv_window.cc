// CONV_2D's shape checks, shared by the float and int8 kernels (conv_window.h).
#include "runtime/kernels/reference/conv_window.h"

namespace outpost {
namespace kernels {
namespace ref {

Status PrepareConv2DWindow(KernelContext& ctx, const opm::Conv2DOptions* o, ConvWindow* d) {
  const TensorView& x = ctx.input(0);
  const TensorView& w = ctx.input(1);
  const TensorView& y = ctx.output(0);
  OUTPOST_KERNEL_CHECK(ctx, x.rank == 4 && w.rank == 4 && y.rank == 4, Status::kShapeMismatch,
                       "input, weights and output must have rank 4 (NCHW), have %d, %d, %d", x.rank,
                       w.rank, y.rank);
  OUTPOST_RETURN_IF_ERROR(ReadConvWindow(ctx, o, d));
  const int32_t groups = d->groups;
  const int32_t c = x.dims[1], m = w.dims[0];
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

}  // namespace ref
}  // namespace kernels
}  // namespace outpost
