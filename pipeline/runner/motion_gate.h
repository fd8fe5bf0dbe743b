// Duty cycling by frame differencing: skip inference while the scene does not change.
//
// Each image frame is reduced to a 32 x 32 grid of mean gray levels (or fewer cells for a
// smaller frame). It is compared with the grid of the last frame that was inferred (not the
// previous frame, so a slow drift still adds up to a change): a cell changed when its
// |difference| / 255 > threshold, and inference runs when the changed fraction of cells is at
// least min_changed. The first frame, a frame of another size and (with max_skip) a frame
// after max_skip skipped ones always run. Samples frames (sensors, audio) always run.
#pragma once

#include <vector>

#include "pipeline/config/pipeline_config.h"
#include "pipeline/core/frame.h"

namespace outpost::pipeline {

class MotionGate {
 public:
  static constexpr int kGrid = 32;

  explicit MotionGate(const MotionGateConfig& config);

  // Whether `frame` should be inferred; updates the reference when it should.
  bool ShouldRun(const Frame& frame);
  // Fraction of cells that changed in the last image frame checked (1 for a forced run).
  double last_changed() const { return last_changed_; }

 private:
  void Reduce(const Frame& frame, std::vector<float>& grid);

  MotionGateConfig config_;
  std::vector<float> reference_;
  std::vector<float> grid_;
  std::vector<float> sums_;
  std::vector<int> counts_;
  int ref_width_ = 0, ref_height_ = 0;
  int skipped_in_a_row_ = 0;
  double last_changed_ = 1;
};

}  // namespace outpost::pipeline
