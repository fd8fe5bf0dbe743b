// FULLY_CONNECTED on INT8 with a batch of one, as matrix-vector dot products over the weights
// in their stored [out, k] layout (the model's constant data, used in place). Nothing is
// packed: a packed copy of a 3136 x 128 layer is 400 KB of fresh memory whose page faults
// alone cost over a millisecond of cold start on a virtual machine, and with one input row
// every weight is read once per Invoke in either layout.
//
// Each output channel's 64-byte blocks of k are summed with vpdpbusd into 16 lanes, then the
// lanes are added. int32 addition wraps and is associative, so the sum equals the packed
// kernel's lane for lane (see avx512_int8_util.h for why a wrapped sum is exact).
#pragma once

#include <immintrin.h>
#include <stdint.h>

#include "runtime/kernels/x86/int8/avx512_int8_util.h"

namespace outpost {
namespace kernels {
namespace x86 {

// The 16 lanes added in uint32: wraps like the lanes themselves (signed overflow would not).
OUTPOST_AVX512_VNNI inline int32_t AddLanesWrapping(__m512i v) {
  alignas(64) uint32_t lanes[16];
  _mm512_store_si512(lanes, v);
  uint32_t s = 0;
  for (int i = 0; i < 16; ++i) s += lanes[i];
  return static_cast<int32_t>(s);
}

// sums[i] = sum over j < k of xq[j] * w[(c0 + i) * k + j], for i < count (count <= 16);
// xq is one input row as u8 (x + 128). Loads never pass k: the tail is masked.
OUTPOST_AVX512_VNNI inline void FcGemvSums16(const uint8_t* xq, const int8_t* w, int64_t k,
                                             int64_t c0, int count, int32_t sums[16]) {
  const int64_t full = k / 64 * 64;
  const __mmask64 tail = k % 64 ? (~0ull >> (64 - k % 64)) : 0;
  int i = 0;
  // Four channels at a time: one load of x feeds four independent accumulators.
  for (; i + 4 <= count; i += 4) {
    const int8_t* r0 = w + (c0 + i) * k;
    const int8_t* r1 = r0 + k;
    const int8_t* r2 = r1 + k;
    const int8_t* r3 = r2 + k;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t j = 0; j < full; j += 64) {
      const __m512i xv = _mm512_loadu_si512(xq + j);
      a0 = _mm512_dpbusd_epi32(a0, xv, _mm512_loadu_si512(r0 + j));
      a1 = _mm512_dpbusd_epi32(a1, xv, _mm512_loadu_si512(r1 + j));
      a2 = _mm512_dpbusd_epi32(a2, xv, _mm512_loadu_si512(r2 + j));
      a3 = _mm512_dpbusd_epi32(a3, xv, _mm512_loadu_si512(r3 + j));
    }
    if (tail) {
      const __m512i xv = _mm512_maskz_loadu_epi8(tail, xq + full);
      a0 = _mm512_dpbusd_epi32(a0, xv, _mm512_maskz_loadu_epi8(tail, r0 + full));
      a1 = _mm512_dpbusd_epi32(a1, xv, _mm512_maskz_loadu_epi8(tail, r1 + full));
      a2 = _mm512_dpbusd_epi32(a2, xv, _mm512_maskz_loadu_epi8(tail, r2 + full));
      a3 = _mm512_dpbusd_epi32(a3, xv, _mm512_maskz_loadu_epi8(tail, r3 + full));
    }
    sums[i] = AddLanesWrapping(a0);
    sums[i + 1] = AddLanesWrapping(a1);
    sums[i + 2] = AddLanesWrapping(a2);
    sums[i + 3] = AddLanesWrapping(a3);
  }
  for (; i < count; ++i) {
    const int8_t* r = w + (c0 + i) * k;
    __m512i a = _mm512_setzero_si512();
    for (int64_t j = 0; j < full; j += 64)
      a = _mm512_dpbusd_epi32(a, _mm512_loadu_si512(xq + j), _mm512_loadu_si512(r + j));
    if (tail)
      a = _mm512_dpbusd_epi32(a, _mm512_maskz_loadu_epi8(tail, xq + full),
                              _mm512_maskz_loadu_epi8(tail, r + full));
    sums[i] = AddLanesWrapping(a);
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
