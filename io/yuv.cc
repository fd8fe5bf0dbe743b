#include "io/yuv.h"

#include <algorithm>
#include <cstddef>

namespace outpost::io {
namespace {

// BT.601 limited-range coefficients in 16.16 fixed point.
constexpr int32_t kY = 76309;    // 1.164
constexpr int32_t kRv = 104597;  // 1.596
constexpr int32_t kGu = 25675;   // 0.392
constexpr int32_t kGv = 53279;   // 0.813
constexpr int32_t kBu = 132201;  // 2.017
constexpr int32_t kHalf = 1 << 15;

// Written with conditionals rather than std::clamp so the loop below vectorizes with SSE2.
inline uint8_t Clamp8(int32_t v) {
  v >>= 16;
  v = v < 0 ? 0 : v;
  return static_cast<uint8_t>(v > 255 ? 255 : v);
}

constexpr int kChunk = 512;

// One row with full-resolution chroma, at most kChunk pixels: the arithmetic runs on planar
// R, G, B (independent iterations, vectorized), then one plain loop interleaves them.
void Row444(const uint8_t* __restrict y, const uint8_t* __restrict u, const uint8_t* __restrict v,
            int width, uint8_t* rgb) {
  uint8_t r[kChunk], g[kChunk], b[kChunk];
  for (int x = 0; x < width; ++x) {
    const int32_t luma = (y[x] - 16) * kY + kHalf;
    const int32_t cu = u[x] - 128, cv = v[x] - 128;
    r[x] = Clamp8(luma + kRv * cv);
    g[x] = Clamp8(luma - kGu * cu - kGv * cv);
    b[x] = Clamp8(luma + kBu * cu);
  }
  for (int x = 0; x < width; ++x) {
    rgb[3 * x + 0] = r[x];
    rgb[3 * x + 1] = g[x];
    rgb[3 * x + 2] = b[x];
  }
}

// Horizontally subsampled chroma is first widened into full-resolution rows, so the
// conversion itself stays the simple independent loop above.

void Row420(const uint8_t* y, const uint8_t* u, const uint8_t* v, int width, uint8_t* rgb) {
  uint8_t uu[kChunk], vv[kChunk];
  for (int x0 = 0; x0 < width; x0 += kChunk) {
    const int n = std::min(kChunk, width - x0);
    for (int i = 0; i < n; ++i) {
      uu[i] = u[(x0 + i) >> 1];
      vv[i] = v[(x0 + i) >> 1];
    }
    Row444(y + x0, uu, vv, n, rgb + static_cast<size_t>(x0) * 3);
  }
}

}  // namespace

void Yuv420ToRgb(const uint8_t* y, const uint8_t* u, const uint8_t* v, int width, int height,
                 uint8_t* rgb) {
  const size_t cw = static_cast<size_t>(width + 1) / 2;
  for (int r = 0; r < height; ++r)
    Row420(y + static_cast<size_t>(r) * width, u + (r >> 1) * cw, v + (r >> 1) * cw, width,
           rgb + static_cast<size_t>(r) * width * 3);
}

void Yuv444ToRgb(const uint8_t* y, const uint8_t* u, const uint8_t* v, int width, int height,
                 uint8_t* rgb) {
  for (int r = 0; r < height; ++r) {
    const size_t o = static_cast<size_t>(r) * width;
    for (int x0 = 0; x0 < width; x0 += kChunk)
      Row444(y + o + x0, u + o + x0, v + o + x0, std::min(kChunk, width - x0), rgb + (o + x0) * 3);
  }
}

void YuyvToRgb(const uint8_t* yuyv, int width, int height, uint8_t* rgb, int stride) {
  const size_t row_bytes =
      stride > 0 ? static_cast<size_t>(stride) : static_cast<size_t>(width + 1) / 2 * 4;
  uint8_t yy[kChunk], uu[kChunk], vv[kChunk];
  for (int r = 0; r < height; ++r) {
    const uint8_t* src = yuyv + r * row_bytes;
    uint8_t* dst = rgb + static_cast<size_t>(r) * width * 3;
    for (int x0 = 0; x0 < width; x0 += kChunk) {
      const int n = std::min(kChunk, width - x0);
      for (int i = 0; i < n; ++i) {
        const uint8_t* pair = src + static_cast<size_t>((x0 + i) >> 1) * 4;
        yy[i] = src[static_cast<size_t>(x0 + i) * 2];
        uu[i] = pair[1];
        vv[i] = pair[3];
      }
      Row444(yy, uu, vv, n, dst + static_cast<size_t>(x0) * 3);
    }
  }
}

}  // namespace outpost::io
