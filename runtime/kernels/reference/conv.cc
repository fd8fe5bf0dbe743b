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
  ConvData* d = ctx.op_data<ConvData>();
  OUTPOST_RETURN_IF_ERROR(ref::PrepareConv2DWindow(ctx, o, d));
  if (ctx.has_input(2)) {
    const TensorView& b = ctx.input(2);
    OUTPOST_KERNEL_CHECK(ctx, b.rank == 1 && b.dims[0] == ctx.input(1).dims[0],
                         Status::kShapeMismatch, "bias must have shape [%d]",
                         ctx.input(1).dims[0]);
  }
  OUTPOST_RETURN_IF_ERROR(ref::CheckActivation(ctx, o->activation()));
  d->act = MakeActivation(o->activation(), o->act_min(), o->act_max());
  return Status::kOk;
}

namespace {

struct ConvJob : ref::ConvSizes {
  const ConvData* d;
  const float* x;
  const float* w;
  const float* bias;  // null when absent
  float* y;
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
  j.Set(x, w, y);
  ctx.executor().ParallelFor(static_cast<int64_t>(x.dims[0]) * j.m, 1, ConvPlanes, &j);
  return Status::kOk;
}

const KernelRegistration kConv2DF32Ref = ref::Reference(
    OpCode::CONV_2D, DType::FLOAT32, "conv2d_f32_ref", sizeof(ConvData), ref::PrepareConvF32,
    ref::EvalConvF32);

}  // namespace kernels
}  // namespace outpost
