#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "pipeline/postprocess/anomaly_stage.h"

namespace outpost::pipeline {
namespace {

TEST(AnomalyStage, MseAndMaeByHand) {
  const std::vector<float> in = {1, 2, 3, 4};
  const std::vector<float> out = {1, 0, 3, 5};  // differences 0, 2, 0, -1
  EXPECT_DOUBLE_EQ(ReconstructionError(in, out, ReconstructionMetric::kMse), 5.0 / 4);
  EXPECT_DOUBLE_EQ(ReconstructionError(in, out, ReconstructionMetric::kMae), 3.0 / 4);
}

TEST(AnomalyStage, FixedThreshold) {
  auto s = AnomalyStage::Create({ReconstructionMetric::kMae, 0.5f});
  ASSERT_TRUE(s.ok());
  const std::vector<float> in = {1, 2, 3, 4};
  const std::vector<float> close = {1, 2, 3, 5};  // MAE 0.25
  const std::vector<float> far = {1, 0, 3, 5};    // MAE 0.75
  auto a = s->Run(in, close);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->anomalous);
  EXPECT_FLOAT_EQ(a->error, 0.25f);
  EXPECT_FLOAT_EQ(a->threshold, 0.5f);
  auto b = s->Run(in, far);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->anomalous);
}

TEST(AnomalyStage, BaselineFromWarmUp) {
  AnomalyOptions o;
  o.metric = ReconstructionMetric::kMae;
  o.warmup_frames = 4;
  o.sigmas = 2.0f;
  auto s = AnomalyStage::Create(o);
  ASSERT_TRUE(s.ok());
  const std::vector<float> zero = {0, 0};
  // Warm-up errors 1, 2, 3, 4 (MAE of {e, e} against 0): mean 2.5, population std sqrt(1.25).
  for (float e : {1.0f, 2.0f, 3.0f, 4.0f}) {
    const std::vector<float> x = {e, -e};
    auto r = s->Run(x, zero);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->warming_up);
    EXPECT_FALSE(r->anomalous);
  }
  EXPECT_DOUBLE_EQ(s->baseline_mean(), 2.5);
  EXPECT_NEAR(s->baseline_std(), std::sqrt(1.25), 1e-12);
  const float limit = static_cast<float>(2.5 + 2 * std::sqrt(1.25));  // 4.736
  const std::vector<float> normal = {4.5f, 4.5f}, odd = {5.0f, 5.0f};
  auto a = s->Run(normal, zero);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->warming_up);
  EXPECT_FALSE(a->anomalous);
  EXPECT_FLOAT_EQ(a->threshold, limit);
  EXPECT_NEAR(a->z_score, (4.5 - 2.5) / std::sqrt(1.25), 1e-5);
  auto b = s->Run(odd, zero);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->anomalous);
  EXPECT_DOUBLE_EQ(s->baseline_mean(), 2.5);  // frozen after the warm-up
}

TEST(AnomalyStage, NaNIsAnomalousAndStaysOutOfTheBaseline) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> in = {nan, 1}, out = {0, 1}, ok = {1, 1};
  auto fixed = AnomalyStage::Create({ReconstructionMetric::kMse, 1.0f});
  ASSERT_TRUE(fixed.ok());
  auto r = fixed->Run(in, out);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->anomalous);
  AnomalyOptions o;
  o.warmup_frames = 2;
  auto learnt = AnomalyStage::Create(o);
  ASSERT_TRUE(learnt.ok());
  ASSERT_TRUE(learnt->Run(in, out).ok());
  EXPECT_EQ(learnt->frames_seen(), 0);
  ASSERT_TRUE(learnt->Run(ok, out).ok());
  EXPECT_EQ(learnt->frames_seen(), 1);
}

TEST(AnomalyStage, RejectsMismatchedSizesAndBadOptions) {
  auto s = AnomalyStage::Create({ReconstructionMetric::kMse, 1.0f});
  ASSERT_TRUE(s.ok());
  const std::vector<float> a = {1, 2}, b = {1};
  EXPECT_FALSE(s->Run(a, b).ok());
  EXPECT_FALSE(s->Run({}, {}).ok());
  EXPECT_FALSE(AnomalyStage::Create({ReconstructionMetric::kMse, -1.0f}).ok());
}

}  // namespace
}  // namespace outpost::pipeline
