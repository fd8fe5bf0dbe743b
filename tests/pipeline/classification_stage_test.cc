#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "pipeline/postprocess/classification_stage.h"

namespace outpost::pipeline {
namespace {

TEST(ClassificationStage, TopKWithLabelsFromProbabilities) {
  auto s = ClassificationStage::Create({2, SoftmaxMode::kAuto, 0.0f}, 4, {"a", "b", "c", "d"});
  ASSERT_TRUE(s.ok());
  const std::vector<float> p = {0.1f, 0.5f, 0.1f, 0.3f};
  auto r = s->Run(p);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].class_id, 1);
  EXPECT_EQ((*r)[0].label, "b");
  EXPECT_FLOAT_EQ((*r)[0].score, 0.5f);  // already probabilities: no softmax
  EXPECT_EQ((*r)[1].label, "d");
}

TEST(ClassificationStage, SoftmaxOnLogitsAndThreshold) {
  auto s = ClassificationStage::Create({5, SoftmaxMode::kAuto, 0.2f}, 3, {"x", "y"});
  ASSERT_TRUE(s.ok());
  const std::vector<float> logits = {std::log(6.0f), std::log(3.0f), 0.0f};  // 0.6, 0.3, 0.1
  auto r = s->Run(logits);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);  // 0.1 < min_score
  EXPECT_NEAR((*r)[0].score, 0.6f, 1e-6);
  EXPECT_NEAR((*r)[1].score, 0.3f, 1e-6);
  EXPECT_EQ((*r)[1].label, "y");
  // Fewer labels than classes: the third has none.
  auto t = ClassificationStage::Create({3, SoftmaxMode::kNever, 0.0f}, 3, {"x", "y"});
  ASSERT_TRUE(t.ok());
  const std::vector<float> third = {0.0f, 0.1f, 0.9f};
  auto u = t->Run(third);
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE((*u)[0].label.empty());
}

TEST(ClassificationStage, TiesAndNaN) {
  auto s = ClassificationStage::Create({3, SoftmaxMode::kNever, 0.0f}, 4, {});
  ASSERT_TRUE(s.ok());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> v = {nan, 0.4f, 0.4f, 0.2f};
  auto r = s->Run(v);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].class_id, 1);  // tie: lower index first
  EXPECT_EQ((*r)[1].class_id, 2);
  EXPECT_EQ((*r)[2].class_id, 3);  // NaN never ranks
}

TEST(ClassificationStage, RejectsWrongSizes) {
  EXPECT_FALSE(ClassificationStage::Create({0}, 3, {}).ok());
  EXPECT_FALSE(ClassificationStage::Create({1}, 0, {}).ok());
  auto s = ClassificationStage::Create({1}, 3, {});
  ASSERT_TRUE(s.ok());
  const std::vector<float> two = {1, 2};
  EXPECT_FALSE(s->Run(two).ok());
}

}  // namespace
}  // namespace outpost::pipeline
