// Pooling, float32, NCHW: MAX_POOL_2D, AVERAGE_POOL_2D (ONNX MaxPool / AveragePool with
// kernel, strides, dilations, explicit pads; the output dims are stored and may come from
// ceil_mode), GLOBAL_AVERAGE_POOL and GLOBAL_MAX_POOL (any rank >= 3).
//
// MAX_POOL_2D may have a second, INT64 output: ONNX MaxPool's Indices, the position of each
// maximum in the flattened input (the layout of Pool2DOptions.storage_order). The first
// maximum in window order (rows, then columns) wins, as in onnxruntime; a NaN counts as a
// maximum, so the value is NaN (as with np.max) and the index that of the first NaN.
//
// Window cells outside the input are skipped rather than padded: max pooling ignores them, and
// average pooling divides by the number of cells inside the input, or, with count_include_pad,
// by the number inside the explicitly padded extent [-pad_begin, size + pad_end). Cells that
// ceil_mode adds beyond that extent are never counted (as in PyTorch and the ONNX reference).
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

using ref::Range;
using ref::ValidRange;

struct PoolData {
  int32_t kernel[2], stride[2], dilation[2], pad_begin[2], pad_end[2];
  bool count_include_pad;
  bool column_major;  // max pooling indices: storage_order 1
};

// The window checks shared by max and average pooling; the operands are checked already.
Status PrepareWindow(KernelContext& ctx) {
  const auto* o = ctx.options<opm::Pool2DOptions>();
  const TensorView& x = ctx.input(0);
  const TensorView& y = ctx.output(0);
  OUTPOST_KERNEL_CHECK(ctx, x.rank == 4 && y.rank == 4, Status::kShapeMismatch,
                       "input and output must have rank 4 (NCHW), have %d and %d", x.rank, y.rank);
  OUTPOST_KERNEL_CHECK(ctx, y.dims[0] == x.dims[0] && y.dims[1] == x.dims[1],
                       Status::kShapeMismatch,
                       "output batch/channels [%d,%d] differ from input [%d,%d]", y.dims[0],
                       y.dims[1], x.dims[0], x.dims[1]);
  PoolData* d = ctx.op_data<PoolData>();
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
    const int64_t floor_out = ref::FloorDiv(span, d->stride[a]) + 1;
    const int64_t ceil_out = ref::CeilDiv(span, d->stride[a]) + 1;
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

Status PrepareAveragePool2D(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 1, 1, 1, DType::FLOAT32));
  return PrepareWindow(ctx);
}

// CheckOperands wants one dtype for all outputs; the indices are INT64.
Status PrepareMaxPool2D(KernelContext& ctx) {
  const int outs = ctx.num_outputs();
  OUTPOST_KERNEL_CHECK(ctx, outs == 1 || outs == 2, Status::kCorruptModel,
                       "expects 1 or 2 outputs (values, indices), has %d", outs);
  OUTPOST_KERNEL_CHECK(ctx, ctx.num_inputs() == 1 && ctx.has_input(0), Status::kCorruptModel,
                       "expects 1 input, has %d", ctx.num_inputs());
  OUTPOST_KERNEL_CHECK(ctx, ctx.input(0).dtype == DType::FLOAT32, Status::kUnsupported,
                       "input 0 is %s, kernel takes FLOAT32", DTypeName(ctx.input(0).dtype));
  OUTPOST_KERNEL_CHECK(ctx, ctx.output(0).dtype == DType::FLOAT32, Status::kUnsupported,
                       "output 0 is %s, kernel takes FLOAT32", DTypeName(ctx.output(0).dtype));
  if (outs == 2) {
    const TensorView& y = ctx.output(0);
    const TensorView& i = ctx.output(1);
    OUTPOST_KERNEL_CHECK(ctx, i.dtype == DType::INT64, Status::kUnsupported,
                         "output 1 (indices) is %s, must be INT64", DTypeName(i.dtype));
    bool same = i.rank == y.rank;
    for (int k = 0; same && k < y.rank; ++k) same = i.dims[k] == y.dims[k];
    OUTPOST_KERNEL_CHECK(ctx, same, Status::kShapeMismatch,
                         "output 1 (indices) must have the shape of output 0");
  }
  return PrepareWindow(ctx);
}

template <bool kMax>
Status EvalPool2D(KernelContext& ctx) {
  const PoolData* d = ctx.op_data<PoolData>();
  const TensorView& xv = ctx.input(0);
  const TensorView& yv = ctx.output(0);
  const float* x = xv.as<float>();
  float* y = yv.as<float>();
  int64_t* indices = kMax && ctx.num_outputs() == 2 ? ctx.output(1).as<int64_t>() : nullptr;
  const int64_t planes = static_cast<int64_t>(xv.dims[0]) * xv.dims[1];
  const int64_t h = xv.dims[2], w = xv.dims[3], oh = yv.dims[2], ow = yv.dims[3];
  const int64_t padded_h = h + d->pad_begin[0] + d->pad_end[0];
  const int64_t padded_w = w + d->pad_begin[1] + d->pad_end[1];
  for (int64_t p = 0; p < planes; ++p) {
    const float* xp = x + p * h * w;
    float* yp = y + p * oh * ow;
    for (int64_t i = 0; i < oh; ++i) {
      const int64_t h0 = i * d->stride[0] - d->pad_begin[0];
      const Range rh = ValidRange(h0, d->dilation[0], h, d->kernel[0]);
      for (int64_t j = 0; j < ow; ++j) {
        const int64_t w0 = j * d->stride[1] - d->pad_begin[1];
        const Range rw = ValidRange(w0, d->dilation[1], w, d->kernel[1]);
        if (kMax) {
          // Prepare made sure every window has a cell inside the input: `at` gets set.
          float m = -INFINITY;
          int64_t at = -1;
          for (int64_t kh = rh.begin; kh < rh.end; ++kh) {
            const int64_t r = h0 + kh * d->dilation[0];
            for (int64_t kw = rw.begin; kw < rw.end; ++kw) {
              const int64_t c = w0 + kw * d->dilation[1];
              const float v = xp[r * w + c];
              if (at < 0 || v > m || (v != v && m == m)) {
                m = v;
                at = d->column_major ? r + c * h : r * w + c;
              }
            }
          }
          yp[i * ow + j] = m;
          if (indices != nullptr) indices[(p * oh + i) * ow + j] = p * h * w + at;
        } else {
          double sum = 0.0;
          for (int64_t kh = rh.begin; kh < rh.end; ++kh) {
            const float* xr = xp + (h0 + kh * d->dilation[0]) * w;
            for (int64_t kw = rw.begin; kw < rw.end; ++kw) sum += xr[w0 + kw * d->dilation[1]];
          }
          int64_t count = rh.size() * rw.size();
          if (d->count_include_pad) {
            // Cells inside [-pad_begin, size + pad_end), i.e. [0, padded) shifted by pad_begin.
            count = ValidRange(i * d->stride[0], d->dilation[0], padded_h, d->kernel[0]).size() *
                    ValidRange(j * d->stride[1], d->dilation[1], padded_w, d->kernel[1]).size();
          }
          yp[i * ow + j] = static_cast<float>(sum / static_cast<double>(count));
        }
      }
    }
  }
  return Status::kOk;
}

Status PrepareGlobalPool(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 1, 1, 1, DType::FLOAT32));
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
    ref::Reference(OpCode::MAX_POOL_2D, DType::FLOAT32, "max_pool2d_f32_ref", sizeof(PoolData),
                   PrepareMaxPool2D, EvalPool2D<true>);
const KernelRegistration kAveragePool2DF32Ref =
    ref::Reference(OpCode::AVERAGE_POOL_2D, DType::FLOAT32, "average_pool2d_f32_ref",
                   sizeof(PoolData), PrepareAveragePool2D, EvalPool2D<false>);
const KernelRegistration kGlobalAveragePoolF32Ref =
    ref::Reference(OpCode::GLOBAL_AVERAGE_POOL, DType::FLOAT32, "global_average_pool_f32_ref", 0,
                   PrepareGlobalPool, EvalGlobalPool<false>);
const KernelRegistration kGlobalMaxPoolF32Ref =
    ref::Reference(OpCode::GLOBAL_MAX_POOL, DType::FLOAT32, "global_max_pool_f32_ref", 0,
                   PrepareGlobalPool, EvalGlobalPool<true>);

}  // namespace kernels
}  // namespace outpost
