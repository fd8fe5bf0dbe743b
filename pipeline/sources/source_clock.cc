#include "pipeline/sources/source_clock.h"

#include <thread>

namespace outpost::pipeline {

namespace {

// steady_clock now, in nanoseconds: Frame::capture_ns.
int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void StampFrame(Frame& frame, Frame::Kind kind, uint64_t sequence, const std::string& origin) {
  frame.kind = kind;
  frame.sequence = sequence;
  frame.capture_ns = SteadyNowNs();
  frame.origin = origin;
  frame.truth.clear();
  if (kind == Frame::Kind::kImage) {
    frame.samples.clear();
    frame.rows = frame.channels = 0;
  } else {
    frame.pixels.clear();
    frame.width = frame.height = 0;
  }
}

void FramePacer::Wait() {
  const auto now = std::chrono::steady_clock::now();
  const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / fps_));
  if (!started_) {
    started_ = true;
    next_ = now + period;
    return;
  }
  if (next_ > now) std::this_thread::sleep_until(next_);
  // A late consumer restarts the clock rather than receiving a burst of overdue frames.
  next_ = std::max(next_, now) + period;
}

}  // namespace outpost::pipeline
