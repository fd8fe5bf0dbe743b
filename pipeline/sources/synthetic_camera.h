// A camera that renders its own scene: coloured circles, squares and triangles moving with
// bounce over a textured background, each frame with its ground-truth boxes (Frame::truth), so
// a detector can be trained on exactly these frames and scored (mAP) on live ones.
//
// Everything is a function of the seed: the same options give the same frames, pixel for
// pixel, on every machine (a private generator, no std:: distributions). Optional effects test
// a pipeline's robustness: lighting drift and jumps, sensor noise, blur, an occluding bar, a
// still scene (motion gate) and glitched frames (input validation). docs/synthetic-camera.md
// lists the options and the truth rule.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "common/expected.h"
#include "pipeline/core/source.h"

namespace outpost::pipeline {

// Shape classes, in class-id order.
enum class SyntheticShape : uint8_t { kCircle, kSquare, kTriangle };
inline constexpr int kSyntheticClassCount = 3;
// "circle", "square", "triangle"
const char* SyntheticShapeName(int class_id);

struct SyntheticCameraOptions {
  int width = 320, height = 240;
  double fps = 30;
  bool realtime = true;  // false: a frame whenever Next is called, fps() is 0
  uint64_t frames = 0;   // 0: endless
  uint64_t seed = 1;
  int min_objects = 1, max_objects = 5;  // each scene draws its count from this range
  uint64_t scene_frames = 0;  // a new scene (background, objects) every N frames; 0: never
  // Robustness effects; 0 is off.
  double lighting = 0;   // brightness drift amplitude and jump size, as a gain fraction
  double noise = 0;      // Gaussian sensor noise sigma, in 8-bit levels
  int blur = 0;          // box blur radius in pixels (two passes: close to a Gaussian)
  double occlusion = 0;  // width of the moving occluding bar, as a fraction of the frame width
  bool still = false;    // objects do not move
  double glitch = 0;     // probability that a frame is all black or one constant grey
};

// Parses the "source" object of a pipeline file ({"type": "synthetic", ...}); unknown keys and
// out-of-range values are errors naming the key.
Expected<SyntheticCameraOptions> ParseSyntheticCameraOptions(const nlohmann::json& options);

class SyntheticCamera final : public Source {
 public:
  // `options` within the ranges ParseSyntheticCameraOptions accepts.
  explicit SyntheticCamera(const SyntheticCameraOptions& options);

  Expected<bool> Next(Frame& frame) override;
  std::string Describe() const override;
  double fps() const override { return o_.realtime ? o_.fps : 0.0; }
  bool has_truth() const override { return true; }

  const SyntheticCameraOptions& options() const { return o_; }

 private:
  struct Object {
    SyntheticShape shape;
    float cx, cy, half;  // centre and half size in pixels
    float vx, vy;        // pixels per frame
    uint8_t rgb[3];
  };

  void NewScene();
  void Move();
  void Render(Frame& frame);
  void Blur(uint8_t* pixels);
  void ApplyLightingAndNoise(uint8_t* pixels);

  SyntheticCameraOptions o_;
  // Two generator streams: scenes depend on the seed alone, so switching an effect on keeps
  // the same objects on the same paths.
  uint64_t scene_rng_;
  uint64_t effects_rng_;
  std::vector<uint8_t> background_;
  std::vector<Object> objects_;
  std::vector<int8_t> noise_table_;  // Gaussian samples, read at a random offset per frame
  std::vector<uint8_t> line_;        // blur: one row with repeated edge pixels
  std::vector<uint8_t> scratch_;     // blur: a copy of the frame
  std::vector<uint32_t> sums_;       // blur: running column sums
  double jump_gain_ = 1.0;           // lighting: the level set by the last sudden change
  uint64_t sequence_ = 0;
  std::chrono::steady_clock::time_point start_;
};

// The "synthetic" source type of a pipeline file; `base_dir` is unused (no files).
Expected<std::unique_ptr<Source>> MakeSyntheticCamera(const nlohmann::json& options,
                                                      const std::string& base_dir);

}  // namespace outpost::pipeline
