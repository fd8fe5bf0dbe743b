// CONV_TRANSPOSE_2D, float32, ONNX ConvTranspose semantics on NCHW: X[N,C,H,W],
// W[C, M/groups, kH, kW] (ONNX layout), optional B[M], Y[N,M,OH,OW] with the output shape
// stored in the model.
//
// Scatter form: input pixel (ih, iw) adds w * x to output (ih*stride - pad + kh*dilation, ...).
// Per tap, the input rows and columns that land inside the output are computed once, so the
// inner loop runs along an input row without bounds checks. Output padding (the extra rows an
// ONNX model may request through output_shape / output_padding) is implied by the stored output
// dims: those cells receive only the bias.
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/conv_window.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

using ref::Range;
using ref::ValidRange;

struct ConvTransposeData : ref::ConvWindow {
  FusedActivation act;
};

Status PrepareConvTranspose(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 2, 3, 1, DType::FLOAT32));
  const auto* o = ctx.options<opm::ConvTranspose2DOptions>();
  const TensorView& x = ctx.input(0);
  const TensorView& w = ctx.input(1);
  const TensorView& y = ctx.output(0);
  OUTPOST_KERNEL_CHECK(ctx, x.rank == 4 && w.rank == 4 && y.rank == 4, Status::kShapeMismatch,
                       "input, weights and output must have rank 4 (NCHW), have %d, %d, %d", x.rank,
                       w.rank, y.rank);
  ConvTransposeData* d = ctx.op_data<ConvTransposeData>();
  OUTPOST_RETURN_IF_ERROR(ref::ReadConvWindow(ctx, o, d));
  const int32_t groups = d->groups;
  const int32_t c = x.dims[1];
  OUTPOST_KERNEL_CHECK(ctx, c % groups == 0, Status::kShapeMismatch,
                       "%d input channels do not divide into %d groups", c, groups);
  OUTPOST_KERNEL_CHECK(ctx, w.dims[0] == c, Status::kShapeMismatch,
                       "weights have %d input channels, input has %d", w.dims[0], c);
  const int64_t m = static_cast<int64_t>(w.dims[1]) * groups;
  OUTPOST_KERNEL_CHECK(ctx, y.dims[0] == x.dims[0] && y.dims[1] == m, Status::kShapeMismatch,
                       "output is [%d,%d,...], expected [%d,%lld,...]", y.dims[0], y.dims[1],
                       x.dims[0], static_cast<long long>(m));
  if (ctx.has_input(2)) {
    const TensorView& b = ctx.input(2);
    OUTPOST_KERNEL_CHECK(ctx, b.rank == 1 && b.dims[0] == m, Status::kShapeMismatch,
                         "bias must have shape [%lld]", static_cast<long long>(m));
  }
  const int64_t pads[2][2] = {{o->pad_top(), o->pad_bottom()}, {o->pad_left(), o->pad_right()}};
  const int64_t strides[2] = {o->stride_h(), o->stride_w()};
  const int64_t dilations[2] = {o->dilation_h(), o->dilation_w()};
  for (int a = 0; a < 2; ++a) {
    // ONNX: out = stride*(in-1) + output_padding + dilation*(k-1) + 1 - pad_begin - pad_end.
    const int64_t base = strides[a] * (x.dims[2 + a] - 1) + dilations[a] * (w.dims[2 + a] - 1) + 1 -
                         pads[a][0] - pads[a][1];
    const int64_t output_padding = y.dims[2 + a] - base;
    const int64_t limit = strides[a] > dilations[a] ? strides[a] : dilations[a];
    OUTPOST_KERNEL_CHECK(ctx, output_padding >= 0 && output_padding < limit, Status::kShapeMismatch,
                         "output axis %d is %d: implies output padding %lld, allowed 0..%lld",
                         2 + a, y.dims[2 + a], static_cast<long long>(output_padding),
                         static_cast<long long>(limit - 1));
  }
  OUTPOST_RETURN_IF_ERROR(ref::CheckActivation(ctx, o->activation()));
  d->act = MakeActivation(o->activation(), o->act_min(), o->act_max());
  return Status::kOk;
}

struct ConvTransposeJob : ref::ConvSizes {
  const ConvTransposeData* d;
  const float* x;
  const float* w;
  const float* bias;
  float* y;
};

// y[i * stride] += a * x[i] for i in [0, n).
inline void ScatterAxpy(float* y, const float* x, float a, int64_t n, int64_t stride) {
  if (stride == 1) {
    for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i * stride] += a * x[i];
  }
}

void ConvTransposePlanes(void* arg, int64_t begin, int64_t end) {
  const ConvTransposeJob& j = *static_cast<const ConvTransposeJob*>(arg);
  const ConvTransposeData& d = *j.d;
  const int64_t cg = j.c / d.groups, mg = j.m / d.groups;
  const int64_t plane = j.oh * j.ow;
  for (int64_t t = begin; t < end; ++t) {
    const int64_t n = t / j.m, m = t % j.m, g = m / mg, mi = m % mg;
    float* yp = j.y + t * plane;
    const float b0 = j.bias ? j.bias[m] : 0.0f;
    for (int64_t i = 0; i < plane; ++i) yp[i] = b0;
    for (int64_t ci = 0; ci < cg; ++ci) {
      const int64_t cin = g * cg + ci;
      const float* xp = j.x + (n * j.c + cin) * j.h * j.wd;
      const float* wp = j.w + (cin * mg + mi) * j.kh * j.kw;
      for (int64_t kh = 0; kh < j.kh; ++kh) {
        const int64_t off_h = kh * d.dilation_h - d.pad_top;
        const Range rh = ValidRange(off_h, d.stride_h, j.oh, j.h);
        if (rh.size() == 0) continue;
        for (int64_t kw = 0; kw < j.kw; ++kw) {
          const int64_t off_w = kw * d.dilation_w - d.pad_left;
          const Range rw = ValidRange(off_w, d.stride_w, j.ow, j.wd);
          if (rw.size() == 0) continue;
          const float wv = wp[kh * j.kw + kw];
          const int64_t y0 = rw.begin * d.stride_w + off_w;
          for (int64_t ih = rh.begin; ih < rh.end; ++ih) {
            float* yr = yp + (ih * d.stride_h + off_h) * j.ow + y0;
            ScatterAxpy(yr, xp + ih * j.wd + rw.begin, wv, rw.size(), d.stride_w);
          }
        }
      }
    }
    const FusedActivation act = d.act;
    for (int64_t i = 0; i < plane; ++i) yp[i] = act.Apply(yp[i]);
  }
}

Status EvalConvTranspose(KernelContext& ctx) {
  const TensorView& x = ctx.input(0);
  const TensorView& w = ctx.input(1);
  const TensorView& y = ctx.output(0);
  ConvTransposeJob j;
  j.d = ctx.op_data<ConvTransposeData>();
  j.x = x.as<float>();
  j.w = w.as<float>();
  j.bias = ctx.has_input(2) ? ctx.input(2).as<float>() : nullptr;
  j.y = y.as<float>();
  j.Set(x, w, y);
  ctx.executor().ParallelFor(static_cast<int64_t>(x.dims[0]) * j.m, 1, ConvTransposePlanes, &j);
  return Status::kOk;
}

}  // namespace

const KernelRegistration kConvTranspose2DF32Ref =
    ref::Reference(OpCode::CONV_TRANSPOSE_2D, DType::FLOAT32, "conv_transpose2d_f32_ref",
                   sizeof(ConvTransposeData), PrepareConvTranspose, EvalConvTranspose);

}  // namespace kernels
}  // namespace outpost
