// The interface shared by the detection head decoders (ssd_decoder.h, yolo_decoder.h).
//
// A decoder turns the raw outputs of one frame into candidates in model-input pixels. It
// computes scores first and decodes a box only when one of its scores passes the threshold:
// on a typical frame almost every anchor fails, so the exp/sigmoid of the box is skipped.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>

#include "common/expected.h"
#include "pipeline/postprocess/candidate_buffer.h"

namespace outpost::pipeline {

// The largest log-scale a box regression may apply to a prior's width or height (torchvision's
// BoxCoder bbox_xform_clip): keeps exp() finite on garbage outputs.
inline const float kMaxLogScale = std::log(1000.0f / 16.0f);

class DetectionDecoder {
 public:
  virtual ~DetectionDecoder() = default;
  // Model outputs Decode reads, in order.
  virtual int num_outputs() const = 0;
  // Values each of those outputs must hold.
  virtual size_t output_size(int i) const = 0;
  // Class ids are in [0, num_classes()).
  virtual int num_classes() const = 0;
  // The most candidates one frame can give (the size of the buffers downstream).
  virtual size_t max_candidates() const = 0;
  // Appends this frame's candidates to `out` (which the caller cleared). The sizes were
  // checked by the caller against output_size.
  virtual void Decode(std::span<const std::span<const float>> outputs, CandidateBuffer& out) = 0;
};

}  // namespace outpost::pipeline
