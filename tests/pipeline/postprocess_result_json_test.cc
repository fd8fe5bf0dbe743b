#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "pipeline/postprocess/postprocess_result.h"

namespace outpost::pipeline {
namespace {

using nlohmann::json;

TEST(PostprocessResultJson, Classification) {
  const std::vector<ClassScore> c = {{3, 0.5f, "cat"}, {1, 0.25f, ""}};
  EXPECT_EQ(ToJson(ClassificationResult{c}),
            json::parse(R"({"type": "classification", "classes": [
                {"class": 3, "label": "cat", "score": 0.5}, {"class": 1, "score": 0.25}]})"));
}

TEST(PostprocessResultJson, Detection) {
  const std::vector<Detection> d = {{{1, 2, 3.5f, 4}, 0.75f, 0, "person"}};
  EXPECT_EQ(ToJson(DetectionResult{d}),
            json::parse(R"({"type": "detection", "detections": [
                {"class": 0, "label": "person", "score": 0.75, "box": [1, 2, 3.5, 4]}]})"));
}

TEST(PostprocessResultJson, AnomalyWithNaNBecomesNull) {
  AnomalyScore a;
  a.error = 0.5f;
  a.threshold = std::numeric_limits<float>::quiet_NaN();
  a.warming_up = true;
  a.z_score = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(ToJson(a), json::parse(R"({"type": "anomaly", "error": 0.5, "threshold": null,
                                       "anomalous": false, "warming_up": true,
                                       "z_score": null})"));
}

TEST(PostprocessResultJson, Keyword) {
  KeywordResult k;
  k.class_id = 2;
  k.score = 0.875f;
  k.label = "yes";
  k.detected = true;
  k.time_ms = 1200;
  EXPECT_EQ(ToJson(k), json::parse(R"({"type": "keyword", "class": 2, "label": "yes",
                                       "score": 0.875, "detected": true, "time_ms": 1200})"));
}

}  // namespace
}  // namespace outpost::pipeline
