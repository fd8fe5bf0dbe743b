#include "pipeline/runner/frame_validator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace outpost::pipeline {
namespace {

Frame Image(int w, int h, io::PixelFormat format, uint8_t fill) {
  Frame f;
  f.width = w;
  f.height = h;
  f.format = format;
  f.pixels.assign(static_cast<size_t>(w) * h * io::ChannelCount(format), fill);
  return f;
}

Frame TexturedFrame(int w, int h) {
  Frame f = Image(w, h, io::PixelFormat::kRgb, 0);
  for (size_t i = 0; i < f.pixels.size(); ++i) f.pixels[i] = static_cast<uint8_t>((i * 37) % 251);
  return f;
}

Frame Samples(int rows, int channels, float value) {
  Frame f;
  f.kind = Frame::Kind::kSamples;
  f.rows = rows;
  f.channels = channels;
  f.samples.assign(static_cast<size_t>(rows) * channels, value);
  return f;
}

TEST(FrameValidator, AcceptsATexturedImage) {
  FrameValidator v(ValidationConfig{}, 0);
  EXPECT_EQ(v.Check(TexturedFrame(16, 8)), RejectReason::kNone);
}

TEST(FrameValidator, EachImageReason) {
  FrameValidator v(ValidationConfig{}, 0);
  EXPECT_EQ(v.Check(Image(8, 8, io::PixelFormat::kGray, 3)), RejectReason::kBlack);
  EXPECT_EQ(v.Check(Image(8, 8, io::PixelFormat::kRgb, 250)), RejectReason::kWhite);
  EXPECT_EQ(v.Check(Image(8, 8, io::PixelFormat::kRgb, 128)), RejectReason::kConstant);
  Frame almost = Image(8, 8, io::PixelFormat::kGray, 128);
  almost.pixels[0] = 129;  // stddev ~0.12: still a frozen picture
  EXPECT_EQ(v.Check(almost), RejectReason::kConstant);
  EXPECT_EQ(v.Check(Image(0, 8, io::PixelFormat::kGray, 100)), RejectReason::kWrongSize);
  Frame negative = TexturedFrame(8, 8);
  negative.width = -3;
  EXPECT_EQ(v.Check(negative), RejectReason::kWrongSize);
  Frame short_buffer = TexturedFrame(8, 8);
  short_buffer.pixels.resize(short_buffer.pixels.size() - 1);
  EXPECT_EQ(v.Check(short_buffer), RejectReason::kWrongSize);
  Frame wrong_format = TexturedFrame(8, 8);
  wrong_format.format = io::PixelFormat::kRgba;  // claims 4 channels, holds 3
  EXPECT_EQ(v.Check(wrong_format), RejectReason::kWrongSize);
}

TEST(FrameValidator, ReasonsCanBeTurnedOff) {
  ValidationConfig c;
  c.reject_black = c.reject_white = c.reject_constant = false;
  FrameValidator v(c, 0);
  EXPECT_EQ(v.Check(Image(8, 8, io::PixelFormat::kGray, 0)), RejectReason::kNone);
  EXPECT_EQ(v.Check(Image(8, 8, io::PixelFormat::kGray, 255)), RejectReason::kNone);
  EXPECT_EQ(v.Check(Image(8, 8, io::PixelFormat::kGray, 99)), RejectReason::kNone);
}

TEST(FrameValidator, Samples) {
  FrameValidator v(ValidationConfig{}, 6);
  EXPECT_EQ(v.Check(Samples(2, 3, 0.5f)), RejectReason::kNone);
  // A constant sensor row is legitimate (a still room); only images are checked for it.
  EXPECT_EQ(v.Check(Samples(3, 2, 0.0f)), RejectReason::kNone);
  Frame nan = Samples(2, 3, 0.5f);
  nan.samples[4] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(v.Check(nan), RejectReason::kNonFinite);
  Frame inf = Samples(2, 3, 0.5f);
  inf.samples[0] = -std::numeric_limits<float>::infinity();
  EXPECT_EQ(v.Check(inf), RejectReason::kNonFinite);
  EXPECT_EQ(v.Check(Samples(1, 3, 0.5f)), RejectReason::kWrongSize);  // the model takes 6
  Frame lying = Samples(2, 3, 0.5f);
  lying.rows = 5;
  EXPECT_EQ(v.Check(lying), RejectReason::kWrongSize);
  EXPECT_EQ(v.Check(Samples(0, 0, 0.0f)), RejectReason::kWrongSize);
}

TEST(FrameValidator, ReasonNames) {
  EXPECT_EQ(RejectReasonName(RejectReason::kBlack), "black");
  EXPECT_EQ(RejectReasonName(RejectReason::kNonFinite), "non_finite");
  EXPECT_EQ(RejectReasonName(RejectReason::kWrongSize), "wrong_size");
}

}  // namespace
}  // namespace outpost::pipeline
