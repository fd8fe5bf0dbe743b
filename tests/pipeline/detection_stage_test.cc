// The whole detection stage: decode -> threshold -> NMS -> frame mapping.
#include <gtest/gtest.h>

#include <vector>

#include "pipeline/postprocess/detection_stage.h"

namespace outpost::pipeline {
namespace {

DetectionOptions FlatOptions(int boxes) {
  DetectionOptions o;
  o.format = DetectionFormat::kYoloFlat;
  o.yolo_flat.num_boxes = boxes;
  o.yolo_flat.num_classes = 2;
  o.yolo_flat.objectness = false;
  o.score_threshold = 0.3f;
  o.nms.iou_threshold = 0.5;
  return o;
}

TEST(DetectionStage, NmsPerClassThenMapToTheFrame) {
  // (cx, cy, w, h, class 0, class 1) in a 100x100 input.
  const std::vector<float> rows = {
      50, 50, 20, 20, 0.9f, 0.0f,  // kept
      51, 51, 20, 20, 0.8f, 0.0f,  // overlaps the first, same class: suppressed
      51, 51, 20, 20, 0.0f, 0.7f,  // same place, other class: kept
      10, 10, 8,  8,  0.2f, 0.1f,  // below the threshold
  };
  auto s = DetectionStage::Create(FlatOptions(4), 100, 100, {"cat", "dog"});
  ASSERT_TRUE(s.ok()) << s.message();
  const std::span<const float> outs[1] = {rows};
  // Letterboxed from a 200x100 frame: scale 0.5, 25 rows of padding top and bottom.
  auto d = (*s)->Run(outs, FrameTransform::Letterbox(200, 100, 100, 100));
  ASSERT_TRUE(d.ok()) << d.message();
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[0].class_id, 0);
  EXPECT_EQ((*d)[0].label, "cat");
  EXPECT_FLOAT_EQ((*d)[0].box.x1, 80);  // (40 - 0) / 0.5
  EXPECT_FLOAT_EQ((*d)[0].box.y1, 30);  // (40 - 25) / 0.5
  EXPECT_FLOAT_EQ((*d)[0].box.y2, 70);
  EXPECT_EQ((*d)[1].label, "dog");
  EXPECT_FLOAT_EQ((*d)[1].score, 0.7f);
}

TEST(DetectionStage, MaxDetectionsAndWrongOutputs) {
  std::vector<float> rows;
  for (int i = 0; i < 30; ++i) {
    const float v[6] = {5.0f + 3 * i, 50, 2, 2, 0.5f + i * 0.01f, 0};
    rows.insert(rows.end(), v, v + 6);
  }
  DetectionOptions o = FlatOptions(30);
  o.nms.max_detections = 4;
  auto s = DetectionStage::Create(o, 100, 100, {});
  ASSERT_TRUE(s.ok());
  const std::span<const float> outs[1] = {rows};
  auto d = (*s)->Run(outs, FrameTransform::Identity(100, 100));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 4u);
  EXPECT_FLOAT_EQ((*d)[0].score, 0.79f);  // best first
  EXPECT_TRUE((*d)[0].label.empty());

  const std::span<const float> short_out[1] = {std::span<const float>(rows).first(10)};
  EXPECT_FALSE((*s)->Run(short_out, FrameTransform::Identity(100, 100)).ok());
  EXPECT_FALSE((*s)->Run({}, FrameTransform::Identity(100, 100)).ok());
}

TEST(DetectionStage, SsdEndToEnd) {
  DetectionOptions o;
  o.format = DetectionFormat::kSsd;
  o.ssd.priors = {{30, 30, 20, 20}, {32, 30, 20, 20}, {70, 70, 10, 10}};
  o.ssd.num_classes = 2;  // background + one
  o.score_threshold = 0.5f;
  auto s = DetectionStage::Create(o, 100, 100, {"background", "person"});
  ASSERT_TRUE(s.ok()) << s.message();
  const std::vector<float> deltas(12, 0.0f);
  const std::vector<float> scores = {0.1f, 0.9f, 0.2f, 0.8f, 0.6f, 0.4f};
  const std::span<const float> outs[2] = {deltas, scores};
  auto d = (*s)->Run(outs, FrameTransform::Identity(100, 100));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 1u);  // prior 1 suppressed by prior 0; prior 2 is background
  EXPECT_EQ((*d)[0].label, "person");
  EXPECT_FLOAT_EQ((*d)[0].box.x1, 20);
}

}  // namespace
}  // namespace outpost::pipeline
