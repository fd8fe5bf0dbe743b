// Vector helpers shared by the AVX-512 float32 kernels. Include only after the including file
// has switched the compiler's target to AVX-512 (its pragma then applies to these functions).
#pragma once

#include <immintrin.h>
#include <stdint.h>

#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/x86/range_mask.h"

namespace outpost {
namespace kernels {
namespace x86 {
namespace {

// The fused activation on 16 lanes, with the reference's NaN behaviour: max/min return their
// second operand when either is NaN, so a NaN input passes through the clamp.
struct VecAct {
  __m512 lo, hi;
  bool hard_swish;
  explicit VecAct(const FusedActivation& a)
      : lo(_mm512_set1_ps(a.lo)), hi(_mm512_set1_ps(a.hi)), hard_swish(a.hard_swish) {}
  __m512 operator()(__m512 x) const {
    if (hard_swish) {
      __m512 t = _mm512_add_ps(x, _mm512_set1_ps(3.0f));
      t = _mm512_min_ps(_mm512_set1_ps(6.0f), _mm512_max_ps(_mm512_setzero_ps(), t));
      return _mm512_mul_ps(_mm512_mul_ps(x, t), _mm512_set1_ps(1.0f / 6.0f));
    }
    return _mm512_min_ps(hi, _mm512_max_ps(lo, x));
  }
};

// `row + index` as a pointer without pointer arithmetic: used for addresses that may lie
// outside the row when every lane reading there is masked off (never dereferenced).
inline const float* MaskedAddress(const float* row, int64_t index) {
  return reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(row) +
                                        static_cast<uintptr_t>(index * 4));
}

// Even lanes of the concatenation (lo, hi): the columns a stride-2 window starts at.
inline __m512i EvenLanes() {
  return _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}

// Lanes of `m` from p, the others `fill`. Masked loads cost more than plain ones on some cores
// (AMD Zen) even with every lane enabled, so a full mask, the common case inside a row, takes
// the plain load.
inline __m512 LoadLanes(__mmask16 m, const float* p, __m512 fill) {
  return m == 0xffff ? _mm512_loadu_ps(p) : _mm512_mask_loadu_ps(fill, m, p);
}

// The lanes of `m` of v to p; like LoadLanes, a full mask takes the plain store.
inline void StoreLanes(__mmask16 m, float* p, __m512 v) {
  if (m == 0xffff) {
    _mm512_storeu_ps(p, v);
  } else {
    _mm512_mask_storeu_ps(p, m, v);
  }
}

// p[0], p[2], ..., p[30]: the columns a stride-2 window starts at. `mask` covers the 32 input
// columns (lanes off read as `fill`).
inline __m512 LoadEven(uint64_t mask, const float* p, __m512 fill) {
  const __m512 lo = LoadLanes(static_cast<__mmask16>(mask), p, fill);
  const __m512 hi = LoadLanes(static_cast<__mmask16>(mask >> 16), MaskedAddress(p, 16), fill);
  return _mm512_permutex2var_ps(lo, EvenLanes(), hi);
}

}  // namespace
}  // namespace x86
}  // namespace kernels
}  // namespace outpost
