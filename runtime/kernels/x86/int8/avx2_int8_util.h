// AVX2 building blocks shared by the x86 int8 kernels for CPUs without AVX-512 (most laptops,
// Atom/Celeron, Zen 2/3). Every function carries its own target attribute, so the library
// stays baseline x86-64 and these only run after the resolver has seen kCpuX86Avx2Fma.
//
// The products are exact: int8 values are sign-extended to int16 and multiplied in pairs by
// vpmaddwd, whose two products and their sum fit in int32 (|sum| <= 2 * 128 * 128). The
// faster vpmaddubsw saturates its int16 pair sums (255 * 127 * 2 > 32767), so it is not used.
// Zero points are folded as in int8_plan/channel_constants.h with offset 0: the GEMMs multiply
// x as it is and subtract zx * sum(w) - bias once per channel.
//
// The requantization is Requantize() (runtime/kernels/quant_util.h) on 8 lanes, bit for bit;
// it follows the AVX-512 version (avx512_int8_util.h), without its 64-bit arithmetic shifts
// and masks, which AVX2 lacks: a 64-bit value v >> s for s >= 32 is (high dword of v) >> (s -
// 32) in 32 bits, and bits 31..62 of a 64-bit lane are what the high multiply keeps.
#pragma once

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "runtime/kernels/quant_util.h"
#include "runtime/kernels/x86/int8/add_term32.h"

#define OUTPOST_AVX2 __attribute__((target("avx2,fma")))

namespace outpost {
namespace kernels {
namespace x86 {

// MultiplyByQuantizedMultiplier(x, {m0, shift}) per lane for left = max(shift, 0) and
// right = max(-shift, 0), bit for bit.
OUTPOST_AVX2 inline __m256i MultiplyByQuantizedMultiplierAvx2(__m256i x, __m256i m0, __m256i left,
                                                              __m256i right) {
  // Saturating x << left: the shift overflowed when shifting back does not restore x.
  const __m256i shifted = _mm256_sllv_epi32(x, left);
  const __m256i kept = _mm256_cmpeq_epi32(_mm256_srav_epi32(shifted, left), x);
  // INT32_MAX for x >= 0, INT32_MIN (INT32_MAX ^ -1) for x < 0.
  const __m256i saturated =
      _mm256_xor_si256(_mm256_set1_epi32(INT32_MAX), _mm256_srai_epi32(x, 31));
  const __m256i s = _mm256_blendv_epi8(saturated, shifted, kept);
  // SaturatingRoundingDoublingHighMul: with its nudge, (a * b + 2^30) >> 31 (arithmetic) for
  // either sign of a * b, a value that fits in int32: bits 31..62 of the 64-bit sum. m0 >= 0,
  // so the one saturating case (both INT32_MIN) cannot occur.
  const __m256i round = _mm256_set1_epi64x(int64_t{1} << 30);
  const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(s, m0), round);
  const __m256i odd = _mm256_add_epi64(
      _mm256_mul_epi32(_mm256_srli_epi64(s, 32), _mm256_srli_epi64(m0, 32)), round);
  __m256i v = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
  // RoundingDivideByPOT(v, right): round half away from zero.
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
  const __m256i remainder = _mm256_and_si256(v, mask);
  const __m256i threshold = _mm256_add_epi32(_mm256_srli_epi32(mask, 1), _mm256_srli_epi32(v, 31));
  v = _mm256_srav_epi32(v, right);
  // The comparison is -1 where the result rounds up.
  return _mm256_sub_epi32(v, _mm256_cmpgt_epi32(remainder, threshold));
}

// Requantize(x, {m0, shift}, zp, lo, hi) per lane; `lo_zp` and `hi_zp` are lo - zp and
// hi - zp: clamping before adding the zero point equals the reference's saturating add and
// clamp (lo, hi and zp are 8-bit values).
OUTPOST_AVX2 inline __m256i RequantizeAvx2(__m256i x, __m256i m0, __m256i left, __m256i right,
                                           __m256i zp, __m256i lo_zp, __m256i hi_zp) {
  const __m256i v = MultiplyByQuantizedMultiplierAvx2(x, m0, left, right);
  return _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(v, lo_zp), hi_zp), zp);
}

// Requantize for one output channel, its constants built once rather than per vector. For
// 1 <= right <= 22 and no left shift (a multiplier below 1/2, every convolution's in practice)
// the high multiply's rounding, the rounding right shift and the zero point fold into one
// step (see MakeRequantVec in avx512_int8_util.h for the proof): with P = x * m0,
//   v + zp = (P + k - [P < -2^30] * 2^31) >> (31 + right),
//   k = 2^30 + 2^(30 + right) + zp * 2^(31 + right),
// and the 64-bit shift by 31 + right >= 32 is the high dword shifted by right - 1.
struct RequantVec8 {
  bool fast;
  bool saturate_i8;  // fast, and the bounds are int8's own: the narrowing saturates
  __m256i m0, left, right, zp, lo, hi;
  __m256i k, fix, neg_below;
  __m128i count;
};

OUTPOST_AVX2 inline RequantVec8 MakeRequantVec8(int32_t m0, int32_t left, int32_t right, int32_t zp,
                                                int32_t act_min, int32_t act_max) {
  RequantVec8 r;
  r.fast = left == 0 && right >= 1 && right <= 22;
  r.saturate_i8 = r.fast && act_min == -128 && act_max == 127;
  r.m0 = _mm256_set1_epi32(m0);
  r.left = _mm256_set1_epi32(left);
  r.right = _mm256_set1_epi32(right);
  r.zp = _mm256_set1_epi32(zp);
  // The fast path has the zero point folded into k: it clamps v + zp to the bounds directly.
  r.lo = _mm256_set1_epi32(r.fast ? act_min : act_min - zp);
  r.hi = _mm256_set1_epi32(r.fast ? act_max : act_max - zp);
  const int32_t rs = r.fast ? right : 1;
  r.k = _mm256_set1_epi64x((int64_t{1} << 30) + (int64_t{1} << (30 + rs)) +
                           (r.fast ? static_cast<int64_t>(zp) * (int64_t{1} << (31 + rs)) : 0));
  r.fix = _mm256_set1_epi64x(int64_t{1} << 31);
  r.neg_below = _mm256_set1_epi64x(-(int64_t{1} << 30));
  r.count = _mm_cvtsi32_si128(rs - 1);
  return r;
}

// MultiplyByQuantizedMultiplier(x, m) + zp per lane, before the clamp (the other path adds zp
// with int32 wrap-around, so a caller that uses the value unclamped passes zp = 0).
OUTPOST_AVX2 inline __m256i MultiplyRequantVec8(const RequantVec8& r, __m256i x) {
  if (r.fast) {
    const __m256i pe = _mm256_mul_epi32(x, r.m0);
    const __m256i po = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), r.m0);
    const __m256i te = _mm256_sub_epi64(
        _mm256_add_epi64(pe, r.k), _mm256_and_si256(_mm256_cmpgt_epi64(r.neg_below, pe), r.fix));
    const __m256i to = _mm256_sub_epi64(
        _mm256_add_epi64(po, r.k), _mm256_and_si256(_mm256_cmpgt_epi64(r.neg_below, po), r.fix));
    // Even lanes: their high dwords moved down; odd lanes: in place.
    return _mm256_blend_epi32(_mm256_sra_epi32(_mm256_shuffle_epi32(te, 0xF5), r.count),
                              _mm256_sra_epi32(to, r.count), 0xAA);
  }
  return _mm256_add_epi32(MultiplyByQuantizedMultiplierAvx2(x, r.m0, r.left, r.right), r.zp);
}

OUTPOST_AVX2 inline __m256i ApplyRequantVec8(const RequantVec8& r, __m256i x) {
  if (r.fast) return _mm256_min_epi32(_mm256_max_epi32(MultiplyRequantVec8(r, x), r.lo), r.hi);
  const __m256i v = MultiplyByQuantizedMultiplierAvx2(x, r.m0, r.left, r.right);
  return _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(v, r.lo), r.hi), r.zp);
}

// The low byte of each of 8 int32 lanes, in order, in the low 8 bytes.
OUTPOST_AVX2 inline __m128i LowBytes8(__m256i v) {
  const __m256i pick =
      _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8, 12, -1,
                       -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i b = _mm256_shuffle_epi8(v, pick);
  return _mm_unpacklo_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
}

// ApplyRequantVec8 narrowed to int8 (the low byte of each lane). When the bounds are exactly
// [-128, 127] the clamp is the saturation of vpackssdw/vpacksswb themselves: the fast path's
// v + zp fits in int32, so saturating it to int8 is min(max(v + zp, -128), 127).
OUTPOST_AVX2 inline __m128i ApplyRequantVec8I8(const RequantVec8& r, __m256i x) {
  if (r.saturate_i8) {
    const __m256i v = MultiplyRequantVec8(r, x);
    const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    return _mm_packs_epi16(w, w);
  }
  return LowBytes8(ApplyRequantVec8(r, x));
}

// An int8 ADD's input term on 8 lanes in 32-bit arithmetic where that is exact (add_term32.h).
struct Term32x8 {
  __m256i zp, mh, ml, c;
  __m128i right;
  bool fix;  // r >= 1: c drops 2^11 where d < 0
};

OUTPOST_AVX2 inline Term32x8 MakeTerm32x8(int32_t zp, int32_t m0, int32_t right) {
  const Term32Constants k = MakeTerm32Constants(m0, right);
  Term32x8 t;
  t.zp = _mm256_set1_epi32(zp);
  t.mh = _mm256_set1_epi32(k.mh);
  t.ml = _mm256_set1_epi32(k.ml);
  t.c = _mm256_set1_epi32(k.c);
  t.right = _mm_cvtsi32_si128(right);
  t.fix = k.fix;
  return t;
}

// The term of 8 int8 values (the low 8 bytes of q).
OUTPOST_AVX2 inline __m256i ScaledTerm32x8(__m128i q, const Term32x8& t) {
  const __m256i d = _mm256_sub_epi32(_mm256_cvtepi8_epi32(q), t.zp);
  __m256i lo = _mm256_add_epi32(_mm256_mullo_epi32(d, t.ml), t.c);
  if (t.fix) lo = _mm256_add_epi32(lo, _mm256_slli_epi32(_mm256_srai_epi32(d, 31), 11));
  const __m256i s = _mm256_add_epi32(_mm256_mullo_epi32(d, t.mh), _mm256_srai_epi32(lo, 11));
  return _mm256_sra_epi32(s, t.right);
}

// Loads the first `n` (1..8) bytes of src into the low bytes of a vector, the rest zero.
OUTPOST_AVX2 inline __m128i LoadBytes8(const int8_t* src, int64_t n) {
  if (n >= 8) return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src));
  alignas(16) int8_t tmp[16] = {};
  memcpy(tmp, src, static_cast<size_t>(n));
  return _mm_load_si128(reinterpret_cast<const __m128i*>(tmp));
}

// Stores the first `n` (1..8) of the 8 bytes in the low half of `v`.
OUTPOST_AVX2 inline void StoreBytes8(int8_t* dst, __m128i v, int64_t n) {
  if (n >= 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), v);
    return;
  }
  alignas(16) int8_t tmp[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(tmp), v);
  memcpy(dst, tmp, static_cast<size_t>(n));
}

// Stores the first `n` (1..8) of the 8 int32 lanes of `v`.
OUTPOST_AVX2 inline void StoreInt32x8(int32_t* dst, __m256i v, int64_t n) {
  if (n >= 8) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), v);
    return;
  }
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  _mm256_maskstore_epi32(dst, _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(n)), lanes),
                         v);
}

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
