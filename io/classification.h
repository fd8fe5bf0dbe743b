// Reading classifier outputs: top-k, softmax, and a confusion matrix for evaluation.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace outpost::io {

// Indices of the k largest values, largest first (ties: lower index first).
std::vector<int> TopK(std::span<const float> scores, int k);
int ArgMax(std::span<const float> scores);

// True when the scores already look like probabilities (all in [0, 1], summing to ~1).
bool LooksLikeProbabilities(std::span<const float> scores);
// Numerically stable softmax.
std::vector<float> Softmax(std::span<const float> scores);

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
