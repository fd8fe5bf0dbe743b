// CONV_2D, float32, ONNX Conv semantics on NCHW: X[N,C,H,W] * W[M,C/groups,kH,kW] (+ B[M]),
// grouped and depthwise included, with a fused activation.
//
// Direct convolution without scratch memory: each output plane is accumulated tap by tap
// (input channel, kh, kw), and for each tap the output rows and columns whose input position
// lies inside the image are computed once, so the innermost loop is a bounds-check-free axpy
// along the output width that the compiler vectorizes. Padding is never materialized.
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/conv_f32.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {

using ref::Range;
using ref::ValidRange;
using ConvData = ref::ConvF32Data;

Status ref::PrepareConvF32(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 2, 3, 1, DType::FLOAT32));
  const auto* o = ctx.options<opm::Conv2DOptions>();
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
  if (ctx.has_input(2)) {
    const TensorView& b = ctx.input(2);
    OUTPOST_KERNEL_CHECK(ctx, b.rank == 1 && b.dims[0] == m, Status::kShapeMismatch,
                         "bias must have shape [%d]", m);
  }
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
  OUTPOST_RETURN_IF_ERROR(ref::CheckActivation(ctx, o->activation()));
  ConvData* d = ctx.op_data<ConvData>();
  d->stride_h = o->stride_h();
  d->stride_w = o->stride_w();
  d->dilation_h = o->dilation_h();
  d->dilation_w = o->dilation_w();
  d->pad_top = o->pad_top();
  d->pad_left = o->pad_left();
  d->groups = groups;
  d->act = MakeActivation(o->activation(), o->act_min(), o->act_max());
  return Status::kOk;
}

namespace {

struct ConvJob {
  const ConvData* d;
  const float* x;
  const float* w;
  const float* bias;  // null when absent
  float* y;
  int64_t c, h, wd, m, kh, kw, oh, ow;
};

// y[0..n) += a * x[i * stride]: the inner loop; unit stride is split out so it vectorizes.
inline void Axpy(float* y, const float* x, float a, int64_t n, int64_t stride) {
  if (stride == 1) {
    for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] += a * x[i * stride];
  }
}

// Computes output planes [begin, end) of the flattened (n, m) range.
void ConvPlanes(void* arg, int64_t begin, int64_t end) {
  const ConvJob& j = *static_cast<const ConvJob*>(arg);
  const ConvData& d = *j.d;
  const int64_t cg = j.c / d.groups, mg = j.m / d.groups;
  const int64_t plane = j.oh * j.ow;
  for (int64_t t = begin; t < end; ++t) {
    const int64_t n = t / j.m, m = t % j.m, g = m / mg;
    float* yp = j.y + t * plane;
    const float b0 = j.bias ? j.bias[m] : 0.0f;
    for (int64_t i = 0; i < plane; ++i) yp[i] = b0;
    for (int64_t ci = 0; ci < cg; ++ci) {
      const float* xp = j.x + ((n * j.c) + g * cg + ci) * j.h * j.wd;
      const float* wp = j.w + (m * cg + ci) * j.kh * j.kw;
      for (int64_t kh = 0; kh < j.kh; ++kh) {
        const int64_t off_h = kh * d.dilation_h - d.pad_top;
        const Range rh = ValidRange(off_h, d.stride_h, j.h, j.oh);
        if (rh.size() == 0) continue;
        for (int64_t kw = 0; kw < j.kw; ++kw) {
          const int64_t off_w = kw * d.dilation_w - d.pad_left;
          const Range rw = ValidRange(off_w, d.stride_w, j.wd, j.ow);
          if (rw.size() == 0) continue;
          const float wv = wp[kh * j.kw + kw];
          const int64_t x0 = rw.begin * d.stride_w + off_w;
          for (int64_t oh = rh.begin; oh < rh.end; ++oh) {
            const float* xr = xp + (oh * d.stride_h + off_h) * j.wd + x0;
            Axpy(yp + oh * j.ow + rw.begin, xr, wv, rw.size(), d.stride_w);
          }
        }
      }
    }
    const FusedActivation act = d.act;
    for (int64_t i = 0; i < plane; ++i) yp[i] = act.Apply(yp[i]);
  }
}

}  // namespace

Status ref::EvalConvF32(KernelContext& ctx) {
  const TensorView& x = ctx.input(0);
  const TensorView& w = ctx.input(1);
  const TensorView& y = ctx.output(0);
  ConvJob j;
  j.d = ctx.op_data<ConvData>();
  j.x = x.as<float>();
  j.w = w.as<float>();
  j.bias = ctx.has_input(2) ? ctx.input(2).as<float>() : nullptr;
  j.y = y.as<float>();
  j.c = x.dims[1];
  j.h = x.dims[2];
  j.wd = x.dims[3];
  j.m = w.dims[0];
  j.kh = w.dims[2];
  j.kw = w.dims[3];
  j.oh = y.dims[2];
  j.ow = y.dims[3];
  ctx.executor().ParallelFor(static_cast<int64_t>(x.dims[0]) * j.m, 1, ConvPlanes, &j);
  return Status::kOk;
}

const KernelRegistration kConv2DF32Ref = ref::Reference(
    OpCode::CONV_2D, DType::FLOAT32, "conv2d_f32_ref", sizeof(ConvData), ref::PrepareConvF32,
    ref::EvalConvF32);

}  // namespace kernels
}  // namespace outpost
