// The decoders' output: boxes that passed the score threshold and the size check, in the
// order the decoder visits them (which is the tie-break order of NMS). Sized once.
#pragma once

#include <cmath>
#include <span>
#include <vector>

#include "pipeline/postprocess/box.h"
#include "pipeline/postprocess/nms.h"

namespace outpost::pipeline {

// What a decoder keeps, fixed at setup.
struct CandidateFilter {
  // Kept when score > score_threshold (strict, as torchvision's detection heads do); NaN
  // scores fail the comparison and are dropped.
  float score_threshold = 0.25f;
  // Boxes are clipped to the model input first (when clip) and dropped unless both sides are
  // > min_size: this removes zero, negative and NaN sizes.
  float min_size = 0.0f;
  bool clip = true;
  float input_width = 0, input_height = 0;
};

class CandidateBuffer {
 public:
  void Reserve(size_t capacity) { items_.resize(capacity); }
  void Clear() { size_ = 0; }
  std::span<const Candidate> view() const { return {items_.data(), size_}; }

  bool Passes(float score) const { return score > filter_.score_threshold; }
  void set_filter(const CandidateFilter& f) { filter_ = f; }
  const CandidateFilter& filter() const { return filter_; }

  // Adds one (box, score, class) whose score already passed; checks the box. The decoders
  // size the buffer for every possible candidate, so it cannot overflow; the check only
  // guards against a sizing mistake.
  void Add(Box b, float score, int class_id) {
    // Checked before clipping too: clipping would turn a NaN or inverted box into a valid one.
    if (!Valid(b)) return;
    if (filter_.clip) {
      b = ClipBox(b, filter_.input_width, filter_.input_height);
      if (!Valid(b)) return;  // entirely outside the input
    }
    if (size_ < items_.size()) items_[size_++] = {b, score, class_id};
  }

 private:
  bool Valid(const Box& b) const {
    return b.width() > filter_.min_size && b.height() > filter_.min_size;
  }

  std::vector<Candidate> items_;
  size_t size_ = 0;
  CandidateFilter filter_;
};

}  // namespace outpost::pipeline
