// Comparing a model output written by `outpost run --output` with a reference .npy.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "io/npy.h"

namespace outpost::testing {

// Same shape, and every element within 1e-5 + 1e-4 |want| (float64 references read as float32).
inline void ExpectNpyClose(const std::string& got_path, const std::string& want_path) {
  io::NpyReadOptions f32;
  f32.float64_to_float32 = true;
  Expected<io::HostTensor> got = io::ReadNpy(got_path);
  Expected<io::HostTensor> want = io::ReadNpy(want_path, f32);
  ASSERT_TRUE(got.ok()) << got.message();
  ASSERT_TRUE(want.ok()) << want.message();
  ASSERT_EQ(got->shape, want->shape);
  const auto a = got->values<float>();
  const auto b = want->values<float>();
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_LE(std::fabs(a[i] - b[i]), 1e-5 + 1e-4 * std::fabs(b[i])) << "element " << i;
}

}  // namespace outpost::testing
