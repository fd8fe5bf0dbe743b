// The requantization primitives of runtime/kernels/quant_util.h against independent
// references written with wider integers (and long double), on edge cases and random values.
#include "runtime/kernels/quant_util.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace outpost::testing {
namespace {

using kernels::MultiplierFromScales;
using kernels::MultiplyByQuantizedMultiplier;
using kernels::QuantizedMultiplier;
using kernels::QuantizeMultiplier;
using kernels::RoundingDivideByPOT;
using kernels::SaturatingRoundingDoublingHighMul;

// floor((a * b + 2^30) / 2^31): round(a * b / 2^31) to nearest, ties toward +infinity, by an
// arithmetic shift (floor) instead of the kernel's truncating division with a signed nudge.
int64_t HighMulRef(int32_t a, int32_t b) {
  const __int128 ab = static_cast<__int128>(a) * b;
  const __int128 r = (ab + (static_cast<__int128>(1) << 30)) >> 31;
  return r > INT32_MAX ? INT32_MAX : static_cast<int64_t>(r);
}

// x / 2^e rounded half away from zero, through the magnitude.
int64_t DivPotRef(int64_t x, int e) {
  if (e == 0) return x;
  const int64_t half = int64_t{1} << (e - 1);
  return x >= 0 ? (x + half) >> e : -((-x + half) >> e);
}

int64_t MulRef(int32_t x, int32_t m0, int shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  int64_t s = static_cast<int64_t>(x) * (int64_t{1} << left);
  s = std::clamp<int64_t>(s, INT32_MIN, INT32_MAX);
  return DivPotRef(HighMulRef(static_cast<int32_t>(s), m0), right);
}

const std::vector<int32_t> kEdgeValues = {
    INT32_MIN, INT32_MIN + 1, -(1 << 30) - 1, -(1 << 30), -(1 << 30) + 1, -65536, -3, -2, -1, 0,
    1,         2,             3,              65535,      (1 << 30) - 1,  1 << 30, (1 << 30) + 1,
    INT32_MAX - 1, INT32_MAX};

TEST(QuantUtil, HighMulMatchesWideReferenceOnEdges) {
  for (int32_t a : kEdgeValues)
    for (int32_t b : kEdgeValues)
      EXPECT_EQ(SaturatingRoundingDoublingHighMul(a, b), HighMulRef(a, b)) << a << " * " << b;
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN), INT32_MAX);
}

TEST(QuantUtil, HighMulTiesRoundTowardPlusInfinity) {
  // a * b / 2^31 = +-0.5, +-1.5: ties.
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(1, 1 << 30), 1);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-1, 1 << 30), 0);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(3, 1 << 30), 2);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-3, 1 << 30), -1);
  // Just off the tie goes to the nearest.
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-3, (1 << 30) + 1), -2);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(3, (1 << 30) - 1), 1);
}

TEST(QuantUtil, HighMulMatchesWideReferenceOnRandomValues) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX);
  for (int i = 0; i < 200000; ++i) {
    const int32_t a = any(rng), b = any(rng);
    ASSERT_EQ(SaturatingRoundingDoublingHighMul(a, b), HighMulRef(a, b)) << a << " * " << b;
  }
}

TEST(QuantUtil, RoundingDivideByPotMatchesReference) {
  for (int e = 0; e <= 31; ++e) {
    for (int32_t x : kEdgeValues) EXPECT_EQ(RoundingDivideByPOT(x, e), DivPotRef(x, e)) << x;
    if (e == 0) continue;
    // Exact ties k + 1/2 for a few k of both signs round away from zero.
    for (int64_t k : {-5LL, -1LL, 0LL, 1LL, 4LL}) {
      const int64_t x = k * (int64_t{1} << e) + (int64_t{1} << (e - 1));
      if (x < INT32_MIN || x > INT32_MAX) continue;
      const int64_t want = x >= 0 ? k + 1 : k;  // k + 1/2 > 0 rounds up, < 0 rounds down
      EXPECT_EQ(RoundingDivideByPOT(static_cast<int32_t>(x), e), want) << x << " >> " << e;
    }
  }
  EXPECT_EQ(RoundingDivideByPOT(-3, 1), -2);
  EXPECT_EQ(RoundingDivideByPOT(3, 1), 2);
  EXPECT_EQ(RoundingDivideByPOT(-1, 1), -1);
  EXPECT_EQ(RoundingDivideByPOT(INT32_MIN, 31), -1);
  EXPECT_EQ(RoundingDivideByPOT(INT32_MAX, 31), 1);
}

TEST(QuantUtil, MultiplyByQuantizedMultiplierMatchesReference) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX);
  std::uniform_int_distribution<int32_t> m0s(1 << 30, INT32_MAX);
  for (int shift = -31; shift <= 30; ++shift) {
    for (int32_t m0 : {1 << 30, (1 << 30) + 1, 1518500250, INT32_MAX}) {
      for (int32_t x : kEdgeValues)
        EXPECT_EQ(MultiplyByQuantizedMultiplier(x, m0, shift), MulRef(x, m0, shift))
            << x << " m0 " << m0 << " shift " << shift;
    }
    for (int i = 0; i < 2000; ++i) {
      const int32_t x = any(rng), m0 = m0s(rng);
      ASSERT_EQ(MultiplyByQuantizedMultiplier(x, m0, shift), MulRef(x, m0, shift))
          << x << " m0 " << m0 << " shift " << shift;
    }
  }
}

TEST(QuantUtil, MultiplyByQuantizedMultiplierIsWithinOneOfTheRealProduct) {
  std::mt19937 rng(12);
  std::uniform_int_distribution<int32_t> small(-(1 << 20), 1 << 20);
  std::uniform_real_distribution<double> log_m(-20.0, 8.0);
  for (int i = 0; i < 100000; ++i) {
    const double real = std::exp2(log_m(rng));
    QuantizedMultiplier m;
    ASSERT_TRUE(QuantizeMultiplier(real, &m));
    const int32_t x = small(rng);
    const long double exact = static_cast<long double>(x) * m.m0 * std::ldexp(1.0L, m.shift - 31);
    if (std::fabs(exact) >= 2147483647.0L) continue;  // saturates
    const int32_t got = MultiplyByQuantizedMultiplier(x, m);
    ASSERT_LE(std::fabs(got - exact), 1.0L) << x << " * " << real;
    // And the stored multiplier is the real one to 31 bits.
    ASSERT_LE(std::fabs(m.m0 * std::ldexp(1.0, m.shift - 31) - real), real * std::ldexp(1.0, -31));
  }
}

TEST(QuantUtil, HeadroomRoundsSmallOperandsOnce) {
  // Without headroom a small x can end up a whole step from round(x * M) (both roundings
  // go the same way); with x shifted left by 15 and M divided accordingly, the high multiply
  // keeps 15 - shift fractional bits, and the result is round(x * M), half away from zero,
  // whenever x * M is not that close to a tie.
  std::mt19937 rng(13);
  std::uniform_real_distribution<double> log_m(-8.0, 3.0);
  int off_without = 0;
  for (int i = 0; i < 300; ++i) {
    QuantizedMultiplier m;
    ASSERT_TRUE(QuantizeMultiplier(std::exp2(log_m(rng)), &m));
    const QuantizedMultiplier h = kernels::WithHeadroom(m, 15);
    const long double real = m.m0 * std::ldexp(1.0L, m.shift - 31);
    for (int32_t x = -65025; x <= 65025; x += 97) {
      const long double exact = x * real;
      const long double frac = std::fabs(exact - std::trunc(exact));
      if (std::fabs(frac - 0.5L) < std::ldexp(1.0L, std::max(m.shift, 0) - 15)) continue;
      const int64_t want = std::llround(exact);
      ASSERT_EQ(MultiplyByQuantizedMultiplier(x * (1 << 15), h), want) << x << " * " << real;
      off_without += MultiplyByQuantizedMultiplier(x, m) != want;
    }
  }
  EXPECT_GT(off_without, 0) << "the plain multiply was expected to round twice somewhere";
  // Multipliers that become too small are zero.
  QuantizedMultiplier tiny;
  ASSERT_TRUE(QuantizeMultiplier(std::ldexp(1.0, -30), &tiny));
  EXPECT_EQ(kernels::WithHeadroom(tiny, 10).m0, 0);
}

TEST(QuantUtil, LeftShiftSaturates) {
  QuantizedMultiplier m;
  ASSERT_TRUE(QuantizeMultiplier(1000.0, &m));
  EXPECT_GT(m.shift, 0);
  // x << shift saturates to the int32 range before the multiply by m0 / 2^31 in [1/2, 1).
  EXPECT_GE(MultiplyByQuantizedMultiplier(INT32_MAX, m), 1 << 30);
  EXPECT_LE(MultiplyByQuantizedMultiplier(INT32_MIN, m), -(1 << 30));
  EXPECT_GE(MultiplyByQuantizedMultiplier(1 << 24, m), 1 << 30);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(3, m), 3000);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-3, m), -3000);
}

TEST(QuantUtil, QuantizeMultiplierRanges) {
  QuantizedMultiplier m;
  EXPECT_TRUE(QuantizeMultiplier(0.0, &m));
  EXPECT_EQ(m.m0, 0);
  EXPECT_EQ(m.shift, 0);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(INT32_MAX, m), 0);

  EXPECT_TRUE(QuantizeMultiplier(1.0, &m));
  EXPECT_EQ(m.m0, 1 << 30);
  EXPECT_EQ(m.shift, 1);
  EXPECT_TRUE(QuantizeMultiplier(0.5, &m));
  EXPECT_EQ(m.m0, 1 << 30);
  EXPECT_EQ(m.shift, 0);
  EXPECT_TRUE(QuantizeMultiplier(0.75, &m));
  EXPECT_EQ(m.m0, 3 << 29);
  EXPECT_EQ(m.shift, 0);

  // q just below 1 rounds up to 2^31 and is renormalized.
  EXPECT_TRUE(QuantizeMultiplier(1.0 - std::ldexp(1.0, -40), &m));
  EXPECT_EQ(m.m0, 1 << 30);
  EXPECT_EQ(m.shift, 1);

  // Tiny: 2^-32 is still represented; below it every int32 * M rounds to 0 anyway.
  EXPECT_TRUE(QuantizeMultiplier(std::ldexp(1.0, -32), &m));
  EXPECT_EQ(m.m0, 1 << 30);
  EXPECT_EQ(m.shift, -31);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(1 << 30, m), 0);     // 0.25
  EXPECT_EQ(MultiplyByQuantizedMultiplier(INT32_MIN, m), -1);  // -0.5, away from zero
  // 0.4999999998: the high multiply rounds 2^30 - 1/2 up to 2^30 first, and 2^30 / 2^31 then
  // rounds away from zero. The two roundings stay within 1 of the real product.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(INT32_MAX, m), 1);
  EXPECT_TRUE(QuantizeMultiplier(1e-12, &m));
  EXPECT_EQ(m.m0, 0);
  EXPECT_EQ(m.shift, 0);

  // Large: > 1 uses the left shift; absurd ones saturate.
  EXPECT_TRUE(QuantizeMultiplier(3.0, &m));
  EXPECT_EQ(m.m0, 3 << 29);
  EXPECT_EQ(m.shift, 2);
  EXPECT_TRUE(QuantizeMultiplier(std::ldexp(1.0, 40), &m));
  EXPECT_EQ(m.m0, INT32_MAX);
  EXPECT_EQ(m.shift, 30);

  // Refused: negative, NaN, infinite.
  for (double bad : {-1.0, -1e-30, std::nan(""), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    EXPECT_FALSE(QuantizeMultiplier(bad, &m)) << bad;
    EXPECT_EQ(m.m0, 0);
  }
  int32_t m0 = -1;
  int shift = -1;
  EXPECT_TRUE(QuantizeMultiplier(0.25, &m0, &shift));
  EXPECT_EQ(m0, 1 << 30);
  EXPECT_EQ(shift, -1);
}

// The multiplier of the real a * b / c computed in long double (64-bit mantissa: the product
// of two floats is exact and the quotient is off by 2^-64 relative, far less than the
// distance of any such quotient from a rounding tie of 31 bits, which is at least ~2^-56).
QuantizedMultiplier LongDoubleMultiplier(float a, float b, float c) {
  const long double real = static_cast<long double>(a) * b / c;
  int e = 0;
  const long double q = std::frexp(real, &e);
  long long fixed = std::llround(std::ldexp(q, 31));
  if (fixed == (1LL << 31)) {
    fixed /= 2;
    ++e;
  }
  QuantizedMultiplier m;
  if (e < -31) return m;
  if (e > 30) return {INT32_MAX, 30};
  m.m0 = static_cast<int32_t>(fixed);
  m.shift = e;
  return m;
}

TEST(QuantUtil, MultiplierFromScalesIsExactlyRounded) {
  if (std::numeric_limits<long double>::digits < 64) GTEST_SKIP() << "needs a wide long double";
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> mant(1.0f, 2.0f);
  std::uniform_int_distribution<int> ex(-30, 10);
  int differs_from_double = 0;
  for (int i = 0; i < 200000; ++i) {
    const float a = std::ldexp(mant(rng), ex(rng)), b = std::ldexp(mant(rng), ex(rng));
    const float c = std::ldexp(mant(rng), ex(rng));
    QuantizedMultiplier got;
    ASSERT_TRUE(MultiplierFromScales(&a, &b, &c, &got));
    const QuantizedMultiplier want = LongDoubleMultiplier(a, b, c);
    ASSERT_EQ(got.m0, want.m0) << a << " * " << b << " / " << c;
    ASSERT_EQ(got.shift, want.shift) << a << " * " << b << " / " << c;
    // QuantizeMultiplier on the double quotient rounds twice; it may differ in the last bit.
    QuantizedMultiplier twice;
    ASSERT_TRUE(QuantizeMultiplier(static_cast<double>(a) * b / c, &twice));
    if (twice.m0 != got.m0 || twice.shift != got.shift) {
      ++differs_from_double;
      EXPECT_EQ(twice.shift, got.shift);
      EXPECT_LE(std::abs(twice.m0 - got.m0), 1);
    }
  }
  EXPECT_LE(differs_from_double, 3);
}

TEST(QuantUtil, MultiplierFromScalesEdges) {
  QuantizedMultiplier m;
  const float one = 1.0f, half = 0.5f, three = 3.0f;
  ASSERT_TRUE(MultiplierFromScales(&one, &one, &one, &m));
  EXPECT_EQ(m.m0, 1 << 30);
  EXPECT_EQ(m.shift, 1);
  ASSERT_TRUE(MultiplierFromScales(&half, &three, &one, &m));  // 1.5
  EXPECT_EQ(m.m0, 3 << 29);
  EXPECT_EQ(m.shift, 1);
  // Subnormal scales are normalized.
  const float sub = 1e-40f;
  ASSERT_TRUE(MultiplierFromScales(&sub, &one, &sub, &m));
  EXPECT_EQ(m.m0, 1 << 30);
  EXPECT_EQ(m.shift, 1);
  // Tiny and huge quotients: zero and saturation, as QuantizeMultiplier.
  const float tiny = 1e-30f, huge = 1e30f;
  ASSERT_TRUE(MultiplierFromScales(&tiny, &one, &huge, &m));
  EXPECT_EQ(m.m0, 0);
  ASSERT_TRUE(MultiplierFromScales(&huge, &one, &tiny, &m));
  EXPECT_EQ(m.m0, INT32_MAX);
  EXPECT_EQ(m.shift, 30);
  // Refused: zero, negative, infinite, NaN.
  for (float bad : {0.0f, -0.0f, -1.0f, std::numeric_limits<float>::infinity(), std::nanf("")}) {
    EXPECT_FALSE(MultiplierFromScales(&bad, &one, &one, &m)) << bad;
    EXPECT_FALSE(MultiplierFromScales(&one, &one, &bad, &m)) << bad;
  }
}

TEST(QuantUtil, QuantizeToRangeRoundsHalfAwayAndSaturates) {
  using kernels::QuantizeToRange;
  EXPECT_EQ(QuantizeToRange(2.5, 1.0, 0, -128, 127), 3);
  EXPECT_EQ(QuantizeToRange(-2.5, 1.0, 0, -128, 127), -3);
  EXPECT_EQ(QuantizeToRange(0.5, 0.25, 10, -128, 127), 12);
  EXPECT_EQ(QuantizeToRange(0.375, 0.25, -5, -128, 127), -3);  // 1.5 -> 2
  EXPECT_EQ(QuantizeToRange(1e9, 0.1, 0, -128, 127), 127);
  EXPECT_EQ(QuantizeToRange(-1e9, 0.1, 0, -128, 127), -128);
  EXPECT_EQ(QuantizeToRange(std::nan(""), 0.1, 7, -128, 127), 7);
  EXPECT_EQ(QuantizeToRange(-1.0, 0.1, 0, 0, 255), 0);
}

TEST(QuantUtil, LookupTableTabulatesTheFunction) {
  int8_t lut[256];
  // Identity with equal parameters reproduces every input.
  kernels::BuildInt8Lut(
      0.05, 3, 0.05, 3, [](double x, const void*) { return x; }, nullptr, lut);
  for (int q = -128; q <= 127; ++q) EXPECT_EQ(lut[q + 128], q);
  // Doubling into an output of twice the scale, shifted zero point: q - zp is kept.
  kernels::BuildInt8Lut(
      0.05, 3, 0.1, -7, [](double x, const void*) { return 2 * x; }, nullptr, lut);
  for (int q = -128; q <= 127; ++q) EXPECT_EQ(lut[q + 128], std::clamp(q - 3 - 7, -128, 127));
  // The argument reaches the function.
  const double k = -1.0;
  kernels::BuildInt8Lut(
      1.0, 0, 1.0, 0, [](double x, const void* a) { return x * *static_cast<const double*>(a); },
      &k, lut);
  EXPECT_EQ(lut[0], 127);  // -(-128) saturates
  EXPECT_EQ(lut[128 + 5], -5);
}

}  // namespace
}  // namespace outpost::testing
