// An int8 ADD's input term in 32-bit arithmetic, shared by the AVX-512 and AVX2 ADD kernels.
//
// The reference (binary_int8_eval.cc, Scaled) computes each input's term as
// MultiplyByQuantizedMultiplier((q - zp) * 2^20, m) with 64-bit products. Where m has no left
// shift and its right shift r is at most kMaxTerm32Right, the same value needs only 32-bit
// lanes. With d = q - zp (|d| <= 255) the reference's result is
//   floor((d * m0 * 2^20 + 2^30 + 2^(30 + r) - [d * m0 * 2^20 < -2^30] * 2^31) / 2^(31 + r))
// (MultiplyByQuantizedMultiplierUniformAvx512 in avx512_int8_util.h; for r = 0 without the
// last two terms). Every term is a multiple of 2^20, so it is floor((d * m0 + c) / 2^(11 + r))
// with c = 2^10 + 2^(10 + r) - [d < 0] * 2^11: m0 is 0 or at least 2^30, so d * m0 < -2^10
// exactly when d < 0 and m0 > 0, and for m0 = 0 either c gives 0. Splitting m0 = mh * 2^11 + ml
// makes it floor((d * mh + floor((d * ml + c) / 2^11)) / 2^r), every step within int32
// (|d * mh| < 2^28, |d * ml + c| < 2^31 for r <= 20): two 32-bit multiplies per lane instead
// of two 64-bit ones on half the lanes, twice. x86_int8_kernels_test checks both vector forms
// against the reference for every d and r and edge values of m0.
#pragma once

#include <stdint.h>

namespace outpost {
namespace kernels {
namespace x86 {

constexpr int32_t kTerm32LeftShift = 20;  // the reference's (binary_int8.cc)
constexpr int32_t kMaxTerm32Right = 20;

// Whether the 32-bit form is exact for a multiplier m0 * 2^(left - right - 31).
inline bool Term32Exact(int32_t m0, int32_t left, int32_t right) {
  return left == 0 && right >= 0 && right <= kMaxTerm32Right && (m0 == 0 || m0 >= (1 << 30));
}

// The per-multiplier constants: mh, ml, c without the d < 0 correction, and whether that
// correction applies (r >= 1). Meaningful only where Term32Exact holds; elsewhere (a kernel
// builds them before choosing its form) c is 0 rather than an overflowing shift.
struct Term32Constants {
  int32_t mh, ml, c;
  bool fix;
};

inline Term32Constants MakeTerm32Constants(int32_t m0, int32_t right) {
  const bool in_range = right >= 0 && right <= kMaxTerm32Right;
  return {m0 >> 11, m0 & 2047,
          in_range ? (1 << 10) + (right >= 1 ? 1 << (10 + right) : 0) : 0, right >= 1};
}

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
