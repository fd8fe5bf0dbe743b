// Prepare-time parts of the int8 scheme: these use floating point and never run in eval.
#include "runtime/kernels/quant_util.h"

#include <math.h>

namespace outpost {
namespace kernels {

bool QuantizeMultiplier(double real, QuantizedMultiplier* out) {
  *out = QuantizedMultiplier();
  if (!(real >= 0.0) || !isfinite(real)) return false;  // NaN fails the first test
  if (real == 0.0) return true;
  int exponent = 0;
  const double q = frexp(real, &exponent);  // real = q * 2^exponent, q in [0.5, 1)
  int64_t q_fixed = static_cast<int64_t>(round(q * 2147483648.0));
  if (q_fixed == (int64_t{1} << 31)) {  // q rounded up to 1.0
    q_fixed /= 2;
    ++exponent;
  }
  if (exponent < -31) return true;  // below 2^-32: every int32 times M rounds to 0
  if (exponent > 30) {
    out->m0 = INT32_MAX;
    out->shift = 30;
    return true;
  }
  out->m0 = static_cast<int32_t>(q_fixed);
  out->shift = exponent;
  return true;
}

bool QuantizeMultiplier(double real, int32_t* m0, int* shift) {
  QuantizedMultiplier m;
  const bool ok = QuantizeMultiplier(real, &m);
  *m0 = m.m0;
  *shift = m.shift;
  return ok;
}

int32_t QuantizeToRange(double real, double scale, int64_t zero_point, int32_t lo, int32_t hi) {
  double q = round(real / scale);  // round(): half away from zero
  if (q != q) q = 0.0;
  q += static_cast<double>(zero_point);
  if (q < lo) return lo;
  if (q > hi) return hi;
  return static_cast<int32_t>(q);
}

bool QuantizedRange(DType dtype, int32_t* lo, int32_t* hi) {
  switch (dtype) {
    case DType::INT8:
      *lo = -128;
      *hi = 127;
      return true;
    case DType::UINT8:
      *lo = 0;
      *hi = 255;
      return true;
    case DType::INT32:
      *lo = INT32_MIN;
      *hi = INT32_MAX;
      return true;
    default:
      return false;
  }
}

Status QuantizedActivationRange(KernelContext& ctx, opm::Activation act, float act_min,
                                float act_max, const TensorView& output, int32_t* lo,
                                int32_t* hi) {
  OUTPOST_KERNEL_CHECK(ctx, QuantizedRange(output.dtype, lo, hi), Status::kUnsupported,
                       "output dtype %s is not quantized", DTypeName(output.dtype));
  OUTPOST_KERNEL_CHECK(ctx, output.quant.count == 1, Status::kUnsupported,
                       "a fused activation needs a per-tensor quantized output");
  const double scale = output.quant.scale[0];
  const int64_t zp = output.quant.zero_point[0];
  switch (act) {
    case opm::Activation::NONE:
      return Status::kOk;
    case opm::Activation::RELU:
      *lo = QuantizeToRange(0.0, scale, zp, *lo, *hi);
      return Status::kOk;
    case opm::Activation::CLIP: {
      OUTPOST_KERNEL_CHECK(ctx, act_min == act_min && act_max == act_max, Status::kCorruptModel,
                           "fused CLIP bound is NaN");
      const int32_t a = QuantizeToRange(act_min, scale, zp, *lo, *hi);
      const int32_t b = QuantizeToRange(act_max, scale, zp, *lo, *hi);
      *lo = a;
      *hi = b;
      return Status::kOk;
    }
    case opm::Activation::HARD_SWISH:
      return OUTPOST_REPORT(ctx.errors(), Status::kUnsupported,
                            "fused HARD_SWISH is not supported on quantized tensors (keep it a "
                            "separate HARD_SWISH operator)");
  }
  return OUTPOST_REPORT(ctx.errors(), Status::kCorruptModel, "unknown fused activation %d",
                        static_cast<int>(act));
}

Status CheckQuantization(KernelContext& ctx, const TensorView& t, const char* what,
                         int axis_allowed) {
  const QuantParams& q = t.quant;
  int32_t lo = 0, hi = 0;
  OUTPOST_KERNEL_CHECK(ctx, QuantizedRange(t.dtype, &lo, &hi), Status::kUnsupported,
                       "%s: dtype %s cannot be quantized", what, DTypeName(t.dtype));
  OUTPOST_KERNEL_CHECK(ctx, q.present() && q.scale != nullptr && q.zero_point != nullptr,
                       Status::kUnsupported, "%s (%s) has no quantization parameters", what,
                       DTypeName(t.dtype));
  if (q.axis < 0) {
    OUTPOST_KERNEL_CHECK(ctx, q.count == 1, Status::kCorruptModel,
                         "%s: per-tensor quantization with %d scales", what, q.count);
  } else {
    OUTPOST_KERNEL_CHECK(ctx, axis_allowed >= 0, Status::kUnsupported,
                         "%s is quantized per axis (%d); this kernel takes it per tensor", what,
                         q.axis);
    OUTPOST_KERNEL_CHECK(ctx, q.axis == axis_allowed, Status::kUnsupported,
                         "%s is quantized along axis %d; this kernel takes axis %d", what, q.axis,
                         axis_allowed);
    OUTPOST_KERNEL_CHECK(ctx, q.axis < t.rank && q.count == t.dims[q.axis], Status::kCorruptModel,
                         "%s has %d scales for %d channels on axis %d", what, q.count,
                         q.axis < t.rank ? t.dims[q.axis] : 0, q.axis);
  }
  for (int32_t i = 0; i < q.count; ++i) {
    const float s = q.scale[i];
    OUTPOST_KERNEL_CHECK(ctx, isfinite(s), Status::kCorruptModel,
                         "%s: scale %d is not finite", what, i);
    OUTPOST_KERNEL_CHECK(ctx, s > 0.0f, Status::kCorruptModel,
                         "%s: scale %d is zero or negative", what, i);
    const int64_t z = q.zp(i);
    OUTPOST_KERNEL_CHECK(ctx, z >= lo && z <= hi, Status::kCorruptModel,
                         "%s: zero point %d is %lld, outside [%d, %d] of %s", what, i,
                         static_cast<long long>(z), lo, hi, DTypeName(t.dtype));
  }
  return Status::kOk;
}

Status CheckInputQuantization(KernelContext& ctx, int index, int axis_allowed) {
  char name[16] = "input ";
  int len = 6;
  char digits[8];
  int n = 0;
  unsigned v = index < 0 ? 0u : static_cast<unsigned>(index);
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && n < 7);
  while (n > 0) name[len++] = digits[--n];
  name[len] = '\0';
  return CheckQuantization(ctx, ctx.input(index), name, axis_allowed);
}

Status CheckZeroPoints(KernelContext& ctx, const TensorView& t, const char* what,
                       int64_t zero_point) {
  for (int32_t i = 0; i < t.quant.count; ++i)
    OUTPOST_KERNEL_CHECK(ctx, t.quant.zp(i) == zero_point, Status::kUnsupported,
                         "%s: zero point %d is %lld, must be %lld", what, i,
                         static_cast<long long>(t.quant.zp(i)),
                         static_cast<long long>(zero_point));
  return Status::kOk;
}

void BuildInt8Lut(double in_scale, int32_t in_zero_point, double out_scale,
                  int32_t out_zero_point, RealFunction f, const void* arg, int8_t lut[256]) {
  for (int q = -128; q <= 127; ++q) {
    const double x = in_scale * (q - in_zero_point);
    lut[q + 128] =
        static_cast<int8_t>(QuantizeToRange(f(x, arg), out_scale, out_zero_point, -128, 127));
  }
}

}  // namespace kernels
}  // namespace outpost
