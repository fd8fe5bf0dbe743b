#include "runtime/kernels/reference/int8_linear_prepare.h"

#include <math.h>

namespace outpost {
namespace kernels {
namespace int8 {

namespace {

// Largest |v - zero_point| over the int8 range.
int64_t MaxDistance(int64_t zero_point) {
  const int64_t up = 127 - zero_point, down = zero_point + 128;
  return up > down ? up : down;
}

Status CheckBias(KernelContext& ctx, const TensorView& x, const TensorView& w,
                 const TensorView& b, int64_t channels) {
  OUTPOST_KERNEL_CHECK(ctx, b.dtype == DType::INT32, Status::kUnsupported,
                       "bias is %s, an int8 kernel takes INT32", DTypeName(b.dtype));
  OUTPOST_KERNEL_CHECK(ctx, b.is_constant, Status::kUnsupported,
                       "bias must be a constant (its range bounds the accumulators)");
  OUTPOST_KERNEL_CHECK(ctx, b.rank == 1 && b.dims[0] == channels, Status::kShapeMismatch,
                       "bias must have shape [%lld]", static_cast<long long>(channels));
  if (!b.quant.present()) return Status::kOk;  // implied: s_x * s_w, zero point 0
  OUTPOST_RETURN_IF_ERROR(CheckQuantization(ctx, b, "bias", 0));
  OUTPOST_RETURN_IF_ERROR(CheckZeroPoints(ctx, b, "bias", 0));
  for (int64_t c = 0; c < channels; ++c) {
    const double want = static_cast<double>(x.quant.scale[0]) *
                        w.quant.scale[w.quant.count == 1 ? 0 : c];
    const double have = b.quant.scale[b.quant.count == 1 ? 0 : c];
    OUTPOST_KERNEL_CHECK(ctx, fabs(have - want) <= 1e-5 * want, Status::kUnsupported,
                         "bias scale %lld differs from input scale * weight scale",
                         static_cast<long long>(c));
  }
  return Status::kOk;
}

}  // namespace

Status CheckLinearOperandCount(KernelContext& ctx) {
  OUTPOST_KERNEL_CHECK(ctx, ctx.num_inputs() >= 2 && ctx.num_inputs() <= 3, Status::kCorruptModel,
                       "expects 2..3 inputs, has %d", ctx.num_inputs());
  OUTPOST_KERNEL_CHECK(ctx, ctx.num_outputs() == 1, Status::kCorruptModel,
                       "expects 1 output, has %d", ctx.num_outputs());
  OUTPOST_KERNEL_CHECK(ctx, ctx.has_input(0) && ctx.has_input(1), Status::kCorruptModel,
                       "input or weights missing");
  return Status::kOk;
}

Status PrepareLinearOutput(KernelContext& ctx, const TensorView& x, const TensorView& w,
                           int channel_axis, const TensorView* bias, const TensorView& y,
                           opm::Activation act, float act_min, float act_max, LinearOutput* out) {
  OUTPOST_KERNEL_CHECK(ctx, x.dtype == DType::INT8, Status::kUnsupported,
                       "input 0 is %s, kernel takes INT8", DTypeName(x.dtype));
  OUTPOST_KERNEL_CHECK(ctx, w.dtype == DType::INT8, Status::kUnsupported,
                       "input 1 (weights) is %s, kernel takes INT8", DTypeName(w.dtype));
  OUTPOST_KERNEL_CHECK(ctx, y.dtype == DType::INT8 || y.dtype == DType::INT32,
                       Status::kUnsupported, "output is %s, kernel writes INT8 or INT32",
                       DTypeName(y.dtype));
  OUTPOST_RETURN_IF_ERROR(CheckQuantization(ctx, x, "input 0"));
  OUTPOST_RETURN_IF_ERROR(CheckQuantization(ctx, w, "weights", channel_axis));
  const int64_t channels = channel_axis >= 0 ? w.dims[channel_axis] : 1;
  out->input_zp = static_cast<int32_t>(x.quant.zero_point[0]);
  out->per_channel = w.quant.axis >= 0;
  out->weight_zp = static_cast<int32_t>(w.quant.zero_point[0]);
  out->input_scale_bits = ScaleBits(x.quant.scale);
  out->raw_output = y.dtype == DType::INT32;
  if (out->raw_output) {
    OUTPOST_KERNEL_CHECK(ctx, bias == nullptr, Status::kUnsupported,
                         "an INT32 output holds raw accumulators: no bias allowed");
    OUTPOST_KERNEL_CHECK(ctx, act == opm::Activation::NONE, Status::kUnsupported,
                         "an INT32 output holds raw accumulators: no fused activation allowed");
    out->output_zp = 0;
    out->act_min = INT32_MIN;
    out->act_max = INT32_MAX;
    return Status::kOk;
  }
  OUTPOST_RETURN_IF_ERROR(CheckQuantization(ctx, y, "output"));
  if (bias != nullptr) OUTPOST_RETURN_IF_ERROR(CheckBias(ctx, x, w, *bias, channels));
  OUTPOST_RETURN_IF_ERROR(
      QuantizedActivationRange(ctx, act, act_min, act_max, y, &out->act_min, &out->act_max));
  out->output_zp = static_cast<int32_t>(y.quant.zero_point[0]);
  out->output_scale_bits = ScaleBits(y.quant.scale);
  // Per-tensor weights: the multiplier once; per-channel ones are derived in eval the same way.
  MultiplierFromScales(out->input_scale_bits, ScaleBits(w.quant.scale), out->output_scale_bits,
                       &out->multiplier);
  return Status::kOk;
}

namespace {

// sum |p[i] - zw| over contiguous weights (every conv and fully connected layer), in int32
// blocks the compiler vectorizes, which it does not do for the strided int64 loop below: this
// runs over every weight of the model at prepare, part of its cold start. A block of 2^22
// distances of at most 255 cannot overflow int32.
int64_t SumAbsDistance(const int8_t* p, int64_t k, int32_t zw) {
  int64_t sum = 0;
  for (int64_t i0 = 0; i0 < k; i0 += int64_t{1} << 22) {
    const int64_t n = k - i0 < (int64_t{1} << 22) ? k - i0 : (int64_t{1} << 22);
    int32_t part = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int32_t d = static_cast<int32_t>(p[i0 + i]) - zw;
      part += d < 0 ? -d : d;
    }
    sum += part;
  }
  return sum;
}

}  // namespace

Status CheckAccumulatorRange(KernelContext& ctx, const LinearOutput& o, const TensorView& w,
                             int64_t offset, const TensorView* bias, int64_t channels, int64_t k,
                             int64_t channel_stride, int64_t elem_stride) {
  const int64_t dx = MaxDistance(o.input_zp);
  const int8_t* wd = w.as<int8_t>();
  const int32_t* bd = bias != nullptr ? bias->as<int32_t>() : nullptr;
  for (int64_t c = 0; c < channels; ++c) {
    const int64_t zw = o.per_channel ? w.quant.zp(c) : o.weight_zp;
    int64_t sum = 0;
    if (w.is_constant) {
      const int8_t* p = wd + offset + c * channel_stride;
      if (elem_stride == 1 && zw >= -128 && zw <= 127) {
        sum = SumAbsDistance(p, k, static_cast<int32_t>(zw));
      } else {
        for (int64_t i = 0; i < k; ++i) {
          const int64_t d = p[i * elem_stride] - zw;
          sum += d < 0 ? -d : d;
        }
      }
    } else {
      sum = k * MaxDistance(zw);
    }
    int64_t bound = dx * sum;
    if (bd != nullptr) bound += bd[c] < 0 ? -static_cast<int64_t>(bd[c]) : bd[c];
    OUTPOST_KERNEL_CHECK(ctx, bound <= INT32_MAX, Status::kUnsupported,
                         "output channel %lld: the int32 accumulator could overflow (bound "
                         "%lld)",
                         static_cast<long long>(c), static_cast<long long>(bound));
  }
  return Status::kOk;
}

}  // namespace int8
}  // namespace kernels
}  // namespace outpost
