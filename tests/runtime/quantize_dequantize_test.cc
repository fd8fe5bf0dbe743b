// QUANTIZE and DEQUANTIZE: float <-> int8 / uint8 per tensor and per axis, int8 <-> uint8 and
// int8 requantization, int32 and float16 dequantization.
#include <gtest/gtest.h>

#include <limits>

#include "runtime/fp16.h"
#include "tests/runtime/int8_test_util.h"

namespace outpost::testing {
namespace {

using opm::DType;
using opm::OpCode;

Operand QuantOut(std::vector<int32_t> shape, DType dt, std::vector<float> scales,
                 std::vector<int64_t> zps, int axis) {
  Operand o = Operand::Out(std::move(shape), dt);
  o.scale = std::move(scales);
  o.zero_point = std::move(zps);
  o.axis = axis;
  return o;
}

// x / scale in float, rounded half away from zero, plus the zero point, saturated.
int QuantizeFloatRef(float x, float scale, int zp, int lo, int hi) {
  const float r = std::round(x / scale);
  if (std::isnan(r)) return std::clamp(zp, lo, hi);
  return static_cast<int>(std::clamp(static_cast<double>(r) + zp, static_cast<double>(lo),
                                     static_cast<double>(hi)));
}

TEST(Quantize, FloatToInt8AndUint8PerTensor) {
  std::vector<float> x = RandomFloats(500, 1, -6.0f, 6.0f);
  // Ties at +-k.5 steps, saturation, infinities and NaN.
  for (float v : {0.25f, -0.25f, 0.75f, -0.75f, 1000.0f, -1000.0f,
                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                  std::nanf("")})
    x.push_back(v);
  const int n = static_cast<int>(x.size());
  for (DType dt : {DType::INT8, DType::UINT8}) {
    const int lo = dt == DType::INT8 ? -128 : 0, hi = dt == DType::INT8 ? 127 : 255;
    const int zp = dt == DType::INT8 ? -3 : 130;
    SingleOpModel m(OpCode::QUANTIZE, {}, {Operand::F32({n}, x)},
                    {QuantOut({n}, dt, {0.5f}, {zp}, -1)});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    const std::vector<int> got =
        dt == DType::INT8 ? OutputInts<int8_t>(m, 0) : OutputInts<uint8_t>(m, 0);
    for (int i = 0; i < n; ++i)
      EXPECT_EQ(got[i], QuantizeFloatRef(x[i], 0.5f, zp, lo, hi)) << x[i];
    // Spot checks written out: 0.25 / 0.5 = 0.5 -> 1, -0.75 / 0.5 = -1.5 -> -2.
    EXPECT_EQ(got[500], zp + 1);
    EXPECT_EQ(got[503], zp - 2);
    EXPECT_EQ(got[n - 1], zp);   // NaN
    EXPECT_EQ(got[n - 3], hi);   // +inf
    EXPECT_EQ(got[n - 2], lo);   // -inf
  }
}

TEST(Quantize, FloatToInt8PerAxis) {
  // [2, 3, 4] quantized along axis 1 with three scales and zero points.
  const std::vector<float> x = RandomFloats(24, 2, -3.0f, 3.0f);
  const std::vector<float> s = {0.01f, 0.1f, 0.03f};
  const std::vector<int64_t> z = {0, -50, 20};
  SingleOpModel m(OpCode::QUANTIZE, {}, {Operand::F32({2, 3, 4}, x)},
                  {QuantOut({2, 3, 4}, DType::INT8, s, z, 1)});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  const auto got = OutputInts<int8_t>(m, 0);
  for (int i = 0; i < 24; ++i) {
    const int c = (i / 4) % 3;
    EXPECT_EQ(got[i], QuantizeFloatRef(x[i], s[c], static_cast<int>(z[c]), -128, 127)) << i;
  }
}

TEST(Quantize, Uint8AndInt8Convert) {
  std::vector<uint8_t> u(256);
  for (int i = 0; i < 256; ++i) u[i] = static_cast<uint8_t>(i);
  // UINT8 (zp 140) -> INT8 (same scale, zp 12): exactly q - 128.
  SingleOpModel to_i8(OpCode::QUANTIZE, {},
                      {Operand::Of<uint8_t>(DType::UINT8, {256}, u).Quantized(0.02f, 140)},
                      {QuantOut({256}, DType::INT8, {0.02f}, {12}, -1)});
  ASSERT_EQ(to_i8.Run(), Status::kOk) << to_i8.error();
  const auto i8 = OutputInts<int8_t>(to_i8, 0);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(i8[i], i - 128);
  // And back.
  std::vector<int8_t> s(256);
  for (int i = 0; i < 256; ++i) s[i] = static_cast<int8_t>(i - 128);
  SingleOpModel to_u8(OpCode::QUANTIZE, {}, {Int8({256}, s, {0.02f, 12})},
                      {QuantOut({256}, DType::UINT8, {0.02f}, {140}, -1)});
  ASSERT_EQ(to_u8.Run(), Status::kOk) << to_u8.error();
  const auto u8 = OutputInts<uint8_t>(to_u8, 0);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(u8[i], i);
}

TEST(Quantize, RequantizesInt8WithinOneStep) {
  std::vector<int8_t> s(256);
  for (int i = 0; i < 256; ++i) s[i] = static_cast<int8_t>(i - 128);
  const QParams in{0.037f, 5};
  for (const auto& [dt, out] : std::vector<std::pair<DType, QParams>>{
           {DType::INT8, {0.1f, -20}}, {DType::INT8, {0.011f, 3}}, {DType::UINT8, {0.05f, 128}}}) {
    SingleOpModel m(OpCode::QUANTIZE, {}, {Int8({256}, s, in)},
                    {QuantOut({256}, dt, {out.scale}, {out.zp}, -1)});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    const std::vector<int> got =
        dt == DType::INT8 ? OutputInts<int8_t>(m, 0) : OutputInts<uint8_t>(m, 0);
    const int lo = dt == DType::INT8 ? -128 : 0, hi = dt == DType::INT8 ? 127 : 255;
    int max_err = 0, unsaturated = 0;
    for (int i = 0; i < 256; ++i) {
      const int want = QuantizeRef(double(in.scale) * (s[i] - in.zp), out.scale, out.zp, lo, hi);
      max_err = std::max(max_err, std::abs(got[i] - want));
      unsaturated += want > lo && want < hi;
    }
    EXPECT_LE(max_err, 1);
    EXPECT_GT(unsaturated, 60);
    std::printf("[ int8 vs float ] %-44s max %d LSB\n",
                (std::string("requantize to ") + DTypeName(dt)).c_str(), max_err);
  }
}

TEST(Dequantize, IntegerTypesPerTensorAndPerAxis) {
  const auto q8 = RandomInt8(24, 3);
  {
    SingleOpModel m(OpCode::DEQUANTIZE, {}, {Int8({2, 3, 4}, q8, {0.25f, -3})},
                    {Operand::Out({2, 3, 4})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    const auto y = m.OutputF32(0);
    for (int i = 0; i < 24; ++i) EXPECT_EQ(y[i], 0.25f * (q8[i] + 3)) << i;
  }
  {
    // Per axis 2 (four channels).
    const std::vector<float> s = {0.5f, 0.25f, 2.0f, 0.125f};
    const std::vector<int64_t> z = {0, 1, -2, 3};
    SingleOpModel m(OpCode::DEQUANTIZE, {}, {Int8PerAxis({2, 3, 4}, q8, s, z, 2, false)},
                    {Operand::Out({2, 3, 4})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    const auto y = m.OutputF32(0);
    for (int i = 0; i < 24; ++i) EXPECT_EQ(y[i], s[i % 4] * (q8[i] - z[i % 4])) << i;
  }
  {
    std::vector<uint8_t> u = {0, 1, 128, 255};
    SingleOpModel m(OpCode::DEQUANTIZE, {},
                    {Operand::Of<uint8_t>(DType::UINT8, {4}, u).Quantized(0.5f, 128)},
                    {Operand::Out({4})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(m.OutputF32(0), (std::vector<float>{-64.0f, -63.5f, 0.0f, 63.5f}));
  }
  {
    // INT32 accumulators (ConvInteger results) with a scale and zero point.
    const std::vector<int32_t> a = {INT32_MIN, -1000, 0, 77, INT32_MAX};
    SingleOpModel m(OpCode::DEQUANTIZE, {},
                    {Operand::Of<int32_t>(DType::INT32, {5}, a).Quantized(0.001f, 7)},
                    {Operand::Out({5})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    const auto y = m.OutputF32(0);
    for (int i = 0; i < 5; ++i)
      EXPECT_EQ(y[i], static_cast<float>(static_cast<int64_t>(a[i]) - 7) * 0.001f) << i;
  }
}

TEST(Dequantize, Float16) {
  std::vector<uint16_t> h;
  for (uint32_t v = 0; v < 65536; v += 97) h.push_back(static_cast<uint16_t>(v));
  h.push_back(0x7c00);  // +inf
  h.push_back(0x8001);  // smallest negative subnormal
  const int n = static_cast<int>(h.size());
  SingleOpModel m(OpCode::DEQUANTIZE, {}, {Operand::Of<uint16_t>(DType::FLOAT16, {n}, h, true)},
                  {Operand::Out({n})});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  const auto y = m.OutputF32(0);
  for (int i = 0; i < n; ++i) {
    const float want = HalfToFloat(h[i]);
    if (std::isnan(want))
      EXPECT_TRUE(std::isnan(y[i])) << h[i];
    else
      EXPECT_EQ(y[i], want) << h[i];
  }
  EXPECT_EQ(y[n - 1], -std::ldexp(1.0f, -24));
}

TEST(QuantizeDequantize, RoundTripIsTheIdentityOnTheGrid) {
  // Every int8 value dequantized and quantized again with the same parameters comes back.
  std::vector<int8_t> s(256);
  for (int i = 0; i < 256; ++i) s[i] = static_cast<int8_t>(i - 128);
  for (const QParams p : {QParams{0.0137f, -19}, QParams{3.7f, 127}, QParams{1e-5f, 0}}) {
    SingleOpModel deq(OpCode::DEQUANTIZE, {}, {Int8({256}, s, p)}, {Operand::Out({256})});
    ASSERT_EQ(deq.Run(), Status::kOk) << deq.error();
    SingleOpModel q(OpCode::QUANTIZE, {}, {Operand::F32({256}, deq.OutputF32(0))},
                    {OutI8({256}, p)});
    ASSERT_EQ(q.Run(), Status::kOk) << q.error();
    EXPECT_EQ(q.Output<int8_t>(0), s) << p.scale;
  }
}

}  // namespace
}  // namespace outpost::testing
