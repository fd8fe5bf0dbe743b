#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "pipeline/postprocess/box.h"

namespace outpost::pipeline {
namespace {

TEST(Box, IoUOfSimpleCases) {
  EXPECT_FLOAT_EQ(IoU({0, 0, 10, 10}, {0, 0, 10, 10}), 1.0f);
  EXPECT_FLOAT_EQ(IoU({0, 0, 10, 10}, {5, 0, 15, 10}), 50.0f / 150.0f);
  EXPECT_FLOAT_EQ(IoU({0, 0, 10, 10}, {10, 0, 20, 10}), 0.0f);  // touching edges
  EXPECT_TRUE(std::isnan(IoU({3, 3, 3, 3}, {3, 3, 3, 3})));     // 0 / 0, as torchvision
}

TEST(Box, ClipToImage) {
  const Box b = ClipBox({-5, -2, 120, 40}, 100, 50);
  EXPECT_EQ(b.x1, 0);
  EXPECT_EQ(b.y1, 0);
  EXPECT_EQ(b.x2, 100);
  EXPECT_EQ(b.y2, 40);
}

TEST(FrameTransform, ResizeMapsInputPixelsToFramePixels) {
  // A 640x480 frame stretched to a 320x320 input.
  const FrameTransform t = FrameTransform::Resize(640, 480, 320, 320);
  const Box b = t.ToFrame({32, 64, 160, 320});
  EXPECT_FLOAT_EQ(b.x1, 64);
  EXPECT_FLOAT_EQ(b.y1, 96);
  EXPECT_FLOAT_EQ(b.x2, 320);
  EXPECT_FLOAT_EQ(b.y2, 480);
}

TEST(FrameTransform, LetterboxRemovesPaddingAndClipsToTheFrame) {
  // 640x480 into 320x320: scale 0.5, scaled 320x240, 40 rows of padding above and below.
  const FrameTransform t = FrameTransform::Letterbox(640, 480, 320, 320);
  EXPECT_FLOAT_EQ(t.scale_x, 0.5f);
  EXPECT_FLOAT_EQ(t.pad_x, 0);
  EXPECT_FLOAT_EQ(t.pad_y, 40);
  const Box b = t.ToFrame({10, 40, 100, 140});
  EXPECT_FLOAT_EQ(b.x1, 20);
  EXPECT_FLOAT_EQ(b.y1, 0);
  EXPECT_FLOAT_EQ(b.x2, 200);
  EXPECT_FLOAT_EQ(b.y2, 200);
  // A box reaching into the bottom padding is clipped at the frame's last row.
  const Box c = t.ToFrame({0, 250, 320, 300});
  EXPECT_FLOAT_EQ(c.y1, 420);
  EXPECT_FLOAT_EQ(c.y2, 480);
  EXPECT_FLOAT_EQ(c.x2, 640);
}

TEST(FrameTransform, LetterboxWithOddPadding) {
  // 100x50 into 64x64: scale 0.64, scaled 64x32, pad 16 rows each side.
  const FrameTransform t = FrameTransform::Letterbox(100, 50, 64, 64);
  EXPECT_FLOAT_EQ(t.pad_y, 16);
  // 30x30 into 64x48 (portrait fits by height): scale 1.6, scaled 48x48, pad_x 8.
  const FrameTransform u = FrameTransform::Letterbox(30, 30, 64, 48);
  EXPECT_FLOAT_EQ(u.scale_x, 1.6f);
  EXPECT_FLOAT_EQ(u.pad_x, 8);
  EXPECT_FLOAT_EQ(u.pad_y, 0);
}

}  // namespace
}  // namespace outpost::pipeline
