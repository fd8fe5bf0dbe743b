#include "pipeline/postprocess/classification_stage.h"

#include <algorithm>
#include <cmath>

#include "io/classification.h"

namespace outpost::pipeline {

Expected<ClassificationStage> ClassificationStage::Create(const ClassificationOptions& o,
                                                          int num_classes,
                                                          std::vector<std::string> labels) {
  if (num_classes < 1) return Error("classification: the output has no classes");
  if (o.top_k < 1) return Error("classification: top_k must be at least 1");
  ClassificationStage s;
  s.options_ = o;
  s.labels_ = std::move(labels);
  s.probs_.resize(static_cast<size_t>(num_classes));
  s.order_.resize(static_cast<size_t>(num_classes));
  s.top_.resize(static_cast<size_t>(std::min(o.top_k, num_classes)));
  return s;
}

Expected<std::span<const ClassScore>> ClassificationStage::Run(std::span<const float> scores) {
  if (scores.size() != probs_.size())
    return Error("classification: expected " + std::to_string(probs_.size()) + " scores, got " +
                 std::to_string(scores.size()));
  const bool softmax =
      options_.softmax == SoftmaxMode::kAlways ||
      (options_.softmax == SoftmaxMode::kAuto && !io::LooksLikeProbabilities(scores));
  std::span<const float> p = scores;
  if (softmax) {
    io::SoftmaxInto(scores, probs_);
    p = probs_;
  }
  const int k = io::TopKInto(p, static_cast<int>(top_.size()), order_);
  size_t n = 0;
  for (int r = 0; r < k; ++r) {
    const int c = order_[r];
    if (!(p[c] >= options_.min_score)) break;  // sorted: the rest are lower (or NaN)
    top_[n++] = {c, p[c],
                 static_cast<size_t>(c) < labels_.size() ? std::string_view(labels_[c])
                                                         : std::string_view()};
  }
  return std::span<const ClassScore>(top_.data(), n);
}

}  // namespace outpost::pipeline
