// The window of CONV_2D and CONV_TRANSPOSE_2D (strides, dilations, leading pads, groups) and
// the prepare-time checks the float and int8 convolutions share, so that every kernel of an op
// accepts exactly the same models and refuses the others with the same message.
#pragma once

#include <stdint.h>

#include "runtime/kernel.h"
#include "runtime/kernels/kernel_util.h"

namespace outpost {
namespace kernels {
namespace ref {

// What eval needs of the options; the trailing pads follow from the shapes.
struct ConvWindow {
  int32_t stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, groups;
};

// The sizes a convolution's eval loops over: input [n, c, h, wd], output [n, m, oh, ow],
// kernel window kh x kw (CONV_2D and CONV_TRANSPOSE_2D alike, once prepare has checked them).
struct ConvSizes {
  int64_t c, h, wd, m, kh, kw, oh, ow;
  void Set(const TensorView& x, const TensorView& w, const TensorView& y) {
    c = x.dims[1], h = x.dims[2], wd = x.dims[3];
    m = y.dims[1], kh = w.dims[2], kw = w.dims[3];
    oh = y.dims[2], ow = y.dims[3];
  }
};

// Checks the options Conv2DOptions and ConvTranspose2DOptions have in common (strides and
// dilations >= 1, pads >= 0, groups >= 1) and copies them into `d`.
template <class Options>
Status ReadConvWindow(KernelContext& ctx, const Options* o, ConvWindow* d) {
  OUTPOST_KERNEL_CHECK(ctx, o->stride_h() >= 1 && o->stride_w() >= 1, Status::kCorruptModel,
                       "strides must be >= 1, are %d, %d", o->stride_h(), o->stride_w());
  OUTPOST_KERNEL_CHECK(ctx, o->dilation_h() >= 1 && o->dilation_w() >= 1, Status::kCorruptModel,
                       "dilations must be >= 1, are %d, %d", o->dilation_h(), o->dilation_w());
  OUTPOST_KERNEL_CHECK(
      ctx, o->pad_top() >= 0 && o->pad_left() >= 0 && o->pad_bottom() >= 0 && o->pad_right() >= 0,
      Status::kCorruptModel, "pads must be >= 0, are %d, %d, %d, %d", o->pad_top(), o->pad_left(),
      o->pad_bottom(), o->pad_right());
  OUTPOST_KERNEL_CHECK(ctx, o->groups() >= 1, Status::kCorruptModel,
                       "groups must be >= 1, is %d", o->groups());
  d->stride_h = o->stride_h();
  d->stride_w = o->stride_w();
  d->dilation_h = o->dilation_h();
  d->dilation_w = o->dilation_w();
  d->pad_top = o->pad_top();
  d->pad_left = o->pad_left();
  d->groups = o->groups();
  return Status::kOk;
}

// CONV_2D: reads the window (ReadConvWindow) and checks input [N,C,H,W], weights
// [M,C/groups,kH,kW] and output [N,M,oH,oW] against it. The bias is left to the caller: its
// dtype and its checks differ between the float and the integer kernels.
Status PrepareConv2DWindow(KernelContext& ctx, const opm::Conv2DOptions* o, ConvWindow* d);

}  // namespace ref
}  // namespace kernels
}  // namespace outpost
