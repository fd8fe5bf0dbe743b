// Helpers of the Cortex-M MVE (Helium) kernels: the int8 requantization of four int32
// accumulators at once, bit-exact with int8::Requantize (quant_util.h).
//
// The reference computes, per accumulator x and multiplier M = m0 * 2^(shift - 31):
//   1. x << max(shift, 0), saturated to int32;
//   2. SaturatingRoundingDoublingHighMul(x, m0): (2 * x * m0 + 2^31) >> 32, which is exactly
//      VQRDMULH.S32 (gemmlowp's nudge rounds to nearest with ties up for either sign, and the
//      one overflow, INT32_MIN * INT32_MIN, saturates in both; m0 is never INT32_MIN);
//   3. RoundingDivideByPOT(x, max(-shift, 0)): to nearest, ties away from zero. VRSHL by a
//      negative amount r rounds ties up, floor((x + 2^(r-1)) / 2^r), computed without
//      overflow; for x < 0 and r > 0 it is applied to x - 1 instead, which turns "ties up"
//      into "ties down", i.e. away from zero: with x = q * 2^r + f (0 <= f < 2^r),
//      floor((x - 1 + 2^(r-1)) / 2^r) = q + (f > 2^(r-1)), the reference's result. x - 1 is
//      taken with VQADD: for x = INT32_MIN it stays INT32_MIN, whose quotient is exact anyway.
//      (x & shift) has its sign bit set exactly when x < 0 and the shift is negative, so an
//      arithmetic shift by 31 gives the -1 to add, or 0;
//   4. + output_zp with saturation (VQADD), then the clamp to [act_min, act_max], which lie in
//      the int8 range: a saturated sum lands on the same side of the clamp as the exact one.
#pragma once

#include <arm_mve.h>
#include <stdint.h>

#include "runtime/kernels/reference/int8_op_data.h"

namespace outpost {
namespace kernels {
namespace cortex_m {

// Four multipliers, one per lane.
struct MveMultiplier {
  int32x4_t m0;
  int32x4_t left;   // max(shift, 0): VQSHL's amount
  int32x4_t right;  // min(shift, 0): VRSHL's amount, a right shift
};

inline MveMultiplier MveMultiplierOf(int32x4_t m0, int32x4_t shift) {
  const int32x4_t zero = vdupq_n_s32(0);
  return {m0, vmaxq_s32(shift, zero), vminq_s32(shift, zero)};
}

inline MveMultiplier MveMultiplierOf(QuantizedMultiplier m) {
  return MveMultiplierOf(vdupq_n_s32(m.m0), vdupq_n_s32(m.shift));
}

// int8::Requantize(acc[i], M[i], o.output_zp, o.act_min, o.act_max) in each lane.
__attribute__((always_inline)) inline int32x4_t RequantizeMve(int32x4_t acc, const MveMultiplier& m,
                                                              const int8::LinearOutput& o) {
  int32x4_t v = vqshlq_s32(acc, m.left);
  v = vqrdmulhq_s32(v, m.m0);
  v = vqaddq_s32(v, vshrq_n_s32(vandq_s32(v, m.right), 31));
  v = vrshlq_s32(v, m.right);
  v = vqaddq_n_s32(v, o.output_zp);
  v = vmaxq_s32(v, vdupq_n_s32(o.act_min));
  return vminq_s32(v, vdupq_n_s32(o.act_max));
}

// Stores the first `n` (1..4) lanes of v as int8 at y.
__attribute__((always_inline)) inline void StoreInt8(int8_t* y, int32x4_t v, int32_t n) {
  vstrbq_p_s32(y, v, vctp32q(static_cast<uint32_t>(n)));
}

}  // namespace cortex_m
}  // namespace kernels
}  // namespace outpost
