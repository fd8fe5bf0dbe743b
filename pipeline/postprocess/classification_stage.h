// Classification post-processing: optional softmax, then the top k classes with their labels,
// dropping those below min_score. Ranking is io::TopKInto (the same top-k the CLI prints with
// `outpost run`): largest first, equal scores by lower class index, NaN last.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace outpost::pipeline {

enum class SoftmaxMode {
  kAuto,    // apply unless the scores already look like probabilities (in [0, 1], sum ~1)
  kAlways,  // the model outputs logits
  kNever,   // report the model's scores as they are
};

struct ClassificationOptions {
  int top_k = 5;
  SoftmaxMode softmax = SoftmaxMode::kAuto;
  // Classes whose (post-softmax) score is below this are left out; NaN scores always are.
  float min_score = 0.0f;
};

struct ClassScore {
  int class_id = 0;
  float score = 0;
  std::string_view label;  // empty when the model has no label for the class
};

class ClassificationStage {
 public:
  // `num_classes`: values in the model output; `labels` from the model (io::ModelLabels).
  static Expected<ClassificationStage> Create(const ClassificationOptions& options,
                                              int num_classes, std::vector<std::string> labels);

  // Best classes first; valid until the next Run (labels point into this stage, so do not
  // move it while holding a result). Fails on a score vector of the wrong size.
  Expected<std::span<const ClassScore>> Run(std::span<const float> scores);

  const std::vector<std::string>& labels() const { return labels_; }

 private:
  ClassificationOptions options_;
  std::vector<std::string> labels_;
  std::vector<float> probs_;
  std::vector<int> order_;
  std::vector<ClassScore> top_;
};

}  // namespace outpost::pipeline
