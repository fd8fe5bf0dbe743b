// QUANTIZE and DEQUANTIZE (docs/quantization.md):
//   QUANTIZE   FLOAT32 -> INT8 / UINT8, per tensor or per axis: q = round(x / scale) + zp,
//              x / scale in float32 (as TFLite), rounded half away from zero and saturated;
//              NaN becomes the zero point.
//              INT8 / UINT8 -> INT8 / UINT8 (UINT8 <-> INT8 at the model's edges, or INT8 with
//              new parameters): integer requantization, eval in requantize_int8_eval.cc.
//   DEQUANTIZE INT8 / UINT8 / INT32 -> FLOAT32, per tensor or per axis: scale * (q - zp);
//              FLOAT16 -> FLOAT32 (weight storage), exact.
#include <math.h>

#include "runtime/fp16.h"
#include "runtime/kernels/reference/int8_op_data.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

// The tensor as [outer, channels, inner] around its quantization axis (channels = 1 and
// inner = all elements for per-tensor parameters).
struct AxisLayout {
  int64_t outer, channels, inner;
  int32_t lo, hi;  // range of the quantized dtype
};

AxisLayout LayoutOf(const TensorView& t) {
  AxisLayout l{1, 1, 1, 0, 0};
  const int axis = t.quant.axis;
  for (int i = 0; i < t.rank; ++i) {
    if (axis < 0 || i > axis) {
      l.inner *= t.dims[i];
    } else if (i < axis) {
      l.outer *= t.dims[i];
    } else {
      l.channels = t.dims[i];
    }
  }
  return l;
}

Status CheckOneToOne(KernelContext& ctx) {
  OUTPOST_KERNEL_CHECK(ctx, ctx.num_inputs() == 1 && ctx.has_input(0), Status::kCorruptModel,
                       "expects 1 input, has %d", ctx.num_inputs());
  OUTPOST_KERNEL_CHECK(ctx, ctx.num_outputs() == 1, Status::kCorruptModel,
                       "expects 1 output, has %d", ctx.num_outputs());
  OUTPOST_KERNEL_CHECK(ctx, ctx.input(0).SameShape(ctx.output(0)), Status::kShapeMismatch,
                       "output shape differs from input shape");
  return Status::kOk;
}

Status PrepareQuantizeFloat(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOneToOne(ctx));
  const TensorView& y = ctx.output(0);
  OUTPOST_KERNEL_CHECK(ctx, y.dtype == DType::INT8 || y.dtype == DType::UINT8,
                       Status::kUnsupported, "output is %s, QUANTIZE writes INT8 or UINT8",
                       DTypeName(y.dtype));
  OUTPOST_RETURN_IF_ERROR(CheckQuantization(ctx, y, "output", y.quant.axis));
  AxisLayout* l = ctx.op_data<AxisLayout>();
  *l = LayoutOf(y);
  QuantizedRange(y.dtype, &l->lo, &l->hi);
  return Status::kOk;
}

template <typename T>
void QuantizeFloat(const AxisLayout& l, const QuantParams& q, const float* x, T* y) {
  for (int64_t o = 0; o < l.outer; ++o) {
    for (int64_t c = 0; c < l.channels; ++c) {
      const float scale = q.scale[c];
      const int32_t zp = static_cast<int32_t>(q.zp(c));
      // Clamping before the conversion keeps it defined for any float.
      const float lo = static_cast<float>(l.lo - zp), hi = static_cast<float>(l.hi - zp);
      const int64_t base = (o * l.channels + c) * l.inner;
      for (int64_t i = 0; i < l.inner; ++i) {
        float r = roundf(x[base + i] / scale);  // roundf: half away from zero
        r = r != r ? 0.0f : (r < lo ? lo : (r > hi ? hi : r));
        y[base + i] = static_cast<T>(static_cast<int32_t>(r) + zp);
      }
    }
  }
}

Status EvalQuantizeFloat(KernelContext& ctx) {
  const AxisLayout& l = *ctx.op_data<AxisLayout>();
  const TensorView& y = ctx.output(0);
  const float* x = ctx.input(0).as<float>();
  if (y.dtype == DType::INT8)
    QuantizeFloat(l, y.quant, x, y.as<int8_t>());
  else
    QuantizeFloat(l, y.quant, x, y.as<uint8_t>());
  return Status::kOk;
}

Status PrepareRequantize(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOneToOne(ctx));
  const TensorView& x = ctx.input(0);
  const TensorView& y = ctx.output(0);
  OUTPOST_KERNEL_CHECK(ctx, y.dtype == DType::INT8 || y.dtype == DType::UINT8,
                       Status::kUnsupported, "output is %s, QUANTIZE writes INT8 or UINT8",
                       DTypeName(y.dtype));
  OUTPOST_RETURN_IF_ERROR(CheckInputQuantization(ctx, 0));
  OUTPOST_RETURN_IF_ERROR(CheckQuantization(ctx, y, "output"));
  int8::RequantizeData* d = ctx.op_data<int8::RequantizeData>();
  d->input_zp = static_cast<int32_t>(x.quant.zero_point[0]);
  d->output_zp = static_cast<int32_t>(y.quant.zero_point[0]);
  QuantizedRange(y.dtype, &d->out_min, &d->out_max);
  d->shift_only = ScaleBits(x.quant.scale) == ScaleBits(y.quant.scale);
  MultiplierFromScales(ScaleBits(x.quant.scale), kScaleOneBits, ScaleBits(y.quant.scale),
                       &d->multiplier);
  d->multiplier = WithHeadroom(d->multiplier, int8::kRequantizeHeadroomBits);
  return Status::kOk;
}

struct DequantizeData {
  AxisLayout layout;
};

Status PrepareDequantize(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOneToOne(ctx));
  const TensorView& x = ctx.input(0);
  OUTPOST_KERNEL_CHECK(ctx, ctx.output(0).dtype == DType::FLOAT32, Status::kUnsupported,
                       "output is %s, DEQUANTIZE writes FLOAT32",
                       DTypeName(ctx.output(0).dtype));
  OUTPOST_RETURN_IF_ERROR(CheckInputQuantization(ctx, 0, x.quant.axis));
  ctx.op_data<DequantizeData>()->layout = LayoutOf(x);
  return Status::kOk;
}

template <typename T>
Status EvalDequantize(KernelContext& ctx) {
  const AxisLayout& l = ctx.op_data<DequantizeData>()->layout;
  const TensorView& xv = ctx.input(0);
  const T* x = xv.as<T>();
  float* y = ctx.output(0).as<float>();
  for (int64_t o = 0; o < l.outer; ++o) {
    for (int64_t c = 0; c < l.channels; ++c) {
      const float scale = xv.quant.scale[c];
      const int64_t zp = xv.quant.zp(c);
      const int64_t base = (o * l.channels + c) * l.inner;
      for (int64_t i = 0; i < l.inner; ++i)
        y[base + i] = static_cast<float>(static_cast<int64_t>(x[base + i]) - zp) * scale;
    }
  }
  return Status::kOk;
}

Status PrepareDequantizeHalf(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOneToOne(ctx));
  OUTPOST_KERNEL_CHECK(ctx, ctx.output(0).dtype == DType::FLOAT32, Status::kUnsupported,
                       "output is %s, DEQUANTIZE writes FLOAT32",
                       DTypeName(ctx.output(0).dtype));
  OUTPOST_KERNEL_CHECK(ctx, !ctx.input(0).quant.present(), Status::kUnsupported,
                       "FLOAT16 input carries quantization parameters");
  return Status::kOk;
}

Status EvalDequantizeHalf(KernelContext& ctx) {
  const uint16_t* x = ctx.input(0).as<uint16_t>();
  float* y = ctx.output(0).as<float>();
  const int64_t n = ctx.input(0).num_elements();
  for (int64_t i = 0; i < n; ++i) y[i] = HalfToFloat(x[i]);
  return Status::kOk;
}

}  // namespace

const KernelRegistration kQuantizeF32Ref =
    ref::Reference(OpCode::QUANTIZE, DType::FLOAT32, "quantize_f32_ref", sizeof(AxisLayout),
                   PrepareQuantizeFloat, EvalQuantizeFloat);
const KernelRegistration kQuantizeI8Ref =
    ref::Reference(OpCode::QUANTIZE, DType::INT8, "quantize_i8_ref",
                   sizeof(int8::RequantizeData), PrepareRequantize, int8::EvalRequantize);
const KernelRegistration kQuantizeU8Ref =
    ref::Reference(OpCode::QUANTIZE, DType::UINT8, "quantize_u8_ref",
                   sizeof(int8::RequantizeData), PrepareRequantize, int8::EvalRequantize);
const KernelRegistration kDequantizeI8Ref =
    ref::Reference(OpCode::DEQUANTIZE, DType::INT8, "dequantize_i8_ref", sizeof(DequantizeData),
                   PrepareDequantize, EvalDequantize<int8_t>);
const KernelRegistration kDequantizeU8Ref =
    ref::Reference(OpCode::DEQUANTIZE, DType::UINT8, "dequantize_u8_ref", sizeof(DequantizeData),
                   PrepareDequantize, EvalDequantize<uint8_t>);
const KernelRegistration kDequantizeI32Ref =
    ref::Reference(OpCode::DEQUANTIZE, DType::INT32, "dequantize_i32_ref",
                   sizeof(DequantizeData), PrepareDequantize, EvalDequantize<int32_t>);
const KernelRegistration kDequantizeF16Ref =
    ref::Reference(OpCode::DEQUANTIZE, DType::FLOAT16, "dequantize_f16_ref", 0,
                   PrepareDequantizeHalf, EvalDequantizeHalf);

}  // namespace kernels
}  // namespace outpost
