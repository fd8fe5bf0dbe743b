#include "pipeline/runner/frame_validator.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace outpost::pipeline {

std::string_view RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kNone: return "";
    case RejectReason::kBlack: return "black";
    case RejectReason::kWhite: return "white";
    case RejectReason::kConstant: return "constant";
    case RejectReason::kNonFinite: return "non_finite";
    case RejectReason::kWrongSize: return "wrong_size";
  }
  return "";
}

FrameValidator::FrameValidator(const ValidationConfig& config, size_t expected_samples)
    : config_(config), expected_samples_(expected_samples) {}

RejectReason FrameValidator::Check(const Frame& frame) const {
  return frame.kind == Frame::Kind::kImage ? CheckImage(frame) : CheckSamples(frame);
}

RejectReason FrameValidator::CheckImage(const Frame& frame) const {
  if (frame.width <= 0 || frame.height <= 0) return RejectReason::kWrongSize;
  const size_t want = static_cast<size_t>(frame.width) * static_cast<size_t>(frame.height) *
                      static_cast<size_t>(io::ChannelCount(frame.format));
  if (frame.pixels.size() != want) return RejectReason::kWrongSize;

  int lo = 255, hi = 0;
  uint64_t sum = 0;
  double sum_sq = 0;
  for (uint8_t p : frame.pixels) {
    lo = std::min<int>(lo, p);
    hi = std::max<int>(hi, p);
    sum += p;
    sum_sq += static_cast<double>(p) * p;
  }
  if (config_.reject_black && hi <= config_.black_level) return RejectReason::kBlack;
  if (config_.reject_white && lo >= config_.white_level) return RejectReason::kWhite;
  if (config_.reject_constant) {
    const double n = static_cast<double>(want);
    const double mean = static_cast<double>(sum) / n;
    const double variance = std::max(0.0, sum_sq / n - mean * mean);
    if (std::sqrt(variance) < config_.min_stddev) return RejectReason::kConstant;
  }
  return RejectReason::kNone;
}

RejectReason FrameValidator::CheckSamples(const Frame& frame) const {
  if (frame.rows <= 0 || frame.channels <= 0 || frame.samples.empty())
    return RejectReason::kWrongSize;
  if (static_cast<size_t>(frame.rows) * static_cast<size_t>(frame.channels) != frame.samples.size())
    return RejectReason::kWrongSize;
  if (expected_samples_ != 0 && frame.samples.size() != expected_samples_)
    return RejectReason::kWrongSize;
  for (float v : frame.samples)
    if (!std::isfinite(v)) return RejectReason::kNonFinite;
  return RejectReason::kNone;
}

}  // namespace outpost::pipeline
