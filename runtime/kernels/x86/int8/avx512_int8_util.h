// AVX-512 building blocks shared by the x86 int8 kernels. Every function carries its own
// target attribute, so the library stays baseline x86-64 and these only run after the
// resolver has seen the CPU features (kCpuX86Avx512Vnni).
//
// The arithmetic is the reference's (runtime/kernels/quant_util.h), lane by lane:
//   - vpdpbusd multiplies unsigned by signed bytes, so activations enter as u = x + 128
//     (x ^ 0x80) and each output channel subtracts (128 + input_zp) * sum(w) once, a constant
//     folded with the bias at prepare: sum((x - zx) * w) = sum(u * w) - (128 + zx) * sum(w).
//     The int32 sums wrap like the hardware's; the true result fits in int32 (prepare proved
//     it), so the wrapped intermediate gives the same final value.
//   - RequantizeAvx512 is Requantize() on 16 lanes, bit for bit.
#pragma once

#include <immintrin.h>
#include <stdint.h>

#include "runtime/kernels/quant_util.h"
#include "runtime/kernels/x86/int8/add_term32.h"

#define OUTPOST_AVX512_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

namespace outpost {
namespace kernels {
namespace x86 {

// Per-channel requantization constants in the form the vector code wants.
struct ChannelRequant {
  int32_t m0;
  int32_t left;   // max(shift, 0)
  int32_t right;  // max(-shift, 0)
};

inline ChannelRequant MakeChannelRequant(QuantizedMultiplier m) {
  return {m.m0, m.shift > 0 ? m.shift : 0, m.shift > 0 ? 0 : -m.shift};
}

// MultiplyByQuantizedMultiplier(x, {m0, shift}) per lane, bit for bit.
OUTPOST_AVX512_VNNI inline __m512i MultiplyByQuantizedMultiplierAvx512(__m512i x, __m512i m0,
                                                                       __m512i left,
                                                                       __m512i right) {
  // Saturating x << left: the shift overflowed when shifting back does not restore x.
  __m512i shifted = _mm512_sllv_epi32(x, left);
  const __mmask16 overflow = _mm512_cmpneq_epi32_mask(_mm512_srav_epi32(shifted, left), x);
  const __m512i saturated =
      _mm512_mask_blend_epi32(_mm512_cmplt_epi32_mask(x, _mm512_setzero_si512()),
                              _mm512_set1_epi32(INT32_MAX), _mm512_set1_epi32(INT32_MIN));
  shifted = _mm512_mask_blend_epi32(overflow, shifted, saturated);
  // SaturatingRoundingDoublingHighMul: with its nudge, (a * b + 2^30) >> 31 (arithmetic) for
  // either sign of a * b. m0 >= 0, so the one saturating case (both INT32_MIN) cannot occur.
  const __m512i round = _mm512_set1_epi64(int64_t{1} << 30);
  const __m512i even =
      _mm512_srai_epi64(_mm512_add_epi64(_mm512_mul_epi32(shifted, m0), round), 31);
  const __m512i odd = _mm512_srai_epi64(
      _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(shifted, 32), _mm512_srli_epi64(m0, 32)),
                       round),
      31);
  __m512i v = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  // RoundingDivideByPOT(v, right): round half away from zero.
  const __m512i mask =
      _mm512_sub_epi32(_mm512_sllv_epi32(_mm512_set1_epi32(1), right), _mm512_set1_epi32(1));
  const __m512i remainder = _mm512_and_si512(v, mask);
  const __m512i threshold = _mm512_add_epi32(_mm512_srli_epi32(mask, 1), _mm512_srli_epi32(v, 31));
  const __mmask16 up = _mm512_cmpgt_epi32_mask(remainder, threshold);
  v = _mm512_srav_epi32(v, right);
  return _mm512_mask_add_epi32(v, up, v, _mm512_set1_epi32(1));
}

// Requantize(x, {m0, shift}, zp, lo, hi) per lane. `lo_zp` and `hi_zp` are lo - zp and
// hi - zp: clamping before adding the zero point gives the same value as the reference's
// saturating add followed by the clamp (lo, hi and zp are 8-bit values), without 64-bit lanes.
OUTPOST_AVX512_VNNI inline __m512i RequantizeAvx512(__m512i x, __m512i m0, __m512i left,
                                                    __m512i right, __m512i zp, __m512i lo_zp,
                                                    __m512i hi_zp) {
  const __m512i v = MultiplyByQuantizedMultiplierAvx512(x, m0, left, right);
  return _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(v, lo_zp), hi_zp), zp);
}

// MultiplyByQuantizedMultiplier(x, {m0, -right}) per lane for one multiplier with no left
// shift (shift <= 0, every multiplier below 1), in fewer instructions: the high multiply's
// rounding and the rounding right shift fold into one 64-bit shift. With P = x * m0 and
// v = floor((P + 2^30) / 2^31) (the high multiply), the reference's RoundingDivideByPOT(v, r)
// for r >= 1 is floor((v + 2^(r-1) - [v < 0]) / 2^r), and nested floor divisions by powers of
// two merge: the result is (P + 2^30 + 2^(30+r) - [P + 2^30 < 0] * 2^31) >> (31 + r).
OUTPOST_AVX512_VNNI inline __m512i MultiplyByQuantizedMultiplierUniformAvx512(__m512i x, int32_t m0,
                                                                              int32_t right) {
  const int64_t add = (int64_t{1} << 30) + (right > 0 ? int64_t{1} << (30 + right) : 0);
  const __m512i k = _mm512_set1_epi64(add);
  const __m512i fix = _mm512_set1_epi64(right > 0 ? int64_t{1} << 31 : 0);
  const __m512i neg_below = _mm512_set1_epi64(-(int64_t{1} << 30));
  const __m128i count = _mm_cvtsi32_si128(31 + right);
  const __m512i m = _mm512_set1_epi32(m0);
  const __m512i pe = _mm512_mul_epi32(x, m);
  const __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), m);
  const __m512i te =
      _mm512_mask_sub_epi64(_mm512_add_epi64(pe, k), _mm512_cmplt_epi64_mask(pe, neg_below),
                            _mm512_add_epi64(pe, k), fix);
  const __m512i to =
      _mm512_mask_sub_epi64(_mm512_add_epi64(po, k), _mm512_cmplt_epi64_mask(po, neg_below),
                            _mm512_add_epi64(po, k), fix);
  return _mm512_mask_blend_epi32(0xAAAA, _mm512_sra_epi64(te, count),
                                 _mm512_slli_epi64(_mm512_sra_epi64(to, count), 32));
}

// An int8 ADD's input term in 32-bit lanes where that is exact (add_term32.h).
struct Term32 {
  __m512i zp, mh, ml, c;
  __m128i right;
  bool fix;  // r >= 1: c drops 2^11 where d < 0
};

inline bool Term32Exact(const ChannelRequant& m) { return Term32Exact(m.m0, m.left, m.right); }

OUTPOST_AVX512_VNNI inline Term32 MakeTerm32(int32_t zp, const ChannelRequant& m) {
  const Term32Constants k = MakeTerm32Constants(m.m0, m.right);
  Term32 t;
  t.zp = _mm512_set1_epi32(zp);
  t.mh = _mm512_set1_epi32(k.mh);
  t.ml = _mm512_set1_epi32(k.ml);
  t.c = _mm512_set1_epi32(k.c);
  t.right = _mm_cvtsi32_si128(m.right);
  t.fix = k.fix;
  return t;
}

OUTPOST_AVX512_VNNI inline __m512i ScaledTerm32(__m128i q, const Term32& t) {
  const __m512i d = _mm512_sub_epi32(_mm512_cvtepi8_epi32(q), t.zp);
  __m512i lo = _mm512_add_epi32(_mm512_mullo_epi32(d, t.ml), t.c);
  if (t.fix) lo = _mm512_add_epi32(lo, _mm512_slli_epi32(_mm512_srai_epi32(d, 31), 11));
  const __m512i s = _mm512_add_epi32(_mm512_mullo_epi32(d, t.mh), _mm512_srai_epi32(lo, 11));
  return _mm512_sra_epi32(s, t.right);
}

// RequantizeAvx512 for one multiplier: the uniform form above when it has no left shift.
OUTPOST_AVX512_VNNI inline __m512i RequantizeUniformAvx512(__m512i x, const ChannelRequant& m,
                                                           __m512i zp, __m512i lo_zp,
                                                           __m512i hi_zp) {
  const __m512i v = m.left == 0 ? MultiplyByQuantizedMultiplierUniformAvx512(x, m.m0, m.right)
                                : MultiplyByQuantizedMultiplierAvx512(x, _mm512_set1_epi32(m.m0),
                                                                      _mm512_set1_epi32(m.left),
                                                                      _mm512_set1_epi32(m.right));
  return _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(v, lo_zp), hi_zp), zp);
}

// RequantizeAvx512 for one multiplier, with its constants built once (per output channel)
// rather than per vector. For shift < 0 (a multiplier below 1/2, every convolution's in
// practice) it is MultiplyByQuantizedMultiplierUniformAvx512 with two steps less:
//   - the odd lanes' result lands in the high half of their 64-bit lane by a shift of
//     right - 1 instead of a shift by 31 + right and back up by 32;
//   - the output zero point rides in the rounding constant as zp * 2^(31 + right), a
//     multiple of the divisor, so the floor division yields v + zp exactly. With right <= 22
//     the 64-bit sum cannot overflow (|P| <= 2^62, |zp| * 2^53 <= 2^61), and |v| <= 2^30 so
//     v + zp fits in int32 and clamping it to [act_min, act_max] equals the reference's
//     saturating add and clamp.
//
// When the lower bound is at or above the zero point (a RELU or RELU6, every MobileNet
// expansion and depthwise convolution), the fast path also drops the correction for negative
// products: for P < 0 both the corrected and the uncorrected quotient are at most 0 (the
// uncorrected numerator, P + 2^30 + 2^(30 + right), is below 2^(31 + right)), so v + zp is at
// most zp either way and the clamp makes both act_min.
struct RequantVec {
  bool fast;
  bool saturate_i8;   // fast, and the bounds are int8's own: see ApplyRequantVecI8
  bool floor_clamps;  // fast, and act_min >= zp: negative products need no correction
  __m512i m0, left, right, zp, lo_zp, hi_zp;
  __m512i k, below;  // below: P + k under it, i.e. P < -2^30, gets the correction
  __m128i count_even, count_odd;
};

OUTPOST_AVX512_VNNI inline RequantVec MakeRequantVec(const ChannelRequant& m, int32_t zp,
                                                     int32_t act_min, int32_t act_max) {
  RequantVec r;
  r.fast = m.left == 0 && m.right >= 1 && m.right <= 22;
  r.saturate_i8 = r.fast && act_min == -128 && act_max == 127;
  r.floor_clamps = r.fast && act_min >= zp;
  r.m0 = _mm512_set1_epi32(m.m0);
  r.left = _mm512_set1_epi32(m.left);
  r.right = _mm512_set1_epi32(m.right);
  // The fast path has the zero point folded into k: it clamps v + zp to the bounds directly.
  r.zp = _mm512_set1_epi32(zp);
  r.lo_zp = _mm512_set1_epi32(r.fast ? act_min : act_min - zp);
  r.hi_zp = _mm512_set1_epi32(r.fast ? act_max : act_max - zp);
  const int32_t right = r.fast ? m.right : 1;
  const int64_t k = (int64_t{1} << 30) + (int64_t{1} << (30 + right)) +
                    (r.fast ? static_cast<int64_t>(zp) * (int64_t{1} << (31 + right)) : 0);
  r.k = _mm512_set1_epi64(k);
  r.below = _mm512_set1_epi64(k - (int64_t{1} << 30));
  r.count_even = _mm_cvtsi32_si128(31 + right);
  r.count_odd = _mm_cvtsi32_si128(right - 1);
  return r;
}

// The fast path's quotients, v + zp per lane (see MakeRequantVec): the products x * m0 plus
// k, corrected (Fix) where P < -2^30, i.e. where P + k < below, and shifted. Without the
// correction it is only right where the clamp follows and floor_clamps holds.
template <bool Fix>
OUTPOST_AVX512_VNNI inline __m512i FastQuotients(__m512i x, __m512i m0, __m512i k, __m512i below,
                                                 __m128i count_even, __m128i count_odd) {
  __m512i te = _mm512_add_epi64(_mm512_mul_epi32(x, m0), k);
  __m512i to = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), m0), k);
  if (Fix) {
    const __m512i fix = _mm512_set1_epi64(int64_t{1} << 31);
    te = _mm512_mask_sub_epi64(te, _mm512_cmplt_epi64_mask(te, below), te, fix);
    to = _mm512_mask_sub_epi64(to, _mm512_cmplt_epi64_mask(to, below), to, fix);
  }
  return _mm512_mask_blend_epi32(0xAAAA, _mm512_sra_epi64(te, count_even),
                                 _mm512_sra_epi64(to, count_odd));
}

template <bool Fix>
OUTPOST_AVX512_VNNI inline __m512i FastRequantProduct(const RequantVec& r, __m512i x) {
  return FastQuotients<Fix>(x, r.m0, r.k, r.below, r.count_even, r.count_odd);
}

// MultiplyByQuantizedMultiplier(x, m) + zp per lane, before the clamp. The fast path has zp
// folded into k (exact, see MakeRequantVec); the other path adds it with int32 wrap-around, so
// a caller that uses the value unclamped passes zp = 0.
OUTPOST_AVX512_VNNI inline __m512i MultiplyRequantVec(const RequantVec& r, __m512i x) {
  if (r.fast) return FastRequantProduct<true>(r, x);
  return _mm512_add_epi32(MultiplyByQuantizedMultiplierAvx512(x, r.m0, r.left, r.right), r.zp);
}

// The fast path's v + zp for a caller that clamps it to [act_min, act_max].
OUTPOST_AVX512_VNNI inline __m512i ClampedRequantProduct(const RequantVec& r, __m512i x) {
  return r.floor_clamps ? FastRequantProduct<false>(r, x) : FastRequantProduct<true>(r, x);
}

OUTPOST_AVX512_VNNI inline __m512i ApplyRequantVec(const RequantVec& r, __m512i x) {
  // Fast: zp is already in; the bounds are act_min and act_max themselves.
  if (r.fast)
    return _mm512_min_epi32(_mm512_max_epi32(ClampedRequantProduct(r, x), r.lo_zp), r.hi_zp);
  const __m512i v = MultiplyByQuantizedMultiplierAvx512(x, r.m0, r.left, r.right);
  return _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(v, r.lo_zp), r.hi_zp), r.zp);
}

// ApplyRequantVec narrowed to int8 bytes (the low byte of each lane, as vpmovdb would). When
// the bounds are exactly [-128, 127] (no activation, or a RELU6 whose 6 quantizes to 127 or
// beyond, MobileNet's usual case) the clamp is the saturation of vpmovsdb itself, which saves
// the max and min: the fast path's v + zp fits in int32 (see MakeRequantVec), so saturating
// it to int8 is min(max(v + zp, -128), 127).
OUTPOST_AVX512_VNNI inline __m128i ApplyRequantVecI8(const RequantVec& r, __m512i x) {
  if (r.saturate_i8) return _mm512_cvtsepi32_epi8(ClampedRequantProduct(r, x));
  return _mm512_cvtepi32_epi8(ApplyRequantVec(r, x));
}

// RequantVec's fast path narrowed to int8 (ApplyRequantVecI8 with saturate_i8), for kernels
// whose every output channel takes it: the channel's constants are two vectors and two shift
// counts, and its correction `corr` (the raw sum minus corr is what is requantized) rides in
// the rounding constant: (x - corr) * m0 + k = x * m0 + (k - corr * m0). The 64-bit products
// and sums may wrap, but (x - corr) * m0 + k fits in int64 (MakeRequantVec), so the wrapped
// value is exact; x itself must be the true sum, not a wrapped one (FastRequantEligible).
// Fix: with the correction for negative products, i.e. unless the lower bound is at or above
// the zero point (RequantVec::floor_clamps).
struct FastRequantI8 {
  __m512i m0, k, below;  // below: products P with P + k under it get the correction
  __m128i count_even, count_odd;
};

// Whether channel constants `m`, output zero point `zp` and bounds take FastRequantI8 (after
// MakeRequantVec: fast, saturate_i8). `k_max` is the reduction length: its raw sums of u8 x s8
// products must not wrap int32.
inline bool FastRequantEligible(const ChannelRequant& m, int32_t act_min, int32_t act_max,
                                int64_t k_max) {
  return m.left == 0 && m.right >= 1 && m.right <= 22 && act_min == -128 && act_max == 127 &&
         k_max * 255 * 128 <= INT32_MAX;
}

OUTPOST_AVX512_VNNI inline FastRequantI8 MakeFastRequantI8(const ChannelRequant& m, int32_t zp,
                                                           int32_t corr) {
  const int64_t k = (int64_t{1} << 30) + (int64_t{1} << (30 + m.right)) +
                    static_cast<int64_t>(zp) * (int64_t{1} << (31 + m.right));
  FastRequantI8 r;
  r.m0 = _mm512_set1_epi32(m.m0);
  // k - corr * m0 in two's complement: the sum it enters wraps back into range.
  r.k = _mm512_set1_epi64(static_cast<int64_t>(
      static_cast<uint64_t>(k) -
      static_cast<uint64_t>(corr) * static_cast<uint64_t>(static_cast<int64_t>(m.m0))));
  // P < -2^30 exactly where P + k < k - 2^30.
  r.below = _mm512_set1_epi64(k - (int64_t{1} << 30));
  r.count_even = _mm_cvtsi32_si128(31 + m.right);
  r.count_odd = _mm_cvtsi32_si128(m.right - 1);
  return r;
}

template <bool Fix>
OUTPOST_AVX512_VNNI inline __m128i ApplyFastRequantI8(const FastRequantI8& r, __m512i x) {
  return _mm512_cvtsepi32_epi8(
      FastQuotients<Fix>(x, r.m0, r.k, r.below, r.count_even, r.count_odd));
}

// One output channel's requantization of raw vpdpbusd sums to int8, for kernels that choose
// per operator: FastRequantI8 where the lower bound hides the negative-product correction
// (Clamped), else RequantVec after subtracting the correction.
template <bool Clamped>
struct ChannelRequantI8;

template <>
struct ChannelRequantI8<true> {
  FastRequantI8 r;
  OUTPOST_AVX512_VNNI ChannelRequantI8(const ChannelRequant& m, int32_t zp, int32_t, int32_t,
                                       int32_t corr)
      : r(MakeFastRequantI8(m, zp, corr)) {}
  OUTPOST_AVX512_VNNI __m128i operator()(__m512i sum) const {
    return ApplyFastRequantI8<false>(r, sum);
  }
};

template <>
struct ChannelRequantI8<false> {
  RequantVec r;
  __m512i corr;
  OUTPOST_AVX512_VNNI ChannelRequantI8(const ChannelRequant& m, int32_t zp, int32_t act_min,
                                       int32_t act_max, int32_t c)
      : r(MakeRequantVec(m, zp, act_min, act_max)), corr(_mm512_set1_epi32(c)) {}
  OUTPOST_AVX512_VNNI __m128i operator()(__m512i sum) const {
    return ApplyRequantVecI8(r, _mm512_sub_epi32(sum, corr));
  }
};

// vpermb and vpermi2b (AVX-512 VBMI) as inline assembly, so that only the code that runs
// them on a CPU with VBMI (kCpuX86Avx512Vbmi) needs it, not the functions they are inlined in.
OUTPOST_AVX512_VNNI inline __m512i PermuteBytes(__m512i idx, __m512i table) {
  __m512i r;
  __asm__("vpermb %1, %2, %0" : "=v"(r) : "vm"(table), "v"(idx));
  return r;
}

// Bytes from a (index bit 6 clear) or b (set).
OUTPOST_AVX512_VNNI inline __m512i PermuteBytes2(__m512i idx, __m512i a, __m512i b) {
  __asm__("vpermi2b %2, %1, %0" : "+v"(idx) : "v"(a), "vm"(b));
  return idx;
}

// Interleaves four rows of n int8 values into n groups of 4 bytes (row 0 first), flipping
// the sign bit (x + 128 as u8), the operand layout of vpdpbusd. A null row reads as zeros
// (its weights are zero). `out` has room for n rounded up to 16 groups; the tail is zeroed.
OUTPOST_AVX512_VNNI inline void InterleaveRows4(const int8_t* const rows[4], int64_t n,
                                                uint8_t* out) {
  const __m128i flip = _mm_set1_epi8(static_cast<char>(0x80));
  int64_t i = 0;
  const bool all = rows[0] && rows[1] && rows[2] && rows[3];
  if (all) {
    // 64 columns at a time: the byte and word unpacks leave 128-bit lane L of output o holding
    // columns 16 * L + 4 * o .. + 3; a 4x4 transpose of the lanes puts them in column order.
    const __m512i flip512 = _mm512_set1_epi8(static_cast<char>(0x80));
    for (; i + 64 <= n; i += 64) {
      const __m512i r0 = _mm512_xor_si512(_mm512_loadu_si512(rows[0] + i), flip512);
      const __m512i r1 = _mm512_xor_si512(_mm512_loadu_si512(rows[1] + i), flip512);
      const __m512i r2 = _mm512_xor_si512(_mm512_loadu_si512(rows[2] + i), flip512);
      const __m512i r3 = _mm512_xor_si512(_mm512_loadu_si512(rows[3] + i), flip512);
      const __m512i a_lo = _mm512_unpacklo_epi8(r0, r1), a_hi = _mm512_unpackhi_epi8(r0, r1);
      const __m512i b_lo = _mm512_unpacklo_epi8(r2, r3), b_hi = _mm512_unpackhi_epi8(r2, r3);
      const __m512i o0 = _mm512_unpacklo_epi16(a_lo, b_lo), o1 = _mm512_unpackhi_epi16(a_lo, b_lo);
      const __m512i o2 = _mm512_unpacklo_epi16(a_hi, b_hi), o3 = _mm512_unpackhi_epi16(a_hi, b_hi);
      const __m512i t0 = _mm512_shuffle_i64x2(o0, o1, 0x44),
                    t1 = _mm512_shuffle_i64x2(o0, o1, 0xEE);
      const __m512i t2 = _mm512_shuffle_i64x2(o2, o3, 0x44),
                    t3 = _mm512_shuffle_i64x2(o2, o3, 0xEE);
      uint8_t* o = out + i * 4;
      _mm512_storeu_si512(o, _mm512_shuffle_i64x2(t0, t2, 0x88));
      _mm512_storeu_si512(o + 64, _mm512_shuffle_i64x2(t0, t2, 0xDD));
      _mm512_storeu_si512(o + 128, _mm512_shuffle_i64x2(t1, t3, 0x88));
      _mm512_storeu_si512(o + 192, _mm512_shuffle_i64x2(t1, t3, 0xDD));
    }
    for (; i + 16 <= n; i += 16) {
      const __m128i r0 =
          _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[0] + i)), flip);
      const __m128i r1 =
          _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[1] + i)), flip);
      const __m128i r2 =
          _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[2] + i)), flip);
      const __m128i r3 =
          _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[3] + i)), flip);
      const __m128i a_lo = _mm_unpacklo_epi8(r0, r1), a_hi = _mm_unpackhi_epi8(r0, r1);
      const __m128i b_lo = _mm_unpacklo_epi8(r2, r3), b_hi = _mm_unpackhi_epi8(r2, r3);
      __m128i* o = reinterpret_cast<__m128i*>(out + i * 4);
      _mm_storeu_si128(o + 0, _mm_unpacklo_epi16(a_lo, b_lo));
      _mm_storeu_si128(o + 1, _mm_unpackhi_epi16(a_lo, b_lo));
      _mm_storeu_si128(o + 2, _mm_unpacklo_epi16(a_hi, b_hi));
      _mm_storeu_si128(o + 3, _mm_unpackhi_epi16(a_hi, b_hi));
    }
  }
  for (; i < n; ++i)
    for (int r = 0; r < 4; ++r)
      out[i * 4 + r] = rows[r] ? static_cast<uint8_t>(rows[r][i] ^ 0x80) : 0;
  const int64_t padded = (n + 15) / 16 * 16;
  for (; i < padded; ++i)
    for (int r = 0; r < 4; ++r) out[i * 4 + r] = 0;
}

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
