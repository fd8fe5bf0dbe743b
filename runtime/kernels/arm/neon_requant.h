// The int8 requantization of runtime/kernels/quant_util.h on 4 int32 lanes, bit for bit:
//   - the saturating left shift is SQSHL;
//   - SaturatingRoundingDoublingHighMul is SQRDMULH (same rounding, same one saturating case);
//   - RoundingDivideByPOT (round half away from zero) is SRSHL, which rounds half up, applied
//     to x - 1 for negative x (gemmlowp's fixup): for x < 0 both round up exactly when the
//     remainder exceeds half, and x = INT32_MIN (where x - 1 saturates) is a multiple of the
//     divisor either way.
#pragma once

#include <arm_neon.h>
#include <stdint.h>

namespace outpost {
namespace kernels {
namespace arm {

// MultiplyByQuantizedMultiplier(x, {m0, shift}) per lane; left = max(shift, 0) and
// neg_right = min(shift, 0).
inline int32x4_t MultiplyByQuantizedMultiplierNeon(int32x4_t x, int32x4_t m0, int32x4_t left,
                                                   int32x4_t neg_right) {
  const int32x4_t high = vqrdmulhq_s32(vqshlq_s32(x, left), m0);
  // All ones for negative lanes when there is a right shift (neg_right's sign bit set).
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(high, neg_right), 31);
  return vrshlq_s32(vqaddq_s32(high, fixup), neg_right);
}

// Requantize(x, ...) per lane. `lo_zp` and `hi_zp` are act_min - zp and act_max - zp: clamping
// before adding the zero point equals the reference's saturating add and clamp (the bounds
// and the zero point are 8-bit values).
struct RequantNeon {
  int32x4_t zp, lo_zp, hi_zp;
  RequantNeon(int32_t output_zp, int32_t act_min, int32_t act_max)
      : zp(vdupq_n_s32(output_zp)),
        lo_zp(vdupq_n_s32(act_min - output_zp)),
        hi_zp(vdupq_n_s32(act_max - output_zp)) {}
  int32x4_t operator()(int32x4_t x, int32x4_t m0, int32x4_t left, int32x4_t neg_right) const {
    const int32x4_t v = MultiplyByQuantizedMultiplierNeon(x, m0, left, neg_right);
    return vaddq_s32(vminq_s32(vmaxq_s32(v, lo_zp), hi_zp), zp);
  }
};

// Four lanes already in [-128, 127] as bytes, in the low 4 bytes of the result.
inline int8x8_t NarrowToInt8(int32x4_t v) {
  const int16x4_t h = vmovn_s32(v);
  return vmovn_s16(vcombine_s16(h, h));
}

}  // namespace arm
}  // namespace kernels
}  // namespace outpost
