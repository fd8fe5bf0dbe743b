#include "io/image.h"

#include <gtest/gtest.h>

#include "tests/io/test_models.h"

#include "tests/support/stb_image_writer.h"

namespace outpost::io {
namespace {

class ImageTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("image"); }
  std::string dir_;
};

TEST_F(ImageTest, DecodesPngInEveryChannelCount) {
  const int w = 5, h = 3;
  for (int channels = 1; channels <= 4; ++channels) {
    std::vector<uint8_t> px(static_cast<size_t>(w * h * channels));
    for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 13 + channels);
    const std::string path = dir_ + "/c" + std::to_string(channels) + ".png";
    ASSERT_NE(stbi_write_png(path.c_str(), w, h, channels, px.data(), w * channels), 0);
    Expected<Image> img = DecodeImageFile(path);
    ASSERT_TRUE(img.ok()) << img.message();
    EXPECT_EQ(img->width, w);
    EXPECT_EQ(img->height, h);
    EXPECT_EQ(ChannelCount(img->format), channels);
    EXPECT_EQ(img->pixels, px);  // PNG is lossless
  }
}

TEST_F(ImageTest, DecodesBmpAndJpeg) {
  std::vector<uint8_t> px(8 * 8 * 3, 128);
  ASSERT_NE(stbi_write_bmp((dir_ + "/a.bmp").c_str(), 8, 8, 3, px.data()), 0);
  ASSERT_NE(stbi_write_jpg((dir_ + "/a.jpg").c_str(), 8, 8, 3, px.data(), 95), 0);
  for (const char* name : {"/a.bmp", "/a.jpg"}) {
    Expected<Image> img = DecodeImageFile(dir_ + name);
    ASSERT_TRUE(img.ok()) << img.message();
    EXPECT_EQ(img->format, PixelFormat::kRgb);
    EXPECT_NEAR(img->pixels[10], 128, 2);
  }
}

TEST_F(ImageTest, DecodesPgm) {
  const std::string pgm = "P5\n2 2\n255\n";
  std::vector<uint8_t> bytes(pgm.begin(), pgm.end());
  for (uint8_t v : {0, 64, 128, 255}) bytes.push_back(v);
  Expected<Image> img = DecodeImage(bytes, "x.pgm");
  ASSERT_TRUE(img.ok()) << img.message();
  EXPECT_EQ(img->format, PixelFormat::kGray);
  EXPECT_EQ(img->pixels, (std::vector<uint8_t>{0, 64, 128, 255}));
}

TEST_F(ImageTest, RefusesNonImages) {
  testing::WriteBytes(dir_ + "/notes.txt", {'h', 'e', 'l', 'l', 'o', '\n'});
  Expected<Image> img = DecodeImageFile(dir_ + "/notes.txt");
  ASSERT_FALSE(img.ok());
  EXPECT_EQ(img.message().rfind(dir_ + "/notes.txt: not a supported image", 0), 0u)
      << img.message();
  EXPECT_FALSE(LooksLikeImage(testing::ReadBytes(dir_ + "/notes.txt")));

  testing::WriteBytes(dir_ + "/empty.png", {});
  EXPECT_NE(DecodeImageFile(dir_ + "/empty.png").message().find("empty"), std::string::npos);
  EXPECT_NE(DecodeImageFile(dir_ + "/missing.png").message().find("no such file"),
            std::string::npos);
}

TEST_F(ImageTest, RefusesTruncatedPng) {
  std::vector<uint8_t> px(16 * 16, 7);
  ASSERT_NE(stbi_write_png((dir_ + "/t.png").c_str(), 16, 16, 1, px.data(), 16), 0);
  std::vector<uint8_t> bytes = testing::ReadBytes(dir_ + "/t.png");
  bytes.resize(bytes.size() / 2);
  Expected<Image> img = DecodeImage(bytes, "t.png");
  ASSERT_FALSE(img.ok());
  EXPECT_EQ(img.message().rfind("t.png: ", 0), 0u) << img.message();
}

}  // namespace
}  // namespace outpost::io
