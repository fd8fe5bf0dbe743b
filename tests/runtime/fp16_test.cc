// runtime/fp16.h: every half converts to the float it denotes (checked against the binary16
// definition evaluated in double) and back to itself; float -> half rounds to nearest, ties to
// even, at every boundary, including subnormals and overflow.
#include "runtime/fp16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace outpost::testing {
namespace {

// The value of a binary16 bit pattern, by definition.
double HalfValue(uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  double v;
  if (exp == 0x1f) {
    v = mant == 0 ? INFINITY : NAN;
  } else if (exp == 0) {
    v = std::ldexp(static_cast<double>(mant), -24);  // subnormal: mant * 2^-14 / 2^10
  } else {
    v = std::ldexp(1.0 + mant / 1024.0, exp - 15);
  }
  return sign ? -v : v;
}

uint32_t Bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

TEST(Fp16, EveryHalfRoundTrips) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const uint16_t h = static_cast<uint16_t>(i);
    const float f = HalfToFloat(h);
    const double want = HalfValue(h);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << i;
      const uint16_t back = FloatToHalf(f);
      ASSERT_EQ(back & 0x7c00, 0x7c00) << std::hex << i;
      ASSERT_NE(back & 0x3ff, 0) << "NaN stays NaN: " << std::hex << i;
      ASSERT_EQ(back & 0x8000, h & 0x8000) << std::hex << i;
      continue;
    }
    ASSERT_EQ(static_cast<double>(f), want) << std::hex << i;
    ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << i;
    ASSERT_EQ(FloatToHalf(f), h) << std::hex << i;
  }
}

TEST(Fp16, RoundsToNearestTiesToEven) {
  int ties = 0;
  for (uint32_t i = 0; i < 0x7c00; ++i) {  // consecutive positive finite halves h, h + 1
    const uint16_t lo = static_cast<uint16_t>(i), hi = static_cast<uint16_t>(i + 1);
    const double a = HalfValue(lo), b = HalfValue(hi == 0x7c00 ? 0x7bff : hi);
    if (hi == 0x7c00) break;  // overflow is checked below
    const float mid = static_cast<float>((a + b) / 2);  // exact: halves have 11-bit mantissas
    ASSERT_EQ(static_cast<double>(mid), (a + b) / 2);
    const uint16_t even = (lo & 1) == 0 ? lo : hi;
    for (int sign : {0, 1}) {
      const float m = sign ? -mid : mid;
      const uint16_t s = sign ? 0x8000 : 0;
      ASSERT_EQ(FloatToHalf(m), s | even) << std::hex << i;
      ASSERT_EQ(FloatToHalf(std::nextafter(m, 0.0f)), s | lo) << std::hex << i;
      ASSERT_EQ(FloatToHalf(std::nextafter(m, sign ? -INFINITY : INFINITY)), s | hi)
          << std::hex << i;
    }
    ++ties;
  }
  EXPECT_EQ(ties, 0x7bff);
}

TEST(Fp16, OverflowUnderflowAndSpecials) {
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(65519.996f), 0x7bff);           // below the midpoint to 2^16
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7c00);             // the midpoint: ties to even = inf
  EXPECT_EQ(FloatToHalf(1e10f), 0x7c00);
  EXPECT_EQ(FloatToHalf(-1e10f), 0xfc00);
  EXPECT_EQ(FloatToHalf(INFINITY), 0x7c00);
  EXPECT_EQ(FloatToHalf(-INFINITY), 0xfc00);
  const float tiny = std::ldexp(1.0f, -25);             // half the smallest subnormal
  EXPECT_EQ(FloatToHalf(tiny), 0x0000);                 // tie to even: zero
  EXPECT_EQ(FloatToHalf(std::nextafter(tiny, 1.0f)), 0x0001);
  EXPECT_EQ(FloatToHalf(-std::nextafter(tiny, 1.0f)), 0x8001);
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -26)), 0x0000);
  EXPECT_EQ(FloatToHalf(-0.0f), 0x8000);
  EXPECT_EQ(FloatToHalf(1e-45f), 0x0000);               // float subnormal
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -14)), 0x0400);  // smallest normal half
  // NaN payloads keep the quiet bit; the sign is kept.
  const uint16_t qn = FloatToHalf(std::nanf(""));
  EXPECT_EQ(qn & 0x7e00, 0x7e00);
  uint32_t snan_bits = 0xff800001u;  // negative signaling NaN with a low payload
  float snan;
  std::memcpy(&snan, &snan_bits, 4);
  const uint16_t h = FloatToHalf(snan);
  EXPECT_EQ(h & 0xfc00, 0xfc00);
  EXPECT_NE(h & 0x3ff, 0) << "a payload lost in the shift must not turn NaN into infinity";
  EXPECT_EQ(Bits(HalfToFloat(0x7c00)), 0x7f800000u);
}

}  // namespace
}  // namespace outpost::testing
