// Preprocessing beyond the stretching bilinear resize: area resizing against OpenCV's
// INTER_AREA (area_resize_fixtures.bin, written by make_area_fixtures.py), letterbox and
// centre-crop fits, and fused int8/uint8 quantization.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

#include "io/preprocess.h"

namespace outpost::io {
namespace {

PreprocessPlan Plan(int channels, int h, int w, opm::Layout layout = opm::Layout::NCHW) {
  PreprocessPlan p;
  p.layout = layout;
  p.color = channels == 1 ? opm::ColorFormat::GRAY : opm::ColorFormat::RGB;
  p.channels = channels;
  p.height = h;
  p.width = w;
  p.mean.assign(channels, 0.0f);
  p.std.assign(channels, 1.0f);
  return p;
}

std::vector<float> ApplyPlan(const ImageView& img, const PreprocessPlan& plan) {
  std::vector<float> out(plan.num_values(), -999.0f);
  Preprocess(img, plan, out.data());
  return out;
}

int32_t ReadI32(const char*& p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  p += 4;
  return v;
}

// The per-pixel bilinear formula Preprocess used before it worked in rows: the row-wise
// implementation must give bit-identical results for a stretching resize.
float PerPixelBilinear(const ImageView& img, int H, int W, int y, int x, int c) {
  auto tap = [](int o, int in, int out, int& i0, int& i1) {
    float s =
        (static_cast<float>(o) + 0.5f) * static_cast<float>(in) / static_cast<float>(out) - 0.5f;
    s = std::clamp(s, 0.0f, static_cast<float>(in - 1));
    i0 = static_cast<int>(s);
    i1 = std::min(i0 + 1, in - 1);
    return s - static_cast<float>(i0);
  };
  int y0, y1, x0, x1;
  const float fy = tap(y, img.height, H, y0, y1), fx = tap(x, img.width, W, x0, x1);
  auto px = [&](int yy, int xx) -> float {
    return img.pixels[(static_cast<size_t>(yy) * img.width + xx) * 3 + c];
  };
  const float top = px(y0, x0) + (px(y0, x1) - px(y0, x0)) * fx;
  const float bottom = px(y1, x0) + (px(y1, x1) - px(y1, x0)) * fx;
  return top + (bottom - top) * fy;
}

TEST(PreprocessStretchTest, RowWiseBilinearEqualsThePerPixelFormula) {
  std::vector<uint8_t> px(53 * 31 * 3);
  uint32_t s = 5;
  for (uint8_t& v : px) v = static_cast<uint8_t>((s = s * 1103515245u + 12345u) >> 24);
  const ImageView img{px.data(), 53, 31, PixelFormat::kRgb, 0};
  for (const auto& [h, w] : {std::pair{17, 24}, std::pair{64, 100}, std::pair{31, 53}}) {
    PreprocessPlan plan = Plan(3, h, w);
    plan.color = opm::ColorFormat::BGR;
    plan.value_scale = 1.0f / 255;
    plan.mean = {0.1f, 0.2f, 0.3f};
    plan.std = {0.7f, 0.8f, 0.9f};
    const std::vector<float> out = ApplyPlan(img, plan);
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const int src_c = 2 - c;  // BGR model input from an RGB frame
          const float v =
              (PerPixelBilinear(img, h, w, y, x, src_c) * plan.value_scale - plan.mean[c]) /
              plan.std[c];
          ASSERT_EQ(out[(static_cast<size_t>(c) * h + y) * w + x], v)
              << h << "x" << w << " " << c << "," << y << "," << x;
        }
  }
}

TEST(PreprocessAreaTest, MatchesOpenCvInterArea) {
  std::ifstream f(OUTPOST_AREA_FIXTURES, std::ios::binary);
  const std::vector<char> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_GT(b.size(), 16u) << "cannot read " << OUTPOST_AREA_FIXTURES;
  const char* p = b.data();
  const int h = ReadI32(p), w = ReadI32(p);
  const std::vector<uint8_t> pixels(p, p + static_cast<size_t>(h) * w * 3);
  p += pixels.size();
  const ImageView img{pixels.data(), w, h, PixelFormat::kRgb, 0};
  const int cases = ReadI32(p);
  ASSERT_EQ(cases, 5);
  for (int c = 0; c < cases; ++c) {
    const int oh = ReadI32(p), ow = ReadI32(p);
    std::vector<float> ref(static_cast<size_t>(oh) * ow * 3);
    std::memcpy(ref.data(), p, ref.size() * 4);
    p += ref.size() * 4;
    PreprocessPlan plan = Plan(3, oh, ow, opm::Layout::NHWC);
    plan.resize = ResizeMethod::kArea;
    const std::vector<float> out = ApplyPlan(img, plan);
    for (size_t i = 0; i < ref.size(); ++i)
      ASSERT_NEAR(out[i], ref[i], 1e-3) << oh << "x" << ow << " value " << i;
  }
  ASSERT_EQ(p, b.data() + b.size());
}

TEST(PreprocessAreaTest, IntegerFactorIsABoxAverage) {
  const std::vector<uint8_t> px = {0, 10, 20, 30, 40, 50, 60, 70};  // 4x2 gray
  PreprocessPlan plan = Plan(1, 1, 2);
  plan.resize = ResizeMethod::kArea;
  EXPECT_EQ(ApplyPlan({px.data(), 4, 2, PixelFormat::kGray, 0}, plan), (std::vector<float>{25, 45}));
}

TEST(PreprocessFitTest, LetterboxPadsAndCentres) {
  // 4x2 white frame into 4x4: scale 1, two pad rows above and below... one each side.
  const std::vector<uint8_t> white(8, 200);
  PreprocessPlan plan = Plan(1, 4, 4);
  plan.fit = FitMode::kLetterbox;
  plan.pad_value = 114;
  const std::vector<float> out = ApplyPlan({white.data(), 4, 2, PixelFormat::kGray, 0}, plan);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) EXPECT_EQ(out[y * 4 + x], y == 0 || y == 3 ? 114 : 200) << y << x;
  // NHWC colour with normalization: the pad value goes through the same formula.
  PreprocessPlan nhwc = Plan(3, 2, 2, opm::Layout::NHWC);
  nhwc.fit = FitMode::kLetterbox;
  nhwc.value_scale = 0.5f;
  nhwc.mean = {1, 2, 3};
  const std::vector<uint8_t> red = {250, 0, 0, 250, 0, 0};  // 2x1
  const std::vector<float> o = ApplyPlan({red.data(), 2, 1, PixelFormat::kRgb, 0}, nhwc);
  // Input 2x2, frame 2x1 at scale 1 -> scaled height 1, pad 0.5: row 0 is the frame.
  EXPECT_EQ(o, (std::vector<float>{124, -2, -3, 124, -2, -3, 56, 55, 54, 56, 55, 54}));
}

TEST(PreprocessFitTest, CenterCropKeepsTheMiddle) {
  // 6x2 gray frame, columns 0..5 valued 10*x: a 2x2 input keeps columns 2 and 3.
  std::vector<uint8_t> px;
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 6; ++x) px.push_back(static_cast<uint8_t>(10 * x));
  PreprocessPlan plan = Plan(1, 2, 2);
  plan.fit = FitMode::kCenterCrop;
  EXPECT_EQ(ApplyPlan({px.data(), 6, 2, PixelFormat::kGray, 0}, plan),
            (std::vector<float>{20, 30, 20, 30}));
  plan.resize = ResizeMethod::kArea;
  EXPECT_EQ(ApplyPlan({px.data(), 6, 2, PixelFormat::kGray, 0}, plan),
            (std::vector<float>{20, 30, 20, 30}));
}

template <typename Q>
void ExpectQuantizedEqualsQuantizedFloat(const PreprocessPlan& plan, const ImageView& img,
                                         float scale, int32_t zp) {
  const std::vector<float> f = ApplyPlan(img, plan);
  std::vector<Q> q(plan.num_values());
  PreprocessQuantized(img, plan, scale, zp, q.data());
  for (size_t i = 0; i < f.size(); ++i) {
    // io::Session::SetInputFromFloat's formula.
    int64_t v = static_cast<int64_t>(std::nearbyint(f[i] * (1.0f / scale))) + zp;
    v = std::clamp<int64_t>(v, std::numeric_limits<Q>::min(), std::numeric_limits<Q>::max());
    ASSERT_EQ(q[i], static_cast<Q>(v)) << i << " from " << f[i];
  }
}

TEST(PreprocessQuantizedTest, EqualsQuantizingTheFloatOutput) {
  std::vector<uint8_t> px(37 * 23 * 3);
  uint32_t s = 1;
  for (uint8_t& v : px) v = static_cast<uint8_t>((s = s * 1103515245u + 12345u) >> 24);
  const ImageView img{px.data(), 37, 23, PixelFormat::kRgb, 0};
  for (auto layout : {opm::Layout::NCHW, opm::Layout::NHWC}) {
    for (auto fit : {FitMode::kStretch, FitMode::kLetterbox, FitMode::kCenterCrop}) {
      for (auto resize : {ResizeMethod::kBilinear, ResizeMethod::kArea}) {
        PreprocessPlan plan = Plan(3, 16, 12, layout);
        plan.fit = fit;
        plan.resize = resize;
        plan.value_scale = 1.0f / 255;
        plan.mean = {0.485f, 0.456f, 0.406f};
        plan.std = {0.229f, 0.224f, 0.225f};
        ExpectQuantizedEqualsQuantizedFloat<int8_t>(plan, img, 0.0187f, -14);
        ExpectQuantizedEqualsQuantizedFloat<uint8_t>(plan, img, 0.0187f, 114);
        // A coarse scale: values saturate.
        ExpectQuantizedEqualsQuantizedFloat<int8_t>(plan, img, 0.5f, 0);
        // A zero point outside the type's range takes the general path.
        ExpectQuantizedEqualsQuantizedFloat<int8_t>(plan, img, 0.0187f, 200);
      }
    }
  }
}

TEST(PreprocessQuantizedTest, TiesRoundHalfToEven) {
  std::vector<uint8_t> px(256);
  for (int i = 0; i < 256; ++i) px[i] = static_cast<uint8_t>(i);
  const ImageView img{px.data(), 16, 16, PixelFormat::kGray, 0};
  const PreprocessPlan plan = Plan(1, 16, 16);
  std::vector<uint8_t> q(256);
  PreprocessQuantized(img, plan, 2.0f, 0, q.data());  // pixel / 2: every odd pixel is a tie
  EXPECT_EQ(q[1], 0);                                 // 0.5 -> 0
  EXPECT_EQ(q[3], 2);                                 // 1.5 -> 2
  EXPECT_EQ(q[5], 2);                                 // 2.5 -> 2
  EXPECT_EQ(q[255], 128);                             // 127.5 -> 128
  ExpectQuantizedEqualsQuantizedFloat<uint8_t>(plan, img, 2.0f, 0);
  ExpectQuantizedEqualsQuantizedFloat<int8_t>(plan, img, 2.0f, -128);
}

}  // namespace
}  // namespace outpost::io
