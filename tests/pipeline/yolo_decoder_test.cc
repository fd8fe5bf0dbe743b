#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "pipeline/postprocess/yolo_decoder.h"

namespace outpost::pipeline {
namespace {

std::vector<Candidate> Decode(DetectionDecoder& d, std::vector<std::vector<float>> outputs,
                              float threshold = 0.5f) {
  CandidateBuffer buf;
  buf.Reserve(d.max_candidates());
  buf.set_filter({threshold, 0.0f, true, 64, 64});
  std::vector<std::span<const float>> spans(outputs.begin(), outputs.end());
  for (int i = 0; i < d.num_outputs(); ++i) EXPECT_EQ(outputs[i].size(), d.output_size(i));
  d.Decode(spans, buf);
  return {buf.view().begin(), buf.view().end()};
}

// One level, stride 8, a 2x2 grid, one anchor 16x24, two classes: [7, 2, 2] logits, all
// "nothing here" except cell (x 1, y 0).
std::vector<float> GridHead(float tw) {
  std::vector<float> t(7 * 4, -20.0f);
  auto at = [&](int channel) -> float& { return t[channel * 4 + 1]; };  // y 0, x 1
  at(0) = 0;   // tx: σ = 0.5
  at(1) = 0;   // ty
  at(2) = tw;  // tw
  at(3) = 0;   // th
  at(4) = 20;  // objectness: σ ~ 1
  at(5) = 0;   // class 0: 0.5
  at(6) = 2;   // class 1: σ(2) = 0.8808
  return t;
}

YoloGridOptions GridOptions(YoloBoxEncoding e) {
  YoloGridOptions o;
  o.levels = {{8, 2, 2, {{16.0f, 24.0f}}}};
  o.num_classes = 2;
  o.encoding = e;
  return o;
}

TEST(YoloGridDecoder, V5HandComputed) {
  auto d = MakeYoloGridDecoder(GridOptions(YoloBoxEncoding::kV5));
  ASSERT_TRUE(d.ok()) << d.message();
  const std::vector<Candidate> c = Decode(**d, {GridHead(0.0f)});
  ASSERT_EQ(c.size(), 1u);
  // cx = (2 * 0.5 - 0.5 + 1) * 8 = 12, cy = (2 * 0.5 - 0.5 + 0) * 8 = 4,
  // w = 16 * (2 * 0.5)^2 = 16, h = 24: (4, -8, 20, 16), clipped at the top edge.
  EXPECT_NEAR(c[0].box.x1, 4, 1e-4);
  EXPECT_EQ(c[0].box.y1, 0);
  EXPECT_NEAR(c[0].box.x2, 20, 1e-4);
  EXPECT_NEAR(c[0].box.y2, 16, 1e-4);
  EXPECT_EQ(c[0].class_id, 1);
  EXPECT_NEAR(c[0].score, 1.0f / (1.0f + std::exp(-2.0f)), 1e-6);
}

TEST(YoloGridDecoder, V3HandComputed) {
  auto d = MakeYoloGridDecoder(GridOptions(YoloBoxEncoding::kV3));
  ASSERT_TRUE(d.ok());
  const std::vector<Candidate> c = Decode(**d, {GridHead(std::log(2.0f))});
  ASSERT_EQ(c.size(), 1u);
  // cx = (0.5 + 1) * 8 = 12, w = 16 * 2 = 32: x from -4 (clipped to 0) to 28.
  EXPECT_EQ(c[0].box.x1, 0);
  EXPECT_NEAR(c[0].box.x2, 28, 1e-4);
}

TEST(YoloGridDecoder, MultiLabelGivesEveryClassAboveThreshold) {
  YoloGridOptions o = GridOptions(YoloBoxEncoding::kV5);
  o.multi_label = true;
  auto d = MakeYoloGridDecoder(o);
  ASSERT_TRUE(d.ok());
  const std::vector<Candidate> c = Decode(**d, {GridHead(0.0f)}, 0.4f);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].class_id, 0);
  EXPECT_EQ(c[1].class_id, 1);
  EXPECT_FLOAT_EQ(c[0].box.x2, c[1].box.x2);
}

TEST(YoloGridDecoder, NaNObjectnessIsIgnored) {
  auto d = MakeYoloGridDecoder(GridOptions(YoloBoxEncoding::kV5));
  ASSERT_TRUE(d.ok());
  std::vector<float> t = GridHead(0.0f);
  t[4 * 4 + 1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(Decode(**d, {t}).empty());
}

TEST(YoloFlatDecoder, RowsAndTransposedGiveTheSameBoxes) {
  // Three boxes (cx, cy, w, h, obj, class 0, class 1) in input pixels, probabilities.
  const std::vector<float> rows = {
      32, 32, 10, 20, 0.9f, 0.8f, 0.1f,  // 0.72 class 0
      60, 10, 20, 40, 0.9f, 0.1f, 0.9f,  // 0.81 class 1, crosses the right and top edges
      10, 10, 0,  5,  0.9f, 0.9f, 0.9f,  // zero width: dropped
  };
  YoloFlatOptions o;
  o.num_boxes = 3;
  o.num_classes = 2;
  auto d = MakeYoloFlatDecoder(o);
  ASSERT_TRUE(d.ok());
  const std::vector<Candidate> c = Decode(**d, {rows});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_FLOAT_EQ(c[0].box.x1, 27);
  EXPECT_FLOAT_EQ(c[0].box.y1, 22);
  EXPECT_NEAR(c[0].score, 0.72f, 1e-6);
  EXPECT_EQ(c[1].class_id, 1);
  EXPECT_FLOAT_EQ(c[1].box.x2, 64);
  EXPECT_FLOAT_EQ(c[1].box.y1, 0);

  std::vector<float> cols(rows.size());
  for (int i = 0; i < 3; ++i)
    for (int f = 0; f < 7; ++f) cols[f * 3 + i] = rows[i * 7 + f];
  o.transposed = true;
  auto t = MakeYoloFlatDecoder(o);
  ASSERT_TRUE(t.ok());
  const std::vector<Candidate> ct = Decode(**t, {cols});
  ASSERT_EQ(ct.size(), 2u);
  EXPECT_EQ(ct[1].box.x1, c[1].box.x1);
  EXPECT_EQ(ct[1].score, c[1].score);
}

TEST(YoloFlatDecoder, AnchorFreeLogits) {
  // YOLOv8-like: (cx, cy, w, h, class logits), no objectness.
  const std::vector<float> rows = {20, 20, 8, 8, -3.0f, 1.0f};
  YoloFlatOptions o;
  o.num_boxes = 1;
  o.num_classes = 2;
  o.objectness = false;
  o.activation = ScoreActivation::kSigmoid;
  auto d = MakeYoloFlatDecoder(o);
  ASSERT_TRUE(d.ok());
  const std::vector<Candidate> c = Decode(**d, {rows});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].class_id, 1);
  EXPECT_NEAR(c[0].score, 1.0f / (1.0f + std::exp(-1.0f)), 1e-6);
}

TEST(YoloDecoders, RejectBadOptions) {
  YoloGridOptions g = GridOptions(YoloBoxEncoding::kV5);
  g.levels[0].anchors = {{-1.0f, 4.0f}};
  EXPECT_FALSE(MakeYoloGridDecoder(g).ok());
  EXPECT_FALSE(MakeYoloGridDecoder(YoloGridOptions{}).ok());
  YoloFlatOptions f;
  f.num_boxes = 1;
  f.num_classes = 1;
  f.activation = ScoreActivation::kSoftmax;
  EXPECT_FALSE(MakeYoloFlatDecoder(f).ok());
}

}  // namespace
}  // namespace outpost::pipeline
