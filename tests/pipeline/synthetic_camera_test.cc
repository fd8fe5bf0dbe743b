// The synthetic camera: determinism, truth boxes that match the drawn pixels, every effect,
// option errors and the live clock.
#include "pipeline/sources/synthetic_camera.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

namespace outpost::pipeline {
namespace {

SyntheticCameraOptions Fast(uint64_t seed = 3) {
  SyntheticCameraOptions o;
  o.realtime = false;
  o.seed = seed;
  return o;
}

std::vector<Frame> Take(SyntheticCameraOptions o, int n) {
  SyntheticCamera camera(o);
  std::vector<Frame> frames(static_cast<size_t>(n));
  for (Frame& f : frames) EXPECT_TRUE(camera.Next(f).value());
  return frames;
}

bool SameTruth(const Frame& a, const Frame& b) {
  if (a.truth.size() != b.truth.size()) return false;
  for (size_t i = 0; i < a.truth.size(); ++i) {
    const TruthBox &x = a.truth[i], &y = b.truth[i];
    if (x.class_id != y.class_id || x.x1 != y.x1 || x.y1 != y.y1 || x.x2 != y.x2 || x.y2 != y.y2)
      return false;
  }
  return true;
}

TEST(SyntheticCamera, SameSeedSameFrames) {
  SyntheticCameraOptions o = Fast();
  o.noise = 10;
  o.lighting = 0.5;
  o.scene_frames = 4;
  const auto a = Take(o, 12), b = Take(o, 12);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].pixels, b[i].pixels) << "frame " << i;
    EXPECT_TRUE(SameTruth(a[i], b[i])) << "frame " << i;
  }
  o.seed = 4;
  EXPECT_NE(Take(o, 1)[0].pixels, a[0].pixels);
}

TEST(SyntheticCamera, FillsTheFrameAndEndsAfterFrames) {
  SyntheticCameraOptions o = Fast();
  o.width = 64;
  o.height = 48;
  o.frames = 3;
  SyntheticCamera camera(o);
  Frame f;
  for (uint64_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(camera.Next(f).value());
    EXPECT_EQ(f.sequence, i);
    EXPECT_EQ(f.kind, Frame::Kind::kImage);
    EXPECT_EQ(f.format, io::PixelFormat::kRgb);
    EXPECT_EQ(f.width, 64);
    EXPECT_EQ(f.height, 48);
    EXPECT_EQ(f.pixels.size(), 64u * 48 * 3);
    EXPECT_EQ(f.origin, "synthetic");
  }
  EXPECT_FALSE(camera.Next(f).value());
  EXPECT_EQ(camera.fps(), 0.0);
  EXPECT_FALSE(camera.live());
}

// With the same seed, a scene without objects has the same background: the pixels an object
// changes must all lie inside its truth box, and cover a good part of it.
TEST(SyntheticCamera, TruthBoxesHoldTheDrawnObjects) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    SyntheticCameraOptions with = Fast(seed), without = Fast(seed);
    with.min_objects = with.max_objects = 1;
    without.min_objects = without.max_objects = 0;
    const auto a = Take(with, 5), b = Take(without, 5);
    for (size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a[i].truth.size(), 1u);
      EXPECT_TRUE(b[i].truth.empty());
      const TruthBox& t = a[i].truth[0];
      ASSERT_GE(t.class_id, 0);
      ASSERT_LT(t.class_id, kSyntheticClassCount);
      EXPECT_GE(t.x1, 0);
      EXPECT_GE(t.y1, 0);
      EXPECT_LE(t.x2, a[i].width);
      EXPECT_LE(t.y2, a[i].height);
      ASSERT_GT(t.x2, t.x1);
      ASSERT_GT(t.y2, t.y1);
      int changed = 0, outside = 0;
      for (int y = 0; y < a[i].height; ++y)
        for (int x = 0; x < a[i].width; ++x) {
          const size_t at = (static_cast<size_t>(y) * a[i].width + x) * 3;
          if (std::equal(&a[i].pixels[at], &a[i].pixels[at] + 3, &b[i].pixels[at])) continue;
          ++changed;
          if (x + 0.5f < t.x1 || x + 0.5f > t.x2 || y + 0.5f < t.y1 || y + 0.5f > t.y2) ++outside;
        }
      EXPECT_EQ(outside, 0) << "seed " << seed << " frame " << i;
      // A triangle covers half its box, a circle pi/4; the top half of a triangle cut by the
      // frame's edge covers a quarter of its clipped box.
      EXPECT_GT(changed, 0.2 * (t.x2 - t.x1) * (t.y2 - t.y1)) << "seed " << seed;
    }
  }
}

TEST(SyntheticCamera, ObjectsMoveUnlessStill) {
  SyntheticCameraOptions o = Fast();
  o.min_objects = o.max_objects = 3;
  const auto moving = Take(o, 6);
  EXPECT_FALSE(SameTruth(moving[0], moving[5]));
  o.still = true;
  const auto still = Take(o, 6);
  EXPECT_TRUE(SameTruth(still[0], still[5]));
  EXPECT_EQ(still[0].pixels, still[5].pixels);
}

TEST(SyntheticCamera, EffectsChangePixelsButNotTheScene) {
  SyntheticCameraOptions clean = Fast();
  clean.min_objects = clean.max_objects = 4;
  const auto base = Take(clean, 8);
  for (int effect = 0; effect < 4; ++effect) {
    SyntheticCameraOptions o = clean;
    if (effect == 0) o.lighting = 0.5;
    if (effect == 1) o.noise = 10;
    if (effect == 2) o.blur = 2;
    if (effect == 3) o.occlusion = 0.3;
    const auto got = Take(o, 8);
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_TRUE(SameTruth(got[i], base[i])) << "effect " << effect << " frame " << i;
      EXPECT_NE(got[i].pixels, base[i].pixels) << "effect " << effect << " frame " << i;
    }
  }
}

TEST(SyntheticCamera, NoiseHasTheRequestedSigma) {
  SyntheticCameraOptions clean = Fast(), noisy = Fast();
  noisy.noise = 8;
  const Frame a = Take(clean, 1)[0], b = Take(noisy, 1)[0];
  double sum = 0, sum2 = 0;
  int n = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) {
    if (a.pixels[i] < 40 || a.pixels[i] > 215) continue;  // away from clipping
    const double d = static_cast<double>(b.pixels[i]) - a.pixels[i];
    sum += d, sum2 += d * d, ++n;
  }
  ASSERT_GT(n, 10000);
  EXPECT_NEAR(sum / n, 0.0, 0.3);
  EXPECT_NEAR(std::sqrt(sum2 / n), 8.0, 0.5);
}

TEST(SyntheticCamera, GlitchFramesAreConstantAndEmpty) {
  SyntheticCameraOptions o = Fast();
  o.glitch = 1.0;
  for (const Frame& f : Take(o, 6)) {
    EXPECT_TRUE(f.truth.empty());
    EXPECT_TRUE(
        std::all_of(f.pixels.begin(), f.pixels.end(), [&](uint8_t v) { return v == f.pixels[0]; }));
  }
  o.glitch = 0.2;
  int glitched = 0;
  for (const Frame& f : Take(o, 200))
    glitched +=
        std::all_of(f.pixels.begin(), f.pixels.end(), [&](uint8_t v) { return v == f.pixels[0]; });
  EXPECT_GT(glitched, 20);
  EXPECT_LT(glitched, 60);
}

TEST(SyntheticCamera, LiveCameraKeepsItsClock) {
  SyntheticCameraOptions o;
  o.fps = 200;
  o.width = 32;
  o.height = 32;
  SyntheticCamera camera(o);
  EXPECT_TRUE(camera.live());
  EXPECT_EQ(camera.fps(), 200.0);
  Frame f;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(camera.Next(f).value());
  // Frame 4 is due 20 ms after frame 0.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
  EXPECT_GE(f.capture_ns,
            std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count());
}

TEST(SyntheticCamera, ParsesOptionsAndNamesBadKeys) {
  auto ok = ParseSyntheticCameraOptions(nlohmann::json::parse(
      R"({"type": "synthetic", "width": 160, "height": 120, "fps": 15, "objects": [2, 4],
          "seed": 9, "noise": 5, "blur": 1, "still": true, "realtime": false})"));
  ASSERT_TRUE(ok.ok()) << ok.message();
  EXPECT_EQ(ok->width, 160);
  EXPECT_EQ(ok->min_objects, 2);
  EXPECT_EQ(ok->max_objects, 4);
  EXPECT_EQ(ok->seed, 9u);
  EXPECT_TRUE(ok->still);
  EXPECT_FALSE(ok->realtime);

  auto fails = [](const char* text, const char* want) {
    const auto r = ParseSyntheticCameraOptions(nlohmann::json::parse(text));
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.message().find(want), std::string::npos) << r.message();
  };
  fails(R"({"nosie": 3})", "unknown option 'nosie'");
  fails(R"({"width": "wide"})", "'width' has the wrong type");
  fails(R"({"width": 2})", "'width' must be in");
  fails(R"({"fps": 0})", "'fps' must be in");
  fails(R"({"frames": -1})", "'frames' must not be negative");
  fails(R"({"objects": [5, 2]})", "min <= max");
  fails(R"({"objects": "many"})", "'objects' must be");
  fails(R"({"type": "camera"})", "'type'");
  fails(R"([1, 2])", "JSON object");

  auto source = MakeSyntheticCamera(nlohmann::json::parse(R"({"type": "synthetic"})"), "");
  ASSERT_TRUE(source.ok()) << source.message();
  EXPECT_EQ((*source)->Describe(), "synthetic camera 320x240 @ 30 fps");
  EXPECT_FALSE(MakeSyntheticCamera(nlohmann::json::parse(R"({"blur": 99})"), "").ok());
}

}  // namespace
}  // namespace outpost::pipeline
