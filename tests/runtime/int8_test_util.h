// Helpers for the int8 kernel tests: quantized operands, quantization written out
// independently of the runtime (round half away from zero, saturate), and the comparison of an
// int8 kernel with the float kernel run on the dequantized inputs.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/runtime/kernel_test_util.h"

namespace outpost::testing {

struct QParams {
  float scale = 1.0f;
  int zp = 0;
};

inline std::vector<int8_t> RandomInt8(size_t n, uint32_t seed, int lo = -128, int hi = 127) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<int8_t> v(n);
  for (int8_t& x : v) x = static_cast<int8_t>(dist(rng));
  return v;
}

inline std::vector<int32_t> RandomInt32(size_t n, uint32_t seed, int lo, int hi) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<int32_t> v(n);
  for (int32_t& x : v) x = dist(rng);
  return v;
}

// round(v / scale) + zp, half away from zero, saturated to [lo, hi].
inline int QuantizeRef(double v, double scale, int zp, int lo = -128, int hi = 127) {
  double q = std::round(v / scale) + zp;
  if (std::isnan(q)) q = zp;
  return static_cast<int>(std::clamp(q, static_cast<double>(lo), static_cast<double>(hi)));
}

template <typename T>
std::vector<float> Dequantize(const std::vector<T>& q, QParams p) {
  std::vector<float> v(q.size());
  for (size_t i = 0; i < q.size(); ++i)
    v[i] = static_cast<float>(static_cast<double>(p.scale) * (static_cast<int>(q[i]) - p.zp));
  return v;
}

// Per-channel along axis 0: element i belongs to channel i / (size / channels).
inline std::vector<float> DequantizePerChannel(const std::vector<int8_t>& q,
                                               const std::vector<float>& scales,
                                               const std::vector<int64_t>& zps) {
  std::vector<float> v(q.size());
  const size_t per = q.size() / scales.size();
  for (size_t i = 0; i < q.size(); ++i) {
    const size_t c = i / per;
    v[i] = static_cast<float>(static_cast<double>(scales[c]) * (q[i] - zps[c]));
  }
  return v;
}

inline Operand Int8(std::vector<int32_t> shape, const std::vector<int8_t>& v, QParams p,
                    bool constant = false) {
  return Operand::Of<int8_t>(opm::DType::INT8, std::move(shape), v, constant)
      .Quantized(p.scale, p.zp);
}

inline Operand Int8PerAxis(std::vector<int32_t> shape, const std::vector<int8_t>& v,
                           std::vector<float> scales, std::vector<int64_t> zps, int axis,
                           bool constant = true) {
  Operand o = Operand::Of<int8_t>(opm::DType::INT8, std::move(shape), v, constant);
  o.scale = std::move(scales);
  o.zero_point = std::move(zps);
  o.axis = axis;
  return o;
}

inline Operand Int32(std::vector<int32_t> shape, const std::vector<int32_t>& v,
                     bool constant = true) {
  return Operand::Of<int32_t>(opm::DType::INT32, std::move(shape), v, constant);
}

inline Operand OutI8(std::vector<int32_t> shape, QParams p) {
  return Operand::Out(std::move(shape), opm::DType::INT8).Quantized(p.scale, p.zp);
}

// Output parameters covering [min, max] of `v` (and 0), shrunk by `cover` so that the extremes
// saturate a little.
inline QParams ParamsCovering(const std::vector<float>& v, double cover = 0.95) {
  double lo = 0, hi = 0;
  for (float x : v) {
    lo = std::min(lo, static_cast<double>(x));
    hi = std::max(hi, static_cast<double>(x));
  }
  if (hi - lo < 1e-6) hi = lo + 1e-3;
  QParams p;
  p.scale = static_cast<float>((hi - lo) * cover / 255.0);
  p.zp = std::clamp(static_cast<int>(std::lround(-128 - lo * cover / p.scale)), -128, 127);
  return p;
}

// How an int8 result compares with the float kernel's result quantized to the same parameters.
struct LsbStats {
  int max_error = 0;
  size_t count = 0;
  size_t exact = 0;
  size_t unsaturated = 0;  // expected values strictly inside (-128, 127)
};

inline LsbStats CompareWithFloat(const std::vector<int8_t>& got, const std::vector<float>& ref,
                                 QParams out) {
  LsbStats s;
  EXPECT_EQ(got.size(), ref.size());
  s.count = std::min(got.size(), ref.size());
  for (size_t i = 0; i < s.count; ++i) {
    const int want = QuantizeRef(ref[i], out.scale, out.zp);
    const int err = std::abs(static_cast<int>(got[i]) - want);
    s.max_error = std::max(s.max_error, err);
    s.exact += err == 0;
    s.unsaturated += want > -128 && want < 127;
  }
  return s;
}

// Asserts the bound and that the comparison was meaningful (a quarter of the values or more
// not saturated: clamping activations saturate many by design), and
// prints the measured error so that the bound of each kernel can be read from the test log.
inline void ExpectWithinLsb(const LsbStats& s, int bound, const std::string& what) {
  EXPECT_LE(s.max_error, bound) << what;
  EXPECT_GT(s.count, 0u) << what;
  EXPECT_GE(s.unsaturated * 4, s.count) << what << ": mostly saturated, the test proves little";
  std::printf("[ int8 vs float ] %-44s max %d LSB, %zu of %zu exact\n", what.c_str(),
              s.max_error, s.exact, s.count);
}

}  // namespace outpost::testing
