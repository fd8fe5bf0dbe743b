#include "pipeline/runner/uplink_policy.h"

#include <gtest/gtest.h>

#include <vector>

namespace outpost::pipeline {
namespace {

PostprocessResult Top1(std::vector<ClassScore>& storage, int cls, float score) {
  storage = {{cls, score, ""}, {cls + 1, score / 2, ""}};
  return ClassificationResult{storage};
}

TEST(UplinkPolicy, EverySendsAll) {
  UplinkPolicy p(UplinkMode::kEvery);
  std::vector<ClassScore> s;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(p.ShouldSend(Top1(s, 1, 0.9f)));
}

TEST(UplinkPolicy, ClassificationTop1Change) {
  UplinkPolicy p(UplinkMode::kOnChange);
  std::vector<ClassScore> s;
  EXPECT_TRUE(p.ShouldSend(Top1(s, 1, 0.9f)));   // first result
  EXPECT_FALSE(p.ShouldSend(Top1(s, 1, 0.7f)));  // same class, other score
  EXPECT_TRUE(p.ShouldSend(Top1(s, 4, 0.8f)));
  EXPECT_FALSE(p.ShouldSend(Top1(s, 4, 0.8f)));
  EXPECT_TRUE(p.ShouldSend(Top1(s, 1, 0.8f)));
}

TEST(UplinkPolicy, DetectionClassCounts) {
  UplinkPolicy p(UplinkMode::kOnChange);
  std::vector<Detection> d = {{{0, 0, 10, 10}, 0.9f, 0, ""}, {{20, 20, 30, 30}, 0.8f, 2, ""}};
  EXPECT_TRUE(p.ShouldSend(DetectionResult{d}));
  d[0].box = {3, 3, 13, 13};  // moved: not news
  EXPECT_FALSE(p.ShouldSend(DetectionResult{d}));
  d.push_back({{40, 40, 50, 50}, 0.7f, 0, ""});  // a second object of class 0
  EXPECT_TRUE(p.ShouldSend(DetectionResult{d}));
  d[2].class_id = 2;  // same count, other classes
  EXPECT_TRUE(p.ShouldSend(DetectionResult{d}));
  d.clear();
  EXPECT_TRUE(p.ShouldSend(DetectionResult{d}));
  EXPECT_FALSE(p.ShouldSend(DetectionResult{d}));
}

TEST(UplinkPolicy, AnomalyCrossingTheThreshold) {
  UplinkPolicy p(UplinkMode::kOnChange);
  AnomalyScore a;
  a.error = 0.1f;
  EXPECT_TRUE(p.ShouldSend(a));
  a.error = 0.2f;
  EXPECT_FALSE(p.ShouldSend(a));
  a.anomalous = true;
  EXPECT_TRUE(p.ShouldSend(a));
  EXPECT_FALSE(p.ShouldSend(a));
  a.anomalous = false;
  EXPECT_TRUE(p.ShouldSend(a));
}

TEST(UplinkPolicy, KeywordOnlyWhenDetected) {
  UplinkPolicy p(UplinkMode::kOnChange);
  KeywordResult k;
  k.class_id = 2;
  EXPECT_FALSE(p.ShouldSend(k));
  k.detected = true;
  EXPECT_TRUE(p.ShouldSend(k));
  EXPECT_TRUE(p.ShouldSend(k));  // every detection is an event
}

}  // namespace
}  // namespace outpost::pipeline
