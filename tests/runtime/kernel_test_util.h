// Helpers shared by the reference-kernel tests: option builders, seeded random data and a
// comparison with a tolerance relative to the magnitude of the terms that formed each value.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tests/support/single_op_model.h"

namespace outpost::testing {

template <typename T>
opm::OpOptionsUnion Options(T table) {
  opm::OpOptionsUnion o;
  o.Set(std::move(table));
  return o;
}

inline std::vector<float> RandomFloats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

inline int64_t Product(const std::vector<int32_t>& shape) {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

// Expects |got - want| <= rtol * max(|want|, magnitude) elementwise, where `magnitude` is the
// sum of the absolute values of the terms that produced the value (so cancellation in a long
// sum is not mistaken for an error). An empty `magnitude` means |want|.
inline void ExpectClose(const std::vector<float>& got, const std::vector<double>& want,
                        const std::vector<double>& magnitude = {}, double rtol = 1e-5,
                        const std::string& what = "") {
  ASSERT_EQ(got.size(), want.size()) << what;
  int reported = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double scale = std::fabs(want[i]);
    if (!magnitude.empty() && magnitude[i] > scale) scale = magnitude[i];
    const double tol = rtol * (scale > 1e-30 ? scale : 1e-30);
    const double err = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(err <= tol) && reported++ < 5)
      ADD_FAILURE() << what << " element " << i << ": got " << got[i] << ", want " << want[i]
                    << " (tolerance " << tol << ")";
  }
}

inline std::vector<double> ToDouble(const std::vector<float>& v) {
  return std::vector<double>(v.begin(), v.end());
}

// The dtypes every data-movement kernel is registered for, as C++ types for typed tests.
template <typename T>
struct DTypeOf;
template <>
struct DTypeOf<float> {
  static constexpr opm::DType value = opm::DType::FLOAT32;
};
template <>
struct DTypeOf<int8_t> {
  static constexpr opm::DType value = opm::DType::INT8;
};
template <>
struct DTypeOf<uint8_t> {
  static constexpr opm::DType value = opm::DType::UINT8;
};
template <>
struct DTypeOf<int32_t> {
  static constexpr opm::DType value = opm::DType::INT32;
};
template <>
struct DTypeOf<int64_t> {
  static constexpr opm::DType value = opm::DType::INT64;
};
using MoveTypes = ::testing::Types<float, int8_t, uint8_t, int32_t, int64_t>;

// An operand of type T from small integer values (0..127 fit every type).
template <typename T>
Operand Typed(std::vector<int32_t> shape, const std::vector<int>& v, bool constant = false) {
  return Operand::Of<T>(DTypeOf<T>::value, std::move(shape), std::vector<T>(v.begin(), v.end()),
                        constant);
}

template <typename T>
Operand TypedOut(std::vector<int32_t> shape) {
  return Operand::Out(std::move(shape), DTypeOf<T>::value);
}

// 0, 1, 2, ... wrapped below 128 so that the values fit every dtype.
inline std::vector<int> Sequence(int64_t n, int start = 0) {
  std::vector<int> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<int>((start + i) % 128);
  return v;
}

template <typename T>
std::vector<int> OutputInts(const SingleOpModel& m, int i) {
  const std::vector<T> v = m.Output<T>(i);
  return std::vector<int>(v.begin(), v.end());
}

}  // namespace outpost::testing
