#include "io/preprocess.h"

#include <gtest/gtest.h>

#include "flatbuffers/flatbuffers.h"

namespace outpost::io {
namespace {

// Holds a serialized InputSpec table so a test can pass a pointer to it.
class Spec {
 public:
  Spec(opm::Layout layout, opm::ColorFormat color, float value_scale, std::vector<float> mean,
       std::vector<float> std) {
    fbb_.Finish(opm::CreateInputSpecDirect(fbb_, 0, layout, color, value_scale, &mean, &std));
  }
  const opm::InputSpec* get() const {
    return flatbuffers::GetRoot<opm::InputSpec>(fbb_.GetBufferPointer());
  }

 private:
  flatbuffers::FlatBufferBuilder fbb_;
};

PreprocessPlan Plan(std::vector<int32_t> shape, const opm::InputSpec* spec = nullptr) {
  Expected<PreprocessPlan> p = MakePreprocessPlan(shape, spec);
  EXPECT_TRUE(p.ok()) << p.message();
  return p.ok() ? *p : PreprocessPlan();
}

std::vector<float> Apply(const ImageView& img, const PreprocessPlan& plan) {
  std::vector<float> out(plan.num_values(), -999.0f);
  Preprocess(img, plan, out.data());
  return out;
}

TEST(PreprocessPlanTest, InfersLayoutAndColourFromShape) {
  PreprocessPlan p = Plan({1, 3, 224, 160});
  EXPECT_EQ(p.layout, opm::Layout::NCHW);
  EXPECT_EQ(p.color, opm::ColorFormat::RGB);
  EXPECT_EQ(p.height, 224);
  EXPECT_EQ(p.width, 160);
  p = Plan({1, 224, 160, 3});
  EXPECT_EQ(p.layout, opm::Layout::NHWC);
  EXPECT_EQ(p.channels, 3);
  p = Plan({1, 1, 28, 28});
  EXPECT_EQ(p.color, opm::ColorFormat::GRAY);
  EXPECT_EQ(p.channels, 1);
  p = Plan({1, 28, 20});
  EXPECT_EQ(p.height, 28);
  EXPECT_EQ(p.width, 20);
  EXPECT_EQ(p.mean, std::vector<float>{0.0f});
  EXPECT_EQ(p.std, std::vector<float>{1.0f});
}

TEST(PreprocessPlanTest, SpecOverridesAndBroadcastsOneValue) {
  Spec spec(opm::Layout::NHWC, opm::ColorFormat::BGR, 1.0f / 255, {0.5f}, {0.25f});
  PreprocessPlan p = Plan({1, 8, 8, 3}, spec.get());
  EXPECT_EQ(p.layout, opm::Layout::NHWC);
  EXPECT_EQ(p.color, opm::ColorFormat::BGR);
  EXPECT_EQ(p.mean, (std::vector<float>{0.5f, 0.5f, 0.5f}));
  EXPECT_EQ(p.std, (std::vector<float>{0.25f, 0.25f, 0.25f}));
}

TEST(PreprocessPlanTest, RefusesInputsThatAreNotImages) {
  auto message = [](std::vector<int32_t> shape, const opm::InputSpec* spec = nullptr) {
    return MakePreprocessPlan(shape, spec).message();
  };
  EXPECT_NE(message({2, 3, 8, 8}).find("batch dimension must be 1"), std::string::npos);
  EXPECT_NE(message({1, 5, 8, 8}).find("5 channels"), std::string::npos);
  EXPECT_NE(message({10}).find("not an image input"), std::string::npos);
  EXPECT_NE(message({1, 10}).find("not an image input"), std::string::npos);
  EXPECT_NE(message({1, 1, 3, 8, 8}).find("not an image input"), std::string::npos);
  Spec gray(opm::Layout::NCHW, opm::ColorFormat::GRAY, 1, {}, {});
  EXPECT_NE(message({1, 3, 8, 8}, gray.get()).find("GRAY"), std::string::npos);
  Spec two_means(opm::Layout::NCHW, opm::ColorFormat::RGB, 1, {0.1f, 0.2f}, {});
  EXPECT_NE(message({1, 3, 8, 8}, two_means.get()).find("2 mean values for 3 channels"),
            std::string::npos);
  Spec zero_std(opm::Layout::NCHW, opm::ColorFormat::RGB, 1, {}, {0.0f});
  EXPECT_NE(message({1, 3, 8, 8}, zero_std.get()).find("zero std"), std::string::npos);
}

TEST(PreprocessTest, SameSizeGrayIsExactNormalization) {
  std::vector<uint8_t> px(16);
  for (int i = 0; i < 16; ++i) px[i] = static_cast<uint8_t>(i * 17);
  Spec spec(opm::Layout::NCHW, opm::ColorFormat::GRAY, 1.0f / 255, {0.5f}, {0.25f});
  const PreprocessPlan plan = Plan({1, 1, 4, 4}, spec.get());
  const std::vector<float> out = Apply({px.data(), 4, 4, PixelFormat::kGray, 0}, plan);
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ(out[i], (static_cast<float>(px[i]) * (1.0f / 255) - 0.5f) / 0.25f) << i;
}

TEST(PreprocessTest, BilinearUpscaleUsesHalfPixelCentres) {
  const std::vector<uint8_t> px = {0, 100, 200, 40};
  const std::vector<float> out = Apply({px.data(), 2, 2, PixelFormat::kGray, 0}, Plan({1, 4, 4}));
  // Source x for output columns: clamp((x + 0.5) / 2 - 0.5) = 0, 0.25, 0.75, 1.
  const std::vector<float> row0 = {0, 25, 75, 100};
  const std::vector<float> row1 = {50, 58.75f, 76.25f, 85};  // 3/4 of row 0 + 1/4 of row 3
  const std::vector<float> row3 = {200, 160, 80, 40};
  for (int x = 0; x < 4; ++x) {
    EXPECT_FLOAT_EQ(out[x], row0[x]);
    EXPECT_FLOAT_EQ(out[4 + x], row1[x]);
    EXPECT_FLOAT_EQ(out[12 + x], row3[x]);
  }
}

TEST(PreprocessTest, DownscaleAveragesNeighbours) {
  // 4x1 -> 2x1: source x = 0.5 and 2.5, the midpoints of each pair.
  const std::vector<uint8_t> px = {10, 20, 30, 50};
  const std::vector<float> out = Apply({px.data(), 4, 1, PixelFormat::kGray, 0}, Plan({1, 1, 2}));
  EXPECT_FLOAT_EQ(out[0], 15);
  EXPECT_FLOAT_EQ(out[1], 40);
}

TEST(PreprocessTest, ColourConversions) {
  // One pixel, pure red, then pure blue.
  const std::vector<uint8_t> rgb = {255, 0, 0, 0, 0, 255};
  const ImageView view{rgb.data(), 2, 1, PixelFormat::kRgb, 0};

  const std::vector<float> gray = Apply(view, Plan({1, 1, 2}));
  EXPECT_NEAR(gray[0], 0.299f * 255, 1e-3);
  EXPECT_NEAR(gray[1], 0.114f * 255, 1e-3);

  Spec bgr(opm::Layout::NCHW, opm::ColorFormat::BGR, 1, {}, {});
  const std::vector<float> b = Apply(view, Plan({1, 3, 1, 2}, bgr.get()));
  // NCHW planes B, G, R: the red pixel appears in plane 2, the blue one in plane 0.
  EXPECT_EQ(b, (std::vector<float>{0, 255, 0, 0, 255, 0}));

  // [1,1,2,3] alone would read as NCHW with one channel; the spec says NHWC.
  Spec nhwc_rgb(opm::Layout::NHWC, opm::ColorFormat::RGB, 1, {}, {});
  const std::vector<float> nhwc = Apply(view, Plan({1, 1, 2, 3}, nhwc_rgb.get()));
  EXPECT_EQ(nhwc, (std::vector<float>{255, 0, 0, 0, 0, 255}));

  // A BGR camera frame into an RGB model.
  const ImageView bgr_frame{rgb.data(), 2, 1, PixelFormat::kBgr, 0};
  EXPECT_EQ(Apply(bgr_frame, Plan({1, 1, 2, 3}, nhwc_rgb.get())),
            (std::vector<float>{0, 0, 255, 255, 0, 0}));

  const std::vector<uint8_t> g = {7, 9};
  EXPECT_EQ(Apply({g.data(), 2, 1, PixelFormat::kGray, 0}, Plan({1, 3, 1, 2})),
            (std::vector<float>{7, 9, 7, 9, 7, 9}));
}

TEST(PreprocessTest, PerChannelNormalizationAndAlphaIgnored) {
  const std::vector<uint8_t> rgba = {100, 150, 200, 0};
  Spec spec(opm::Layout::NCHW, opm::ColorFormat::RGB, 0.01f, {0.5f, 1.0f, 1.5f},
            {0.5f, 0.25f, 2.0f});
  const std::vector<float> out =
      Apply({rgba.data(), 1, 1, PixelFormat::kRgba, 0}, Plan({1, 3, 1, 1}, spec.get()));
  EXPECT_FLOAT_EQ(out[0], (100 * 0.01f - 0.5f) / 0.5f);
  EXPECT_FLOAT_EQ(out[1], (150 * 0.01f - 1.0f) / 0.25f);
  EXPECT_FLOAT_EQ(out[2], (200 * 0.01f - 1.5f) / 2.0f);
}

TEST(PreprocessTest, HonoursRowStride) {
  // 2x2 gray image stored with 3 bytes per row (one byte of padding).
  const std::vector<uint8_t> px = {1, 2, 99, 3, 4, 99};
  EXPECT_EQ(Apply({px.data(), 2, 2, PixelFormat::kGray, 3}, Plan({1, 2, 2})),
            (std::vector<float>{1, 2, 3, 4}));
}

}  // namespace
}  // namespace outpost::io
