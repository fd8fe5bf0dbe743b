// Integer arithmetic of the int8 scheme (docs/quantization.md, "The integer scheme").
//
// Two kinds of helpers live here, split by where they may run:
//   - inline, integer-only: the requantization primitives (gemmlowp's rounding, as TFLite uses
//     them) and the exact derivation of a multiplier from float scale *bit patterns*. Integer
//     kernels call these from eval, which must not touch floating point (docs/portability.md).
//   - declared here, defined in quant_util.cc: prepare-time helpers that use floating point
//     (QuantizeMultiplier from a double, activation ranges, lookup tables) and the checks of a
//     tensor's quantization parameters.
#pragma once

#include <stdint.h>
#include <string.h>

#include "runtime/kernels/kernel_util.h"

namespace outpost {
namespace kernels {

// A real multiplier M >= 0 as M = m0 * 2^(shift - 31), m0 in [2^30, 2^31); m0 = 0 for M = 0
// and for multipliers too small to change any int32 (M < 2^-32).
struct QuantizedMultiplier {
  int32_t m0 = 0;
  int32_t shift = 0;
};

// ---------------------------------------------------------------------------------------------
// Integer-only primitives (usable in eval).

// The high 32 bits of 2 * a * b, rounded to nearest with ties toward +infinity (gemmlowp's
// nudge, the rounding of ARM's VQRDMULH); the one overflow, a = b = INT32_MIN, saturates.
inline int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  const int64_t ab = static_cast<int64_t>(a) * b;
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : 1 - (int64_t{1} << 30);
  // '/' truncates toward zero: with the nudge above this rounds to nearest, ties up.
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

// x / 2^exponent rounded to nearest, ties away from zero; exponent in [0, 31].
inline int32_t RoundingDivideByPOT(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// x * M for M = m0 * 2^(shift - 31) (TFLite's MultiplyByQuantizedMultiplier): a left shift for
// shift > 0, the doubling high multiply, then a rounding right shift for shift < 0. Unlike
// TFLite the left shift saturates to int32 instead of overflowing; wherever TFLite's result is
// defined the two agree. Requires shift in [-31, 30], which QuantizeMultiplier guarantees.
inline int32_t MultiplyByQuantizedMultiplier(int32_t x, int32_t m0, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  int64_t shifted = static_cast<int64_t>(x) * (int64_t{1} << left);
  if (shifted > INT32_MAX) shifted = INT32_MAX;
  if (shifted < INT32_MIN) shifted = INT32_MIN;
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(static_cast<int32_t>(shifted), m0),
                             right);
}

inline int32_t MultiplyByQuantizedMultiplier(int32_t x, QuantizedMultiplier m) {
  return MultiplyByQuantizedMultiplier(x, m.m0, m.shift);
}

// zero_point + x * M, clamped to [lo, hi]: the last step of every requantizing kernel.
inline int32_t Requantize(int32_t x, QuantizedMultiplier m, int32_t zero_point, int32_t lo,
                          int32_t hi) {
  int32_t v = MultiplyByQuantizedMultiplier(x, m);
  // Saturating add: v may be near the int32 limits when M > 1.
  const int64_t s = static_cast<int64_t>(v) + zero_point;
  v = s < lo ? lo : (s > hi ? hi : static_cast<int32_t>(s));
  return v;
}

// For small operands (|x| < 2^16) the high multiply of MultiplyByQuantizedMultiplier rounds
// to an integer before the right shift rounds again, which can leave x * M off by one from
// its correctly rounded value. Kernels whose operands are small shift them left by `bits`
// first and divide the multiplier by 2^bits (this function), so that the result is rounded
// once. Multipliers below 2^-32 after the division become 0, as in QuantizeMultiplier.
inline QuantizedMultiplier WithHeadroom(QuantizedMultiplier m, int bits) {
  m.shift -= bits;
  if (m.shift < -31) return QuantizedMultiplier();
  return m;
}

// The bits of a float scale, read without a floating-point register.
inline uint32_t ScaleBits(const float* scale) {
  uint32_t bits;
  memcpy(&bits, scale, sizeof(bits));
  return bits;
}

// Splits a positive finite float (given as bits) into an integer mantissa in [2^23, 2^24) and
// an exponent: value = mantissa * 2^exponent. Subnormals are normalized. False otherwise.
inline bool DecomposeScale(uint32_t bits, uint32_t* mantissa, int32_t* exponent) {
  const uint32_t biased = (bits >> 23) & 0xffu;
  uint32_t m = bits & 0x7fffffu;
  if ((bits >> 31) != 0 || biased == 0xffu || (biased == 0 && m == 0)) return false;
  if (biased == 0) {
    int32_t e = -149;
    while ((m & 0x800000u) == 0) {
      m <<= 1;
      --e;
    }
    *mantissa = m;
    *exponent = e;
    return true;
  }
  *mantissa = m | 0x800000u;
  *exponent = static_cast<int32_t>(biased) - 150;
  return true;
}

// M = a * b / c for three positive finite float scales (as bits), computed exactly in integer
// arithmetic and rounded once to a QuantizedMultiplier (to nearest, ties up), with the same
// range handling as QuantizeMultiplier. This is how convolution, fully-connected and matmul
// multipliers s_in * s_w / s_out are formed: a per-channel multiplier is derived in eval from
// the scales in the model, so no per-channel table needs arena memory. False when a scale is
// not positive and finite (prepare has refused such a model already).
inline bool MultiplierFromScales(uint32_t a, uint32_t b, uint32_t c, QuantizedMultiplier* out) {
  uint32_t ma, mb, mc;
  int32_t ea, eb, ec;
  *out = QuantizedMultiplier();
  if (!DecomposeScale(a, &ma, &ea) || !DecomposeScale(b, &mb, &eb) || !DecomposeScale(c, &mc, &ec))
    return false;
  // a*b/c = (ma*mb/mc) * 2^(ea+eb-ec) with ma*mb/mc in [2^22, 2^25). Ten extra bits make the
  // quotient t = floor(ma*mb*2^10 / mc) land in [2^32, 2^35) (and ma*mb*2^10 < 2^58).
  const uint64_t num = (static_cast<uint64_t>(ma) * mb) << 10;
  const uint64_t t = num / mc;
  int drop = 0;  // bits of t below the 31 kept: 2..4
  while ((t >> drop) >= (uint64_t{1} << 31)) ++drop;
  // Rounding t + (remainder / mc) half up at bit `drop`: the remainder never changes the result.
  uint64_t r = (t + (uint64_t{1} << (drop - 1))) >> drop;
  int64_t shift = static_cast<int64_t>(drop) - 10 + ea + eb - ec + 31;
  if (r == (uint64_t{1} << 31)) {
    r >>= 1;
    ++shift;
  }
  if (shift < -31) return true;  // M < 2^-32: no int32 times M reaches 1/2
  if (shift > 30) {
    out->m0 = INT32_MAX;  // saturate, as QuantizeMultiplier
    out->shift = 30;
    return true;
  }
  out->m0 = static_cast<int32_t>(r);
  out->shift = static_cast<int32_t>(shift);
  return true;
}

inline bool MultiplierFromScales(const float* a, const float* b, const float* c,
                                 QuantizedMultiplier* out) {
  return MultiplierFromScales(ScaleBits(a), ScaleBits(b), ScaleBits(c), out);
}

constexpr uint32_t kScaleOneBits = 0x3f800000u;  // 1.0f

// ---------------------------------------------------------------------------------------------
// Prepare-time helpers (floating point; quant_util.cc).

// M as a QuantizedMultiplier (TFLite's QuantizeMultiplier: frexp, then round half away from
// zero to 31 bits). M = 0 and M < 2^-32 give m0 = 0; M >= 2^30 saturates to m0 = 2^31 - 1,
// shift 30. Returns false (and a zero multiplier) for a negative, NaN or infinite M.
bool QuantizeMultiplier(double real, QuantizedMultiplier* out);
bool QuantizeMultiplier(double real, int32_t* m0, int* shift);

// round(real / scale) + zero_point, rounding half away from zero, saturated to [lo, hi];
// NaN gives the zero point (clamped).
int32_t QuantizeToRange(double real, double scale, int64_t zero_point, int32_t lo, int32_t hi);

// The range of a quantized dtype: INT8 [-128, 127], UINT8 [0, 255], INT32 the int32 range.
// False for other dtypes.
bool QuantizedRange(DType dtype, int32_t* lo, int32_t* hi);

// The clamp range of a fused activation on a quantized output (per-tensor): NONE gives the
// dtype's range, RELU [zero_point, max], CLIP [q(act_min), q(act_max)] intersected with it.
// Refuses HARD_SWISH (not fusable into an integer op), unknown values and NaN bounds.
Status QuantizedActivationRange(KernelContext& ctx, opm::Activation act, float act_min,
                                float act_max, const TensorView& output, int32_t* lo,
                                int32_t* hi);

// Checks a quantized tensor's parameters and reports the first problem, naming `what`
// ("input 0", "weights", ...): parameters present, every scale finite and > 0, every zero
// point inside the dtype's range, and per tensor, or, when `axis_allowed` >= 0, optionally per
// axis on that axis with one scale per index.
Status CheckQuantization(KernelContext& ctx, const TensorView& t, const char* what,
                         int axis_allowed = -1);

// CheckQuantization of input `index` of the operator, named "input <index>".
Status CheckInputQuantization(KernelContext& ctx, int index, int axis_allowed = -1);

// Additionally requires every zero point to be `zero_point` (e.g. 0 for an int32 bias).
Status CheckZeroPoints(KernelContext& ctx, const TensorView& t, const char* what,
                       int64_t zero_point);

// A 256-entry table for an element-wise function on INT8: entry q + 128 holds
// quantize_out(f(dequantize_in(q))), computed in double and rounded half away from zero.
using RealFunction = double (*)(double x, const void* arg);
void BuildInt8Lut(double in_scale, int32_t in_zero_point, double out_scale,
                  int32_t out_zero_point, RealFunction f, const void* arg, int8_t lut[256]);

}  // namespace kernels
}  // namespace outpost
