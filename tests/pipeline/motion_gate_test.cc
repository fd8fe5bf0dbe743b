#include "pipeline/runner/motion_gate.h"

#include <gtest/gtest.h>

namespace outpost::pipeline {
namespace {

// A gray 64 x 48 scene: background noise-free gradient with a 12 x 12 bright square at x.
Frame Scene(int square_x) {
  Frame f;
  f.width = 64;
  f.height = 48;
  f.format = io::PixelFormat::kGray;
  f.pixels.resize(64 * 48);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x) {
      const bool in_square = x >= square_x && x < square_x + 12 && y >= 18 && y < 30;
      f.pixels[y * 64 + x] = static_cast<uint8_t>(in_square ? 240 : 40 + x);
    }
  return f;
}

MotionGateConfig Config() {
  MotionGateConfig c;
  c.enabled = true;
  c.threshold = 0.02;
  c.min_changed = 0.01;
  return c;
}

TEST(MotionGate, StillSceneIsSkippedAfterTheFirstFrame) {
  MotionGate gate(Config());
  EXPECT_TRUE(gate.ShouldRun(Scene(10)));
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(gate.ShouldRun(Scene(10)));
    EXPECT_EQ(gate.last_changed(), 0.0);
  }
}

TEST(MotionGate, MovingSceneRuns) {
  MotionGate gate(Config());
  EXPECT_TRUE(gate.ShouldRun(Scene(0)));
  for (int x = 8; x < 48; x += 8) {
    EXPECT_TRUE(gate.ShouldRun(Scene(x))) << x;
    EXPECT_GT(gate.last_changed(), 0.01);
  }
}

TEST(MotionGate, SlowDriftAddsUpAgainstTheLastInferredFrame) {
  MotionGateConfig c = Config();
  c.min_changed = 0.05;
  MotionGate gate(c);
  EXPECT_TRUE(gate.ShouldRun(Scene(0)));
  int runs = 0;
  for (int x = 1; x <= 20; ++x) runs += gate.ShouldRun(Scene(x)) ? 1 : 0;
  EXPECT_GT(runs, 0);   // one-pixel steps each change little, but they accumulate
  EXPECT_LT(runs, 20);  // and not every step is inferred
}

TEST(MotionGate, MaxSkipForcesARefresh) {
  MotionGateConfig c = Config();
  c.max_skip = 3;
  MotionGate gate(c);
  std::vector<bool> runs;
  for (int i = 0; i < 9; ++i) runs.push_back(gate.ShouldRun(Scene(10)));
  EXPECT_EQ(runs, (std::vector<bool>{true, false, false, false, true, false, false, false, true}));
}

TEST(MotionGate, NewSizeAndSamplesAlwaysRun) {
  MotionGate gate(Config());
  EXPECT_TRUE(gate.ShouldRun(Scene(10)));
  Frame small = Scene(10);
  small.width = 32;
  small.height = 96;  // same bytes, other shape
  EXPECT_TRUE(gate.ShouldRun(small));
  Frame samples;
  samples.kind = Frame::Kind::kSamples;
  EXPECT_TRUE(gate.ShouldRun(samples));
  Frame broken = Scene(10);
  broken.pixels.resize(10);
  EXPECT_TRUE(gate.ShouldRun(broken));  // never reads past the buffer
}

}  // namespace
}  // namespace outpost::pipeline
