#include "pipeline/runner/motion_gate.h"

#include <algorithm>
#include <cmath>

namespace outpost::pipeline {

MotionGate::MotionGate(const MotionGateConfig& config) : config_(config) {}

void MotionGate::Reduce(const Frame& frame, std::vector<float>& grid) {
  const int gw = std::min(kGrid, frame.width), gh = std::min(kGrid, frame.height);
  const int channels = io::ChannelCount(frame.format);
  // Alpha (the last channel of GrayAlpha/Rgba/Bgra) is not part of the scene.
  const int colour = channels == 2 || channels == 4 ? channels - 1 : channels;
  sums_.assign(static_cast<size_t>(gw) * gh, 0.0f);
  counts_.assign(sums_.size(), 0);
  const uint8_t* p = frame.pixels.data();
  for (int y = 0; y < frame.height; ++y) {
    const int cy = static_cast<int>(static_cast<int64_t>(y) * gh / frame.height);
    for (int x = 0; x < frame.width; ++x, p += channels) {
      const int cx = static_cast<int>(static_cast<int64_t>(x) * gw / frame.width);
      int v = 0;
      for (int c = 0; c < colour; ++c) v += p[c];
      const size_t cell = static_cast<size_t>(cy) * gw + cx;
      sums_[cell] += static_cast<float>(v) / static_cast<float>(colour);
      ++counts_[cell];
    }
  }
  grid.resize(sums_.size());
  for (size_t i = 0; i < grid.size(); ++i)
    grid[i] = counts_[i] ? sums_[i] / static_cast<float>(counts_[i]) : 0.0f;
}

bool MotionGate::ShouldRun(const Frame& frame) {
  if (frame.kind != Frame::Kind::kImage || frame.width <= 0 || frame.height <= 0 ||
      frame.pixels.size() != static_cast<size_t>(frame.width) * frame.height *
                                 io::ChannelCount(frame.format)) {
    last_changed_ = 1;
    return true;
  }
  Reduce(frame, grid_);
  const bool first = reference_.empty() || frame.width != ref_width_ || frame.height != ref_height_;
  const bool forced = config_.max_skip > 0 && skipped_in_a_row_ >= config_.max_skip;
  if (!first) {
    size_t changed = 0;
    const float limit = static_cast<float>(config_.threshold * 255.0);
    for (size_t i = 0; i < grid_.size(); ++i)
      if (std::fabs(grid_[i] - reference_[i]) > limit) ++changed;
    last_changed_ = static_cast<double>(changed) / static_cast<double>(grid_.size());
  } else {
    last_changed_ = 1;
  }
  if (!first && !forced && last_changed_ < config_.min_changed) {
    ++skipped_in_a_row_;
    return false;
  }
  reference_.swap(grid_);
  ref_width_ = frame.width;
  ref_height_ = frame.height;
  skipped_in_a_row_ = 0;
  return true;
}

}  // namespace outpost::pipeline
