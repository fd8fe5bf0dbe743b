// mAP on cases small enough to compute by hand.
#include "pipeline/eval/detection_metrics.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace outpost::pipeline {
namespace {

Detection Det(int c, float score, Box b) { return {b, score, c, {}}; }
TruthBox Truth(int c, Box b) { return {c, b.x1, b.y1, b.x2, b.y2}; }

const Box kA{0, 0, 10, 10};
const Box kB{20, 20, 40, 40};
const Box kFar{100, 100, 110, 110};

TEST(AveragePrecision, AllPointInterpolation) {
  // TP, FP, TP with 3 truth boxes: recall 1/3, 1/3, 2/3; precision 1, 1/2, 2/3, made monotone
  // to 1, 2/3, 2/3: AP = 1/3 * 1 + 1/3 * 2/3.
  EXPECT_NEAR(AveragePrecision({{0.9f, true}, {0.8f, false}, {0.7f, true}}, 3), 5.0 / 9, 1e-12);
  // Order is by score, not by position.
  EXPECT_NEAR(AveragePrecision({{0.7f, true}, {0.9f, true}, {0.8f, false}}, 3), 5.0 / 9, 1e-12);
  EXPECT_EQ(AveragePrecision({}, 2), 0.0);
  EXPECT_EQ(AveragePrecision({{0.5f, true}}, 0), 0.0);
}

TEST(DetectionMetrics, PerfectDetectionsScoreOne) {
  DetectionMetrics m(2);
  const std::vector<Detection> d = {Det(0, 0.9f, kA), Det(1, 0.8f, kB)};
  const std::vector<TruthBox> t = {Truth(0, kA), Truth(1, kB)};
  m.AddFrame(d, t);
  m.AddFrame(d, t);
  EXPECT_EQ(m.frames(), 2);
  EXPECT_EQ(m.truth_count(0), 2);
  EXPECT_DOUBLE_EQ(m.MeanAp(), 1.0);
  EXPECT_DOUBLE_EQ(m.MeanApCoco(), 1.0);
}

TEST(DetectionMetrics, FalsePositiveCostsOnlyWhenRankedAboveTheTruePositive) {
  DetectionMetrics high(1), low(1);
  const std::vector<TruthBox> t = {Truth(0, kA)};
  high.AddFrame(std::vector<Detection>{Det(0, 0.9f, kFar), Det(0, 0.8f, kA)}, t);
  low.AddFrame(std::vector<Detection>{Det(0, 0.7f, kFar), Det(0, 0.8f, kA)}, t);
  EXPECT_DOUBLE_EQ(high.ClassAp(0), 0.5);  // recall 1 reached at precision 1/2
  EXPECT_DOUBLE_EQ(low.ClassAp(0), 1.0);
}

TEST(DetectionMetrics, MissHalvesRecall) {
  DetectionMetrics m(1);
  m.AddFrame(std::vector<Detection>{Det(0, 0.9f, kA)},
             std::vector<TruthBox>{Truth(0, kA), Truth(0, kB)});
  EXPECT_DOUBLE_EQ(m.ClassAp(0), 0.5);
}

TEST(DetectionMetrics, DuplicateIsAFalsePositive) {
  // Each truth box matches once: the second detection of the same object is a false
  // positive; ranked below the match it does not lower AP, ranked above another object it does.
  DetectionMetrics m(1);
  m.AddFrame(std::vector<Detection>{Det(0, 0.9f, kA), Det(0, 0.8f, kA), Det(0, 0.7f, kB)},
             std::vector<TruthBox>{Truth(0, kA), Truth(0, kB)});
  // TP, FP, TP over 2 boxes: precision at recall 1 is 2/3.
  EXPECT_NEAR(m.ClassAp(0), 0.5 * 1 + 0.5 * 2.0 / 3, 1e-12);
}

TEST(DetectionMetrics, ClassMixUpIsAMissAndAFalsePositive) {
  DetectionMetrics m(2);
  m.AddFrame(std::vector<Detection>{Det(1, 0.9f, kA)}, std::vector<TruthBox>{Truth(0, kA)});
  EXPECT_TRUE(m.has_ap(0));
  EXPECT_FALSE(m.has_ap(1));
  EXPECT_DOUBLE_EQ(m.ClassAp(0), 0.0);
  EXPECT_DOUBLE_EQ(m.MeanAp(), 0.0);  // class 1 has no truth: not in the mean
}

TEST(DetectionMetrics, ClassesWithoutTruthAreLeftOutOfTheMean) {
  DetectionMetrics m(3);
  m.AddFrame(std::vector<Detection>{Det(2, 0.6f, kB), Det(0, 0.9f, kFar)},
             std::vector<TruthBox>{Truth(2, kB)});
  EXPECT_FALSE(m.has_ap(0));
  EXPECT_FALSE(m.has_ap(1));
  EXPECT_DOUBLE_EQ(m.MeanAp(), 1.0);
  DetectionMetrics empty(3);
  empty.AddFrame({}, {});
  EXPECT_DOUBLE_EQ(empty.MeanAp(), 0.0);
  EXPECT_DOUBLE_EQ(empty.MeanApCoco(), 0.0);
}

TEST(DetectionMetrics, CocoAveragesTheTenIouThresholds) {
  // IoU 0.72: a true positive at 0.50 ... 0.70 (5 thresholds), a false positive above.
  DetectionMetrics m(1);
  m.AddFrame(std::vector<Detection>{Det(0, 0.9f, {0, 0, 10, 7.2f})},
             std::vector<TruthBox>{Truth(0, kA)});
  EXPECT_DOUBLE_EQ(m.ClassAp(0, 0), 1.0);
  EXPECT_DOUBLE_EQ(m.ClassAp(0, 4), 1.0);
  EXPECT_DOUBLE_EQ(m.ClassAp(0, 5), 0.0);
  EXPECT_DOUBLE_EQ(m.MeanApCoco(), 0.5);
}

TEST(DetectionMetrics, EachDetectionTakesItsBestOverlap) {
  // The first detection overlaps both truth boxes (IoU 0.54 and 0.82) and takes the right one;
  // taking the first box it passes would leave the second detection only IoU 0.43 with the
  // right box, a false positive.
  DetectionMetrics m(1);
  const Box left{0, 0, 10, 10}, right{4, 0, 14, 10};
  m.AddFrame(std::vector<Detection>{Det(0, 0.9f, {3, 0, 13, 10}), Det(0, 0.8f, left)},
             std::vector<TruthBox>{Truth(0, left), Truth(0, right)});
  EXPECT_DOUBLE_EQ(m.ClassAp(0), 1.0);
}

TEST(DetectionMetrics, RanksDetectionsAcrossFrames) {
  // Frame 1: a false positive at 0.95; frame 2: a true positive at 0.5. Over both frames the
  // false positive ranks first, so precision at full recall is 1/2.
  DetectionMetrics m(1);
  m.AddFrame(std::vector<Detection>{Det(0, 0.95f, kFar)}, {});
  m.AddFrame(std::vector<Detection>{Det(0, 0.5f, kA)}, std::vector<TruthBox>{Truth(0, kA)});
  EXPECT_DOUBLE_EQ(m.ClassAp(0), 0.5);
}

TEST(DetectionMetrics, IgnoresOutOfRangeClassesAndNaNBoxes) {
  DetectionMetrics m(1);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  m.AddFrame(
      std::vector<Detection>{Det(5, 0.9f, kA), Det(-1, 0.9f, kA), Det(0, 0.8f, {nan, 0, 10, 10})},
      std::vector<TruthBox>{Truth(0, kA), Truth(7, kA)});
  EXPECT_EQ(m.truth_count(0), 1);
  EXPECT_DOUBLE_EQ(m.ClassAp(0), 0.0);
}

}  // namespace
}  // namespace outpost::pipeline
