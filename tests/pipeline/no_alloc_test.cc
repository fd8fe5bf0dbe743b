// Per-frame runs of the post-processing stages make no heap allocation once created (a
// real-time pipeline must not touch the allocator per frame). Counted by replacing malloc
// (tests/portability/allocation_counter.h), so this is its own binary and needs a build
// without sanitizers.
#include <gtest/gtest.h>

#include <vector>

#include "pipeline/postprocess/anomaly_stage.h"
#include "pipeline/postprocess/classification_stage.h"
#include "pipeline/postprocess/detection_stage.h"
#include "pipeline/postprocess/keyword_stage.h"
#include "tests/portability/allocation_counter.h"

namespace outpost::pipeline {
namespace {

TEST(PostprocessNoAlloc, StagesDoNotAllocatePerFrame) {
  // A flat YOLO head with 200 overlapping boxes over 3 classes, SSD with softmax, and the
  // other stages, each run once before counting (first-use work is allowed at setup).
  std::vector<float> rows;
  for (int i = 0; i < 200; ++i) {
    const float v[7] = {50.0f + i % 20, 50.0f + i % 7, 20, 30, 0.9f, 0.3f + (i % 5) * 0.1f,
                        0.5f};
    rows.insert(rows.end(), v, v + 7);
  }
  DetectionOptions yo;
  yo.yolo_flat = {200, 2, true, false, ScoreActivation::kNone, true};
  auto yolo = DetectionStage::Create(yo, 128, 128, {"a", "b"});
  ASSERT_TRUE(yolo.ok());
  DetectionOptions so;
  so.format = DetectionFormat::kSsd;
  so.ssd.num_classes = 3;
  so.ssd.activation = ScoreActivation::kSoftmax;
  for (int i = 0; i < 50; ++i) so.ssd.priors.push_back({30.0f + i, 40, 20, 20});
  auto ssd = DetectionStage::Create(so, 128, 128, {});
  ASSERT_TRUE(ssd.ok());
  std::vector<float> deltas(200, 0.1f), scores(150);
  for (size_t i = 0; i < scores.size(); ++i) scores[i] = static_cast<float>(i % 3);
  auto cls = ClassificationStage::Create({3}, 10, {"x"});
  ASSERT_TRUE(cls.ok());
  const std::vector<float> logits = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  auto kws = KeywordStage::Create({}, 4, {});
  ASSERT_TRUE(kws.ok());
  const std::vector<float> post = {0.1f, 0.1f, 0.7f, 0.1f};
  AnomalyOptions ao;
  ao.warmup_frames = 2;
  auto anomaly = AnomalyStage::Create(ao);
  ASSERT_TRUE(anomaly.ok());

  const std::span<const float> yolo_out[1] = {rows};
  const std::span<const float> ssd_out[2] = {deltas, scores};
  const FrameTransform frame = FrameTransform::Letterbox(640, 480, 128, 128);
  auto run_all = [&](int64_t t) {
    size_t n = 0;
    n += (*yolo)->Run(yolo_out, frame)->size();
    n += (*ssd)->Run(ssd_out, frame)->size();
    n += cls->Run(logits)->size();
    n += kws->Run(post, t)->detected;
    n += anomaly->Run(logits, logits)->anomalous;
    return n;
  };
  const size_t warm = run_all(0);
  EXPECT_GT(warm, 3u);
  testing::ArmAllocationCounter();
  for (int i = 1; i <= 5; ++i) run_all(i * 100);
  EXPECT_EQ(testing::DisarmAllocationCounter(), 0u);
}

}  // namespace
}  // namespace outpost::pipeline
