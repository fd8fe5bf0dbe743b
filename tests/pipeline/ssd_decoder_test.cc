#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "pipeline/postprocess/ssd_decoder.h"

namespace outpost::pipeline {
namespace {

TEST(SsdDecoder, HandComputedBox) {
  // Prior centred at (50, 40), 20 x 10; deltas (1, -2, ln 2 / 0.2, 0).
  const Prior p{50, 40, 20, 10};
  const float d[4] = {1.0f, -2.0f, std::log(2.0f) / 0.2f, 0.0f};
  const Box b = DecodeSsdBox(p, d, {0.1f, 0.1f, 0.2f, 0.2f}, false);
  // cx = 50 + 1 * 0.1 * 20 = 52, cy = 40 - 2 * 0.1 * 10 = 38, w = 40, h = 10.
  EXPECT_NEAR(b.x1, 32, 1e-4);
  EXPECT_NEAR(b.y1, 33, 1e-4);
  EXPECT_NEAR(b.x2, 72, 1e-4);
  EXPECT_NEAR(b.y2, 43, 1e-4);
  // The same deltas in TensorFlow's (dy, dx, dh, dw) order give the same box.
  const float yx[4] = {-2.0f, 1.0f, 0.0f, std::log(2.0f) / 0.2f};
  const Box c = DecodeSsdBox(p, yx, {0.1f, 0.1f, 0.2f, 0.2f}, true);
  EXPECT_FLOAT_EQ(c.x1, b.x1);
  EXPECT_FLOAT_EQ(c.y2, b.y2);
}

TEST(SsdDecoder, HugeScaleDeltaIsClampedNotInfinite) {
  const float d[4] = {0, 0, 1e6f, 1e6f};
  const Box b = DecodeSsdBox({0, 0, 16, 16}, d, {1, 1, 1, 1}, false);
  EXPECT_NEAR(b.x2 - b.x1, 1000.0f, 1e-2);  // 16 * exp(log(1000/16))
}

std::vector<Candidate> DecodeSsd(const SsdOptions& o, const std::vector<float>& deltas,
                           const std::vector<float>& scores, float threshold = 0.5f) {
  Expected<std::unique_ptr<DetectionDecoder>> d = MakeSsdDecoder(o);
  EXPECT_TRUE(d.ok()) << d.message();
  CandidateBuffer buf;
  buf.Reserve((*d)->max_candidates());
  buf.set_filter({threshold, 0.0f, true, 100, 100});
  const std::span<const float> outs[2] = {deltas, scores};
  (*d)->Decode(outs, buf);
  return {buf.view().begin(), buf.view().end()};
}

TEST(SsdDecoder, SkipsBackgroundAndKeepsEveryClassAboveThreshold) {
  SsdOptions o;
  o.priors = {{20, 20, 10, 10}, {60, 60, 10, 10}};
  o.num_classes = 3;
  const std::vector<float> deltas(8, 0.0f);
  const std::vector<float> scores = {0.9f, 0.05f, 0.05f,   // background wins: nothing
                                     0.0f, 0.6f, 0.7f};    // classes 1 and 2
  std::vector<Candidate> c = DecodeSsd(o, deltas, scores);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].class_id, 1);
  EXPECT_EQ(c[1].class_id, 2);
  EXPECT_FLOAT_EQ(c[1].box.x1, 55);
  o.multi_label = false;
  c = DecodeSsd(o, deltas, scores);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].class_id, 2);
}

TEST(SsdDecoder, SoftmaxOverLogits) {
  SsdOptions o;
  o.priors = {{20, 20, 10, 10}};
  o.num_classes = 2;
  o.activation = ScoreActivation::kSoftmax;
  const std::vector<float> c = {0.0f, std::log(3.0f)};  // softmax (0.25, 0.75)
  const std::vector<Candidate> r = DecodeSsd(o, std::vector<float>(4, 0.0f), c);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NEAR(r[0].score, 0.75f, 1e-6);
}

TEST(SsdDecoder, ClipsAtTheInputEdgesAndDropsEmptyAndNaNBoxes) {
  SsdOptions o;
  o.priors = {{0, 50, 20, 20},       // crosses the left edge: clipped to x1 = 0
              {150, 50, 20, 20},     // entirely right of the 100-wide input: dropped
              {50, 50, 20, 20},      // NaN delta: dropped
              {50, 50, 20, 20}};     // NaN score: dropped
  o.num_classes = 2;
  o.background_class = -1;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> deltas = {0, 0, 0, 0, 0, 0, 0, 0, nan, 0, 0, 0, 0, 0, 0, 0};
  const std::vector<float> scores = {0.9f, 0, 0.9f, 0, 0.9f, 0, nan, 0};
  const std::vector<Candidate> c = DecodeSsd(o, deltas, scores);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].box.x1, 0);
  EXPECT_EQ(c[0].box.x2, 10);
}

TEST(SsdDecoder, RejectsBadOptions) {
  SsdOptions o;
  o.num_classes = 2;
  EXPECT_FALSE(MakeSsdDecoder(o).ok());  // no priors
  o.priors = {{1, 1, 0, 1}};
  EXPECT_FALSE(MakeSsdDecoder(o).ok());  // zero-width prior
  o.priors = {{1, 1, 1, 1}};
  o.background_class = 2;
  EXPECT_FALSE(MakeSsdDecoder(o).ok());
}

}  // namespace
}  // namespace outpost::pipeline
