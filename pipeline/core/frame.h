// One unit of work travelling through a pipeline: a camera frame, a sensor row or an audio
// window, with the facts every later stage needs (sequence number, capture time, origin).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/image.h"

namespace outpost::pipeline {

// A labelled object in a frame, known only to sources that generate their scenes (the
// synthetic camera): it lets a pipeline score its detector (mAP) on live frames.
struct TruthBox {
  int class_id = 0;
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // frame pixels, torchvision convention
};

struct Frame {
  enum class Kind : uint8_t { kImage, kSamples };

  Kind kind = Kind::kImage;
  uint64_t sequence = 0;   // assigned by the source, strictly increasing from 0
  int64_t capture_ns = 0;  // steady_clock time when the source produced it
  std::string origin;      // file name, device or "synthetic": for messages and results

  // kImage: tightly packed interleaved 8-bit pixels.
  int width = 0;
  int height = 0;
  io::PixelFormat format = io::PixelFormat::kRgb;
  std::vector<uint8_t> pixels;

  // kSamples: `rows` x `channels` values, row-major (a sensor reading per row, or audio
  // samples in [-1, 1] with channels == 1; or features already computed by the source).
  std::vector<float> samples;
  int rows = 0;
  int channels = 0;

  std::vector<TruthBox> truth;

  io::ImageView image() const { return {pixels.data(), width, height, format, 0}; }
  size_t bytes() const {
    return kind == Kind::kImage ? pixels.size() : samples.size() * sizeof(float);
  }
};

}  // namespace outpost::pipeline
