// Reading classifier outputs: top-k, softmax, and a confusion matrix for evaluation.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "runtime/model.h"

namespace outpost::io {

// Indices of the k largest values, largest first (ties: lower index first; NaN last).
std::vector<int> TopK(std::span<const float> scores, int k);
// The same into `order`, which must hold scores.size() ints (the indices are sorted in place);
// returns k clamped to [0, scores.size()]: order[0..k) is the top k. Does not allocate, so a
// real-time stage can call it per frame with a buffer sized once.
int TopKInto(std::span<const float> scores, int k, std::span<int> order);
int ArgMax(std::span<const float> scores);

// True when the scores already look like probabilities (all in [0, 1], summing to ~1).
bool LooksLikeProbabilities(std::span<const float> scores);
// Numerically stable softmax.
std::vector<float> Softmax(std::span<const float> scores);
// The same into `out` (out.size() == scores.size(); may alias `scores`). Does not allocate.
void SoftmaxInto(std::span<const float> scores, std::span<float> out);

// The class labels stored in the model (Model.labels), empty when it has none.
std::vector<std::string> ModelLabels(const opm::Model& model);

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int classes);

  // `predicted` outside [0, classes) is counted as wrong and kept in an "other" column.
  void Add(int truth, int predicted);

  int classes() const { return classes_; }
  int64_t count(int truth, int predicted) const;
  int64_t other(int truth) const { return other_[truth]; }
  bool has_other() const;
  int64_t total() const { return total_; }
  int64_t correct() const { return correct_; }
  double accuracy() const { return total_ ? static_cast<double>(correct_) / total_ : 0.0; }
  // Recall of one class (correct / samples of that class); 0 when it has none.
  double recall(int truth) const;

 private:
  int classes_;
  std::vector<int64_t> cells_;  // [truth][predicted]
  std::vector<int64_t> other_;
  int64_t total_ = 0;
  int64_t correct_ = 0;
};

}  // namespace outpost::io
