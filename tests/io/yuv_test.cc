#include "io/yuv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace outpost::io {
namespace {

// The BT.601 limited-range formula in double precision.
void Reference(int y, int u, int v, int out[3]) {
  const double l = 1.164 * (y - 16);
  const double rgb[3] = {l + 1.596 * (v - 128), l - 0.392 * (u - 128) - 0.813 * (v - 128),
                         l + 2.017 * (u - 128)};
  for (int c = 0; c < 3; ++c) out[c] = static_cast<int>(std::clamp(std::lround(rgb[c]), 0L, 255L));
}

std::vector<uint8_t> Noise(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  for (uint8_t& b : v) b = static_cast<uint8_t>((seed = seed * 1664525u + 1013904223u) >> 24);
  return v;
}

TEST(YuvTest, EveryLumaAndChromaCornerWithinOneLevel) {
  // 256 luma values against chroma extremes and neutral, 4:4:4.
  std::vector<uint8_t> y, u, v;
  for (int cu : {0, 128, 255})
    for (int cv : {0, 128, 255})
      for (int l = 0; l < 256; ++l) {
        y.push_back(static_cast<uint8_t>(l));
        u.push_back(static_cast<uint8_t>(cu));
        v.push_back(static_cast<uint8_t>(cv));
      }
  const int w = static_cast<int>(y.size());
  std::vector<uint8_t> rgb(y.size() * 3);
  Yuv444ToRgb(y.data(), u.data(), v.data(), w, 1, rgb.data());
  for (int x = 0; x < w; ++x) {
    int ref[3];
    Reference(y[x], u[x], v[x], ref);
    for (int c = 0; c < 3; ++c) ASSERT_NEAR(rgb[x * 3 + c], ref[c], 1) << x << " " << c;
  }
}

TEST(YuvTest, Yuv420SharesChromaOverTwoByTwoBlocksIncludingOddSizes) {
  const int w = 1031, h = 5;  // odd, and wider than the conversion's chunk
  const int cw = (w + 1) / 2, ch = (h + 1) / 2;
  const std::vector<uint8_t> y = Noise(static_cast<size_t>(w) * h, 1);
  const std::vector<uint8_t> u = Noise(static_cast<size_t>(cw) * ch, 2);
  const std::vector<uint8_t> v = Noise(static_cast<size_t>(cw) * ch, 3);
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
  Yuv420ToRgb(y.data(), u.data(), v.data(), w, h, rgb.data());
  for (int r = 0; r < h; ++r)
    for (int x = 0; x < w; ++x) {
      int ref[3];
      const size_t c = static_cast<size_t>(r / 2) * cw + x / 2;
      Reference(y[static_cast<size_t>(r) * w + x], u[c], v[c], ref);
      for (int k = 0; k < 3; ++k)
        ASSERT_NEAR(rgb[(static_cast<size_t>(r) * w + x) * 3 + k], ref[k], 1) << r << "," << x;
    }
}

TEST(YuvTest, YuyvPairsShareChroma) {
  const int w = 777, h = 3, stride = (w + 1) / 2 * 4 + 8;
  const std::vector<uint8_t> buf = Noise(static_cast<size_t>(stride) * h, 4);
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
  YuyvToRgb(buf.data(), w, h, rgb.data(), stride);
  for (int r = 0; r < h; ++r)
    for (int x = 0; x < w; ++x) {
      const uint8_t* pair = buf.data() + static_cast<size_t>(r) * stride + (x / 2) * 4;
      int ref[3];
      Reference(pair[(x % 2) * 2], pair[1], pair[3], ref);
      for (int k = 0; k < 3; ++k)
        ASSERT_NEAR(rgb[(static_cast<size_t>(r) * w + x) * 3 + k], ref[k], 1) << r << "," << x;
    }
}

}  // namespace
}  // namespace outpost::io
