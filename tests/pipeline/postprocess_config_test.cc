#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeline/postprocess/postprocess_config.h"

namespace outpost::pipeline {
namespace {

using nlohmann::json;

Expected<PostprocessConfig> Parse(const char* text, std::vector<std::string> labels = {}) {
  return ParsePostprocessConfig(json::parse(text), labels);
}

TEST(PostprocessConfig, Classification) {
  auto c = Parse(R"({"type": "classification", "top_k": 3, "softmax": "always",
                     "min_score": 0.1})");
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_EQ(c->type, PostprocessType::kClassification);
  EXPECT_EQ(c->classification.top_k, 3);
  EXPECT_EQ(c->classification.softmax, SoftmaxMode::kAlways);
  EXPECT_FLOAT_EQ(c->classification.min_score, 0.1f);
}

TEST(PostprocessConfig, YoloGridAndFlat) {
  auto g = Parse(R"({"type": "detection", "format": "yolo", "head": "grid", "encoding": "v3",
                     "num_classes": 80, "iou": 0.45, "score_threshold": 0.3,
                     "max_detections": 50, "levels": [
                       {"stride": 8, "grid": [80, 60], "anchors": [[10, 13], [16, 30]]}]})");
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(g->detection.format, DetectionFormat::kYoloGrid);
  EXPECT_EQ(g->detection.yolo_grid.encoding, YoloBoxEncoding::kV3);
  ASSERT_EQ(g->detection.yolo_grid.levels.size(), 1u);
  EXPECT_EQ(g->detection.yolo_grid.levels[0].grid_height, 60);
  EXPECT_EQ(g->detection.yolo_grid.levels[0].anchors[1].second, 30.0f);
  EXPECT_DOUBLE_EQ(g->detection.nms.iou_threshold, 0.45);
  EXPECT_EQ(g->detection.nms.max_detections, 50);

  auto f = Parse(R"({"type": "detection", "format": "yolo", "num_classes": 80,
                     "num_boxes": 8400, "objectness": false, "transposed": true})");
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_EQ(f->detection.format, DetectionFormat::kYoloFlat);
  EXPECT_TRUE(f->detection.yolo_flat.transposed);
}

TEST(PostprocessConfig, Ssd) {
  auto c = Parse(R"({"type": "detection", "format": "ssd", "num_classes": 3,
                     "priors": [[10, 10, 4, 4], [20, 20, 8, 8]], "variances": [0.1, 0.1, 0.2, 0.2],
                     "activation": "softmax", "yx_order": true})");
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_EQ(c->detection.format, DetectionFormat::kSsd);
  EXPECT_EQ(c->detection.ssd.priors.size(), 2u);
  EXPECT_EQ(c->detection.ssd.activation, ScoreActivation::kSoftmax);
  EXPECT_TRUE(c->detection.ssd.yx_order);
}

TEST(PostprocessConfig, AnomalyAndKeyword) {
  auto a = Parse(R"({"type": "anomaly", "metric": "mae",
                     "baseline": {"warmup_frames": 50, "sigmas": 4}})");
  ASSERT_TRUE(a.ok()) << a.message();
  EXPECT_EQ(a->anomaly.metric, ReconstructionMetric::kMae);
  EXPECT_EQ(a->anomaly.warmup_frames, 50);
  const std::vector<std::string> labels = {"_silence_", "_unknown_", "yes", "no"};
  auto k = Parse(R"({"type": "keyword", "window_frames": 10, "suppression_ms": 1000})", labels);
  ASSERT_TRUE(k.ok()) << k.message();
  EXPECT_EQ(k->keyword.ignore, (std::vector<int>{0, 1}));  // by micro_speech's names
  auto named = Parse(R"({"type": "keyword", "ignore": ["no", 0]})", labels);
  ASSERT_TRUE(named.ok()) << named.message();
  EXPECT_EQ(named->keyword.ignore, (std::vector<int>{3, 0}));
}

TEST(PostprocessConfig, ErrorsNameTheProblem) {
  EXPECT_NE(Parse(R"({"type": "classification", "topk": 3})").message().find("topk"),
            std::string::npos);
  EXPECT_NE(Parse(R"({"type": "detection", "format": "rcnn", "num_classes": 2})")
                .message()
                .find("rcnn"),
            std::string::npos);
  EXPECT_FALSE(Parse(R"({"type": "detection", "iou": "high", "num_classes": 2})").ok());
  EXPECT_FALSE(Parse(R"({"type": "anomaly"})").ok());
  EXPECT_FALSE(Parse(R"({"type": "keyword", "ignore": ["maybe"]})").ok());
  EXPECT_FALSE(Parse(R"({"top_k": 3})").ok());
}

}  // namespace
}  // namespace outpost::pipeline
