// Input validation before inference: a frame that cannot be meaningful (a covered lens, a
// saturated sensor, a frozen picture, NaN from a broken sensor, a buffer of the wrong size) is
// rejected with a reason instead of producing a confident but meaningless result. Checking
// never fails and never reads outside the frame's buffers, whatever their sizes claim.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "pipeline/config/pipeline_config.h"
#include "pipeline/core/frame.h"

namespace outpost::pipeline {

enum class RejectReason { kNone, kBlack, kWhite, kConstant, kNonFinite, kWrongSize };
inline constexpr int kRejectReasonCount = 6;

// "black", "white", "constant", "non_finite", "wrong_size" (the report's keys); "" for kNone.
std::string_view RejectReasonName(RejectReason reason);

class FrameValidator {
 public:
  // `expected_samples`: the values a samples frame must hold (the model input's element
  // count); 0 accepts any count.
  FrameValidator(const ValidationConfig& config, size_t expected_samples);

  // kImage: zero size or pixels.size() != width * height * channels is kWrongSize; then all
  // values <= black_level is kBlack, all >= white_level kWhite, standard deviation below
  // min_stddev kConstant (each when enabled). kSamples: rows * channels != samples.size(), an
  // empty frame or a count other than expected_samples is kWrongSize; NaN or Inf kNonFinite.
  RejectReason Check(const Frame& frame) const;

 private:
  RejectReason CheckImage(const Frame& frame) const;
  RejectReason CheckSamples(const Frame& frame) const;

  ValidationConfig config_;
  size_t expected_samples_;
};

}  // namespace outpost::pipeline
