// The keyword-spotting front end against the float64 NumPy reference of
// make_audio_fixtures.py (kws_features_fixture.bin), and its cost per 1 s window.
#include "pipeline/sources/kws_features.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

namespace outpost::pipeline {
namespace {

struct Fixture {
  std::vector<float> samples;
  int frames = 0;
  std::vector<float> log_mel, mfcc;
};

Fixture LoadFixture() {
  std::ifstream f(OUTPOST_KWS_FIXTURE, std::ios::binary);
  const std::vector<char> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  Fixture fx;
  int32_t n = 0;
  if (b.size() < 8) return fx;
  std::memcpy(&n, b.data(), 4);
  std::memcpy(&fx.frames, b.data() + 4, 4);
  const size_t need =
      8 + static_cast<size_t>(n) * 2 +
      static_cast<size_t>(fx.frames) * (KwsFeatures::kMelBins + KwsFeatures::kMfccs) * 4;
  if (b.size() != need) return Fixture{};
  const char* p = b.data() + 8;
  for (int i = 0; i < n; ++i, p += 2) {
    int16_t s;
    std::memcpy(&s, p, 2);
    fx.samples.push_back(static_cast<float>(s) / 32768.0f);
  }
  fx.log_mel.resize(static_cast<size_t>(fx.frames) * KwsFeatures::kMelBins);
  std::memcpy(fx.log_mel.data(), p, fx.log_mel.size() * 4);
  p += fx.log_mel.size() * 4;
  fx.mfcc.resize(static_cast<size_t>(fx.frames) * KwsFeatures::kMfccs);
  std::memcpy(fx.mfcc.data(), p, fx.mfcc.size() * 4);
  return fx;
}

TEST(KwsFeaturesTest, ShapeOfOneSecond) {
  EXPECT_EQ(KwsFeatures::NumFrames(16000), 49);
  EXPECT_EQ(KwsFeatures::NumFrames(480), 1);
  EXPECT_EQ(KwsFeatures::NumFrames(479), 0);
}

// Float32 against float64: log-mel and MFCC within 1e-4 (absolute; in the fixture log-mel
// spans -3.3..4.4 and MFCC -6.1..4.8).
TEST(KwsFeaturesTest, MatchesTheNumpyReference) {
  const Fixture fx = LoadFixture();
  ASSERT_EQ(fx.samples.size(), 16000u) << "cannot read " << OUTPOST_KWS_FIXTURE;
  ASSERT_EQ(fx.frames, 49);
  KwsFeatures features;
  std::vector<float> log_mel(fx.log_mel.size()), mfcc(fx.mfcc.size());
  features.LogMel(fx.samples.data(), 16000, log_mel.data());
  features.Mfcc(fx.samples.data(), 16000, mfcc.data());
  double worst_mel = 0, worst_mfcc = 0;
  for (size_t i = 0; i < log_mel.size(); ++i)
    worst_mel = std::max(worst_mel, static_cast<double>(std::abs(log_mel[i] - fx.log_mel[i])));
  for (size_t i = 0; i < mfcc.size(); ++i)
    worst_mfcc = std::max(worst_mfcc, static_cast<double>(std::abs(mfcc[i] - fx.mfcc[i])));
  EXPECT_LT(worst_mel, 1e-4);
  EXPECT_LT(worst_mfcc, 1e-4);
  std::printf("[ KWS ] worst |log-mel - ref| %.2e, |mfcc - ref| %.2e\n", worst_mel, worst_mfcc);
}

TEST(KwsFeaturesTest, SilenceGivesTheLogOffset) {
  KwsFeatures features;
  std::vector<float> zeros(16000, 0.0f), log_mel(49 * 40);
  features.LogMel(zeros.data(), 16000, log_mel.data());
  for (float v : log_mel) ASSERT_FLOAT_EQ(v, std::log(1e-6f));
}

// Reports the cost of one window's MFCCs (the budget is well under 1 ms); only a gross
// regression fails, since the machine may be busy.
TEST(KwsFeaturesTest, OneSecondWindowCost) {
  const Fixture fx = LoadFixture();
  ASSERT_EQ(fx.samples.size(), 16000u);
  KwsFeatures features;
  std::vector<float> mfcc(49 * 10);
  constexpr int kRuns = 50;
  double best = 1e9;
  for (int r = 0; r < kRuns; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    features.Mfcc(fx.samples.data(), 16000, mfcc.data());
    best = std::min(
        best,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::printf("[ KWS ] 49x10 MFCC of a 1 s window: %.3f ms (best of %d)\n", best, kRuns);
  EXPECT_LT(best, 20.0);
}

}  // namespace
}  // namespace outpost::pipeline
