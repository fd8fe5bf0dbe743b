// The clock of a source: stamping each frame with its capture time, and pacing a file as a
// live stream.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "pipeline/core/frame.h"

namespace outpost::pipeline {

// Marks a filled frame as `kind` (capture time now, the given sequence number and origin) and
// empties the fields of the other kind, which a reused frame may still hold.
void StampFrame(Frame& frame, Frame::Kind kind, uint64_t sequence, const std::string& origin);

// Releases frames at a fixed rate: Wait() returns at start, start + 1/fps, start + 2/fps, ...
// When the consumer falls behind it does not try to catch up by bursting frames.
class FramePacer {
 public:
  explicit FramePacer(double fps) : fps_(fps) {}
  void Wait();

 private:
  double fps_;
  bool started_ = false;
  std::chrono::steady_clock::time_point next_;
};

}  // namespace outpost::pipeline
