// How raw head outputs become scores in [0, 1].
#pragma once

#include <cmath>

namespace outpost::pipeline {

enum class ScoreActivation {
  kNone,     // the model already outputs probabilities
  kSigmoid,  // independent per class (YOLO, RetinaNet-style heads)
  kSoftmax,  // over the classes of one box (SSD heads with a background class)
};

inline float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace outpost::pipeline
