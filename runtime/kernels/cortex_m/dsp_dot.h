// The multiply-accumulate core of the Cortex-M DSP kernels: SMLAD does two 16 x 16-bit
// multiplies and adds both products to a 32-bit accumulator in one instruction.
//
// Both operands are int8 in memory, read four at a time. SXTB16 widens bytes 0 and 2 (and,
// after a rotation by 8, bytes 1 and 3) of the weights into int16 pairs; SXTAB16 does the same
// to the inputs and adds the negated input zero point to each half in the same instruction,
// giving (x - input_zp), which fits int16. The pairs line up (byte 0 with byte 0, ...), so no
// repacking is needed. A depth that is not a multiple of four leaves a tail done one multiply
// at a time, as the reference does.
//
// Exactness: every product and partial sum is an exact integer, and the int8 prepare proved
// |bias| + sum |x - input_zp| * |w| fits int32, so no partial sum overflows and the result
// equals the reference's whatever the order of the additions.
#pragma once

#include <arm_acle.h>
#include <stdint.h>
#include <string.h>

namespace outpost {
namespace kernels {
namespace cortex_m {

// An unaligned 32-bit load (LDR allows it on Armv7-M and Armv8-M Mainline).
inline uint32_t Load32(const void* p) {
  uint32_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

// SXTB16 and SXTAB16 of the operand rotated right by 8 (bytes 1 and 3): the instructions'
// own rotation, which GCC does not fold from a separate rotate.
inline uint32_t Sxtb16Ror8(uint32_t v) {
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}
inline uint32_t Sxtab16Ror8(uint32_t a, uint32_t v) {
  uint32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(v));
  return r;
}

// -zp in both halves of a word: SXTAB16's addend.
inline uint32_t NegatedPair(int32_t zp) {
  const uint32_t h = static_cast<uint32_t>(-zp) & 0xffffu;
  return h | (h << 16);
}

// The dot products are kept out of line: inlined into the kernels' loop nests they compete
// for registers and their inner loops spill.

// acc + sum_i (x[i] - zx) * w[i] over depth k; nzx = NegatedPair(zx).
__attribute__((noinline)) inline int32_t Dot(const int8_t* x, const int8_t* w, int32_t k,
                                             int32_t zx, uint32_t nzx, int32_t acc) {
  int32_t i = 0;
  for (; i + 4 <= k; i += 4) {
    const uint32_t xv = Load32(x + i), wv = Load32(w + i);
    acc = __smlad(__sxtab16(nzx, xv), __sxtb16(wv), acc);
    acc = __smlad(Sxtab16Ror8(nzx, xv), Sxtb16Ror8(wv), acc);
  }
  for (; i < k; ++i) acc += (x[i] - zx) * w[i];
  return acc;
}

// Two input vectors against one weight row, sharing the weight loads and their widening.
__attribute__((noinline)) inline void Dot2(const int8_t* x0, const int8_t* x1, const int8_t* w,
                                           int32_t k, int32_t zx, uint32_t nzx, int32_t* a0,
                                           int32_t* a1) {
  int32_t s0 = *a0, s1 = *a1;
  int32_t i = 0;
  for (; i + 4 <= k; i += 4) {
    const uint32_t wv = Load32(w + i);
    const uint32_t w02 = __sxtb16(wv), w13 = Sxtb16Ror8(wv);
    const uint32_t u = Load32(x0 + i), v = Load32(x1 + i);
    s0 = __smlad(__sxtab16(nzx, u), w02, s0);
    s1 = __smlad(__sxtab16(nzx, v), w02, s1);
    s0 = __smlad(Sxtab16Ror8(nzx, u), w13, s0);
    s1 = __smlad(Sxtab16Ror8(nzx, v), w13, s1);
  }
  for (; i < k; ++i) {
    s0 += (x0[i] - zx) * w[i];
    s1 += (x1[i] - zx) * w[i];
  }
  *a0 = s0;
  *a1 = s1;
}

}  // namespace cortex_m
}  // namespace kernels
}  // namespace outpost
