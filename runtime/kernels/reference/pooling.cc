// Pooling, float32, NCHW: MAX_POOL_2D, AVERAGE_POOL_2D (ONNX MaxPool / AveragePool with
// kernel, strides, dilations, explicit pads; the output dims are stored and may come from
// ceil_mode), GLOBAL_AVERAGE_POOL and GLOBAL_MAX_POOL (any rank >= 3).
//
// MAX_POOL_2D may have a second, INT64 output: ONNX MaxPool's Indices, the position of each
// maximum in the flattened input (the layout of Pool2DOptions.storage_order). The first
// maximum in window order (rows, then columns) wins, as in onnxruntime; a NaN counts as a
// maximum, so the value is NaN (as with np.max) and the index that of the first NaN.
//
// The window geometry (padding, ceil_mode, count_include_pad) is pool_window.h's, shared with
// the int8 kernels.
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/pool_window.h"
#include "runtime/kernels/reference/reference_kernels.h"

namespace outpost {
namespace kernels {
namespace {

using ref::PoolWindow;
using ref::Range;

Status PrepareAveragePool2D(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 1, 1, 1, DType::FLOAT32));
  return ref::PreparePoolWindow(ctx, ctx.op_data<PoolWindow>());
}

Status PrepareMaxPool2D(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(ref::CheckMaxPoolOperands(ctx, DType::FLOAT32));
  return ref::PreparePoolWindow(ctx, ctx.op_data<PoolWindow>());
}

// A NaN counts as a maximum: the value is NaN (as with np.max), the index that of the first NaN.
inline bool ReplacesMax(float v, float m) { return v > m || (v != v && m == m); }

Status EvalMaxPool2D(KernelContext& ctx) {
  const PoolWindow& d = *ctx.op_data<PoolWindow>();
  const TensorView& xv = ctx.input(0);
  const TensorView& yv = ctx.output(0);
  float* y = yv.as<float>();
  int64_t* indices = ctx.num_outputs() == 2 ? ctx.output(1).as<int64_t>() : nullptr;
  const int64_t h = xv.dims[2], w = xv.dims[3], oh = yv.dims[2], ow = yv.dims[3];
  const float* x = xv.as<float>();
  ref::ForEachPoolWindow(
      d, x, static_cast<int64_t>(xv.dims[0]) * xv.dims[1], h, w, oh, ow,
      [&](int64_t out, const float* xp, int64_t h0, int64_t w0, Range rh, Range rw, int64_t,
          int64_t) {
        const int64_t at = ref::WindowArgMax(d, xp, w, h0, w0, rh, rw, ReplacesMax);
        y[out] = xp[at];
        if (indices != nullptr) indices[out] = ref::PoolIndex(d, (xp - x) / (h * w), h, w, at);
      });
  return Status::kOk;
}

Status EvalAveragePool2D(KernelContext& ctx) {
  const PoolWindow& d = *ctx.op_data<PoolWindow>();
  const TensorView& xv = ctx.input(0);
  const TensorView& yv = ctx.output(0);
  float* y = yv.as<float>();
  const int64_t h = xv.dims[2], w = xv.dims[3];
  ref::ForEachPoolWindow(
      d, xv.as<float>(), static_cast<int64_t>(xv.dims[0]) * xv.dims[1], h, w, yv.dims[2],
      yv.dims[3],
      [&](int64_t out, const float* xp, int64_t h0, int64_t w0, Range rh, Range rw, int64_t i,
          int64_t j) {
        const double sum =
            ref::WindowSum<double>(d, xp, w, h0, w0, rh, rw, [](float v) { return v; });
        const int64_t count = ref::AverageCount(d, h, w, i, j, rh, rw);
        y[out] = static_cast<float>(sum / static_cast<double>(count));
      });
  return Status::kOk;
}

Status PrepareGlobalPool(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 1, 1, 1, DType::FLOAT32));
  return ref::CheckGlobalPoolShape(ctx);
}

template <bool kMax>
Status EvalGlobalPool(KernelContext& ctx) {
  const TensorView& xv = ctx.input(0);
  const float* x = xv.as<float>();
  float* y = ctx.output(0).as<float>();
  const int64_t planes = static_cast<int64_t>(xv.dims[0]) * xv.dims[1];
  const int64_t size = xv.num_elements() / planes;
  for (int64_t p = 0; p < planes; ++p) {
    const float* xp = x + p * size;
    if (kMax) {
      float m = xp[0];
      for (int64_t i = 1; i < size; ++i) m = (xp[i] > m || xp[i] != xp[i]) ? xp[i] : m;
      y[p] = m;
    } else {
      double sum = 0.0;
      for (int64_t i = 0; i < size; ++i) sum += xp[i];
      y[p] = static_cast<float>(sum / static_cast<double>(size));
    }
  }
  return Status::kOk;
}

}  // namespace

const KernelRegistration kMaxPool2DF32Ref =
    ref::Reference(OpCode::MAX_POOL_2D, DType::FLOAT32, "max_pool2d_f32_ref", sizeof(PoolWindow),
                   PrepareMaxPool2D, EvalMaxPool2D);
const KernelRegistration kAveragePool2DF32Ref =
    ref::Reference(OpCode::AVERAGE_POOL_2D, DType::FLOAT32, "average_pool2d_f32_ref",
                   sizeof(PoolWindow), PrepareAveragePool2D, EvalAveragePool2D);
const KernelRegistration kGlobalAveragePoolF32Ref =
    ref::Reference(OpCode::GLOBAL_AVERAGE_POOL, DType::FLOAT32, "global_average_pool_f32_ref", 0,
                   PrepareGlobalPool, EvalGlobalPool<false>);
const KernelRegistration kGlobalMaxPoolF32Ref =
    ref::Reference(OpCode::GLOBAL_MAX_POOL, DType::FLOAT32, "global_max_pool_f32_ref", 0,
                   PrepareGlobalPool, EvalGlobalPool<true>);

}  // namespace kernels
}  // namespace outpost
