// io::ComputeGeometry, which preprocessing follows, against the FrameTransform the detection
// stage maps boxes back with: they must agree exactly.
#include <gtest/gtest.h>

#include "io/preprocess.h"
#include "pipeline/postprocess/box.h"

namespace outpost::pipeline {
namespace {

io::PreprocessPlan Plan(int w, int h, io::FitMode fit) {
  io::PreprocessPlan p;
  p.layout = opm::Layout::NCHW;
  p.color = opm::ColorFormat::RGB;
  p.channels = 3;
  p.width = w;
  p.height = h;
  p.mean = {0, 0, 0};
  p.std = {1, 1, 1};
  p.fit = fit;
  return p;
}

TEST(PreprocessGeometryTest, LetterboxAndStretchEqualFrameTransform) {
  const int frames[][2] = {{640, 480}, {480, 640}, {1920, 1080}, {333, 101}, {7, 500}, {416, 416}};
  const int inputs[][2] = {{224, 224}, {416, 416}, {320, 256}, {225, 223}};
  for (const auto& fr : frames) {
    for (const auto& in : inputs) {
      const io::PreprocessGeometry g =
          io::ComputeGeometry(Plan(in[0], in[1], io::FitMode::kLetterbox), fr[0], fr[1]);
      const FrameTransform t = FrameTransform::Letterbox(fr[0], fr[1], in[0], in[1]);
      EXPECT_EQ(g.scale_x, t.scale_x);
      EXPECT_EQ(g.scale_y, t.scale_y);
      EXPECT_EQ(g.pad_x, t.pad_x) << fr[0] << "x" << fr[1] << " -> " << in[0] << "x" << in[1];
      EXPECT_EQ(g.pad_y, t.pad_y);
      EXPECT_EQ(g.dst_x, static_cast<int>(t.pad_x));
      EXPECT_LE(g.dst_x + g.dst_width, in[0]);
      const io::PreprocessGeometry s =
          io::ComputeGeometry(Plan(in[0], in[1], io::FitMode::kStretch), fr[0], fr[1]);
      const FrameTransform r = FrameTransform::Resize(fr[0], fr[1], in[0], in[1]);
      EXPECT_EQ(s.scale_x, r.scale_x);
      EXPECT_EQ(s.scale_y, r.scale_y);
      EXPECT_EQ(s.pad_x, 0.0f);
    }
  }
}

TEST(PreprocessGeometryTest, CenterCropMapsTheCropOntoTheInput) {
  const io::PreprocessGeometry g =
      io::ComputeGeometry(Plan(224, 224, io::FitMode::kCenterCrop), 640, 480);
  EXPECT_EQ(g.src_x, 80);
  EXPECT_EQ(g.src_width, 480);
  EXPECT_EQ(g.src_height, 480);
  FrameTransform t{g.scale_x, g.scale_y, g.pad_x, g.pad_y, 640, 480};
  const Box b = t.ToFrame({0, 0, 224, 224});
  EXPECT_NEAR(b.x1, 80, 1e-3);
  EXPECT_NEAR(b.x2, 560, 1e-3);
  EXPECT_NEAR(b.y2, 480, 1e-3);
}

}  // namespace
}  // namespace outpost::pipeline
