// Keyword spotting: turns a stream of per-frame class posteriors into keyword events, after
// TensorFlow Lite Micro's micro_speech RecognizeCommands:
//
//   1. average each class's posterior over the last window_frames frames;
//   2. with fewer than min_frames frames so far, decide nothing (score 0, no event);
//   3. take the class with the highest average (first one on ties);
//   4. it becomes a new command when its average > threshold and either it differs from the
//      previous command or more than suppression_ms passed since that command (a refractory
//      period, so one spoken word held over many frames fires once). As in micro_speech, a
//      previous command that was an ignored class (silence) never suppresses.
//   5. a new command is reported as an event only when its class is not in `ignore`
//      (silence, unknown), yet it still becomes the previous command.
//
// Differences from micro_speech: the window is a frame count rather than a duration (the
// frame rate is fixed by the model's hop), scores are floats in [0, 1] (not int8), and step 2
// does not also require the window to span a quarter of its duration.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "pipeline/postprocess/classification_stage.h"

namespace outpost::pipeline {

struct KeywordOptions {
  int window_frames = 5;
  int min_frames = 3;
  float threshold = 0.8f;
  int64_t suppression_ms = 1500;
  std::vector<int> ignore;  // class ids never reported (e.g. silence, unknown)
  SoftmaxMode softmax = SoftmaxMode::kAuto;
};

struct KeywordResult {
  int class_id = -1;  // the best averaged class (-1 before any decision)
  float score = 0;    // its averaged posterior (0 while too few frames)
  std::string_view label;
  bool detected = false;  // a new keyword event at this frame
  int64_t time_ms = 0;
};

class KeywordStage {
 public:
  static Expected<KeywordStage> Create(const KeywordOptions& options, int num_classes,
                                       std::vector<std::string> labels);

  // One frame of posteriors (or logits, see softmax) at time_ms. Times must not decrease.
  Expected<KeywordResult> Run(std::span<const float> posteriors, int64_t time_ms);
  void Reset();

  const std::vector<std::string>& labels() const { return labels_; }

 private:
  bool Ignored(int c) const;

  KeywordOptions options_;
  int classes_ = 0;
  std::vector<std::string> labels_;
  std::vector<float> ring_;     // window_frames x classes
  std::vector<float> average_;  // classes
  int next_ = 0, filled_ = 0;
  int64_t last_time_ = 0;
  bool any_frame_ = false;
  int previous_ = -1;  // previous command (-1: none yet)
  int64_t previous_time_ = 0;
};

}  // namespace outpost::pipeline
