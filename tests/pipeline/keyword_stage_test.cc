// Synthetic posterior streams through the keyword stage (micro_speech RecognizeCommands rules).
#include <gtest/gtest.h>

#include <cmath>
#include <utility>
#include <vector>

#include "pipeline/postprocess/keyword_stage.h"

namespace outpost::pipeline {
namespace {

const std::vector<std::string> kLabels = {"_silence_", "_unknown_", "yes", "no"};
const std::vector<float> kSilence = {0.9f, 0.05f, 0.03f, 0.02f};
const std::vector<float> kUnknown = {0.05f, 0.9f, 0.03f, 0.02f};
const std::vector<float> kYes = {0.02f, 0.03f, 0.9f, 0.05f};
const std::vector<float> kNo = {0.02f, 0.03f, 0.05f, 0.9f};

KeywordOptions Options(int window, int min_frames) {
  KeywordOptions o;
  o.window_frames = window;
  o.min_frames = min_frames;
  o.threshold = 0.7f;
  o.suppression_ms = 500;
  o.ignore = {0, 1};
  return o;
}

// Feeds one frame every 100 ms and returns the (time, label) of every event.
std::vector<std::pair<int64_t, std::string>> Events(KeywordStage& s,
                                                    const std::vector<std::vector<float>>& frames) {
  std::vector<std::pair<int64_t, std::string>> events;
  for (size_t i = 0; i < frames.size(); ++i) {
    Expected<KeywordResult> r = s.Run(frames[i], static_cast<int64_t>(i) * 100);
    EXPECT_TRUE(r.ok()) << r.message();
    if (r.ok() && r->detected) events.emplace_back(r->time_ms, std::string(r->label));
  }
  return events;
}

TEST(KeywordStage, SmoothingDelaysAndSilenceNeverFires) {
  auto s = KeywordStage::Create(Options(3, 2), 4, kLabels);
  ASSERT_TRUE(s.ok()) << s.message();
  std::vector<std::vector<float>> frames(5, kSilence);
  for (int i = 0; i < 6; ++i) frames.push_back(kYes);  // 500 .. 1000 ms
  for (int i = 0; i < 5; ++i) frames.push_back(kNo);   // 1100 .. 1500 ms
  // "yes" needs its average over 3 frames above 0.7: the third yes frame (700 ms). "no" is a
  // different word, so the refractory period does not hold it back: its third frame, 1300 ms.
  const auto events = Events(*s, frames);
  EXPECT_EQ(events, (std::vector<std::pair<int64_t, std::string>>{{700, "yes"}, {1300, "no"}}));
}

TEST(KeywordStage, RefractoryPeriodForTheSameWord) {
  auto s = KeywordStage::Create(Options(3, 2), 4, kLabels);
  ASSERT_TRUE(s.ok());
  const auto events = Events(*s, std::vector<std::vector<float>>(20, kYes));
  // First decision at the second frame (min_frames 2), then again only once more than 500 ms
  // have passed since the last event.
  EXPECT_EQ(events, (std::vector<std::pair<int64_t, std::string>>{
                        {100, "yes"}, {700, "yes"}, {1300, "yes"}, {1900, "yes"}}));
}

TEST(KeywordStage, AnIgnoredClassInBetweenLetsTheWordFireAgain) {
  auto s = KeywordStage::Create(Options(1, 1), 4, kLabels);
  ASSERT_TRUE(s.ok());
  const auto events = Events(*s, {kYes, kUnknown, kYes});
  EXPECT_EQ(events, (std::vector<std::pair<int64_t, std::string>>{{0, "yes"}, {200, "yes"}}));
}

TEST(KeywordStage, TooFewFramesReportScoreZero) {
  auto s = KeywordStage::Create(Options(4, 3), 4, kLabels);
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 2; ++i) {
    auto r = s->Run(kYes, i * 100);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->score, 0.0f);
    EXPECT_FALSE(r->detected);
  }
  auto r = s->Run(kYes, 200);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->detected);
  EXPECT_NEAR(r->score, 0.9f, 1e-6);
}

TEST(KeywordStage, LogitsAreSoftmaxedAndNaNNeverFires) {
  auto s = KeywordStage::Create(Options(1, 1), 4, kLabels);
  ASSERT_TRUE(s.ok());
  const std::vector<float> logits = {0.0f, 0.0f, 5.0f, 0.0f};
  auto r = s->Run(logits, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->detected);
  EXPECT_NEAR(r->score, std::exp(5.0f) / (std::exp(5.0f) + 3), 1e-5);
  // A NaN posterior poisons its class's average for the window; it never wins.
  const float nan = std::nanf("");
  const std::vector<float> broken = {nan, 0.05f, nan, 0.05f};
  auto u = s->Run(broken, 100);
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->detected);
}

TEST(KeywordStage, RejectsBadInput) {
  EXPECT_FALSE(KeywordStage::Create(Options(0, 1), 4, kLabels).ok());
  EXPECT_FALSE(KeywordStage::Create(Options(2, 3), 4, kLabels).ok());
  KeywordOptions bad = Options(2, 1);
  bad.ignore = {4};
  EXPECT_FALSE(KeywordStage::Create(bad, 4, kLabels).ok());
  auto s = KeywordStage::Create(Options(2, 1), 4, kLabels);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->Run(kYes, 1000).ok());
  EXPECT_FALSE(s->Run(kYes, 900).ok());  // time went backwards
  const std::vector<float> three = {0.1f, 0.2f, 0.7f};
  EXPECT_FALSE(s->Run(three, 1100).ok());
}

}  // namespace
}  // namespace outpost::pipeline
