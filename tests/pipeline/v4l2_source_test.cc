// The camera source without a camera: option checking, devices that are missing or are not
// cameras, and the conversion of captured buffers.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pipeline/sources/source_makers.h"
#include "pipeline/sources/v4l2_frame.h"

namespace outpost::pipeline {
namespace {

using nlohmann::json;

std::string OpenError(const json& options) { return MakeV4l2Source(options, "").message(); }

TEST(V4l2SourceTest, OptionErrors) {
  EXPECT_NE(
      OpenError({{"device", "/dev/video0"}, {"exposure", 3}}).find("unknown option 'exposure'"),
      std::string::npos);
  EXPECT_NE(OpenError({{"format", "h264"}}).find("'h264'"), std::string::npos);
  EXPECT_NE(OpenError({{"width", 0}}).find("width"), std::string::npos);
  EXPECT_NE(OpenError({{"fps", -1}}).find("fps"), std::string::npos);
  EXPECT_NE(OpenError({{"width", "wide"}}).find("'width' has the wrong type"), std::string::npos);
}

TEST(V4l2SourceTest, MissingDeviceAndNonVideoFile) {
  EXPECT_NE(OpenError({{"device", "/dev/video_missing"}}).find("/dev/video_missing: cannot open"),
            std::string::npos);
  const std::string null = OpenError({{"device", "/dev/null"}});
  EXPECT_NE(null.find("/dev/null: not a V4L2 video device"), std::string::npos) << null;
}

TEST(V4l2FrameTest, YuyvWithRowPaddingBecomesRgb) {
  // 2x2 YUYV with 2 padding bytes a row: a red pair over a gray pair.
  const std::vector<uint8_t> buf = {81, 90, 81, 240, 0, 0, 126, 128, 126, 128, 0, 0};
  Frame f;
  ASSERT_TRUE(V4l2BufferToFrame(V4l2Format::kYuyv, buf, 2, 2, 6, "cam", f).ok());
  EXPECT_EQ(f.format, io::PixelFormat::kRgb);
  ASSERT_EQ(f.pixels.size(), 12u);
  EXPECT_NEAR(f.pixels[0], 255, 1);
  EXPECT_NEAR(f.pixels[1], 0, 1);
  EXPECT_NEAR(f.pixels[3], 255, 1);
  EXPECT_EQ(f.pixels[6], 128);
  EXPECT_EQ(f.pixels[11], 128);
}

TEST(V4l2FrameTest, Rgb24AndGreyCopyRowsAndShortBuffersFail) {
  Frame f;
  const std::vector<uint8_t> rgb = {1, 2, 3, 4, 5, 6, 9, 9, 7, 8, 9, 10, 11, 12, 9, 9};
  ASSERT_TRUE(V4l2BufferToFrame(V4l2Format::kRgb24, rgb, 2, 2, 8, "cam", f).ok());
  EXPECT_EQ(f.pixels, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  ASSERT_TRUE(V4l2BufferToFrame(V4l2Format::kGrey, rgb, 4, 2, 0, "cam", f).ok());
  EXPECT_EQ(f.format, io::PixelFormat::kGray);
  EXPECT_EQ(f.pixels.size(), 8u);
  const std::string short_buffer =
      V4l2BufferToFrame(V4l2Format::kYuyv, rgb, 8, 2, 0, "cam", f).message();
  EXPECT_NE(short_buffer.find("cam: YUYV buffer of 16 bytes is too small for 8x2"),
            std::string::npos)
      << short_buffer;
  EXPECT_NE(V4l2BufferToFrame(V4l2Format::kMjpeg, rgb, 2, 2, 0, "cam", f).message().find("cam"),
            std::string::npos);
}

}  // namespace
}  // namespace outpost::pipeline
