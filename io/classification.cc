#include "io/classification.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace outpost::io {

int TopKInto(std::span<const float> scores, int k, std::span<int> order) {
  const auto idx = order.first(scores.size());
  std::iota(idx.begin(), idx.end(), 0);
  k = std::clamp(k, 0, static_cast<int>(idx.size()));
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int a, int b) {
    // NaN sorts last so it never hides a real prediction.
    const bool na = std::isnan(scores[a]), nb = std::isnan(scores[b]);
    if (na != nb) return nb;
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  });
  return k;
}

std::vector<int> TopK(std::span<const float> scores, int k) {
  std::vector<int> idx(scores.size());
  idx.resize(TopKInto(scores, k, idx));
  return idx;
}

int ArgMax(std::span<const float> scores) {
  if (scores.empty()) return -1;
  return TopK(scores, 1)[0];
}

bool LooksLikeProbabilities(std::span<const float> scores) {
  double sum = 0;
  for (float v : scores) {
    if (!(v >= 0.0f && v <= 1.0f)) return false;
    sum += v;
  }
  return !scores.empty() && std::fabs(sum - 1.0) < 1e-3;
}

void SoftmaxInto(std::span<const float> scores, std::span<float> out) {
  if (scores.empty()) return;
  const float mx = *std::max_element(scores.begin(), scores.end());
  double sum = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    out[i] = std::exp(scores[i] - mx);
    sum += out[i];
  }
  for (size_t i = 0; i < scores.size(); ++i) out[i] = static_cast<float>(out[i] / sum);
}

std::vector<float> Softmax(std::span<const float> scores) {
  std::vector<float> out(scores.size());
  SoftmaxInto(scores, out);
  return out;
}

std::vector<std::string> ModelLabels(const opm::Model& model) {
  std::vector<std::string> labels;
  if (model.labels())
    for (const auto* l : *model.labels()) labels.push_back(l->str());
  return labels;
}

ConfusionMatrix::ConfusionMatrix(int classes)
    : classes_(classes),
      cells_(static_cast<size_t>(classes) * static_cast<size_t>(classes), 0),
      other_(static_cast<size_t>(classes), 0) {}

void ConfusionMatrix::Add(int truth, int predicted) {
  ++total_;
  if (predicted < 0 || predicted >= classes_) {
    ++other_[truth];
    return;
  }
  ++cells_[static_cast<size_t>(truth) * classes_ + predicted];
  if (truth == predicted) ++correct_;
}

int64_t ConfusionMatrix::count(int truth, int predicted) const {
  return cells_[static_cast<size_t>(truth) * classes_ + predicted];
}

bool ConfusionMatrix::has_other() const {
  return std::any_of(other_.begin(), other_.end(), [](int64_t v) { return v != 0; });
}

double ConfusionMatrix::recall(int truth) const {
  int64_t n = other_[truth];
  for (int p = 0; p < classes_; ++p) n += count(truth, p);
  return n ? static_cast<double>(count(truth, truth)) / n : 0.0;
}

}  // namespace outpost::io
