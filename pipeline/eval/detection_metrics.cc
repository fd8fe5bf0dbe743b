#include "pipeline/eval/detection_metrics.h"

#include <algorithm>
#include <numeric>

namespace outpost::pipeline {

double AveragePrecision(std::vector<std::pair<float, bool>> d, int truth) {
  if (truth <= 0) return 0;
  std::stable_sort(d.begin(), d.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<double> recall(d.size()), precision(d.size());
  int tp = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    tp += d[i].second ? 1 : 0;
    recall[i] = static_cast<double>(tp) / truth;
    precision[i] = static_cast<double>(tp) / static_cast<double>(i + 1);
  }
  // The precision envelope: the best precision reachable at this recall or beyond.
  for (size_t i = d.size(); i-- > 1;) precision[i - 1] = std::max(precision[i - 1], precision[i]);
  double ap = 0, previous = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    ap += (recall[i] - previous) * precision[i];
    previous = recall[i];
  }
  return ap;
}

DetectionMetrics::DetectionMetrics(int num_classes)
    : num_classes_(std::max(num_classes, 0)), classes_(static_cast<size_t>(num_classes_)) {}

void DetectionMetrics::AddFrame(std::span<const Detection> detections,
                                std::span<const TruthBox> truth) {
  ++frames_;
  for (const TruthBox& t : truth)
    if (t.class_id >= 0 && t.class_id < num_classes_) ++classes_[t.class_id].truth;

  order_.resize(detections.size());
  std::iota(order_.begin(), order_.end(), 0);
  std::stable_sort(order_.begin(), order_.end(),
                   [&](int a, int b) { return detections[a].score > detections[b].score; });
  // Each valid detection gets its record (class, index) first; each threshold fills its flag.
  slots_.assign(detections.size(), {-1, 0});
  for (int k : order_) {
    const int c = detections[k].class_id;
    if (c < 0 || c >= num_classes_) continue;
    slots_[k] = {c, classes_[c].detections.size()};
    classes_[c].detections.push_back({detections[k].score, {}});
  }
  for (int i = 0; i < kIouThresholds; ++i) {
    const double threshold = IouThreshold(i);
    matched_.assign(truth.size(), 0);
    for (int k : order_) {
      const auto [c, at] = slots_[k];
      if (c < 0) continue;
      const Detection& d = detections[k];
      int best = -1;
      double best_iou = 0;
      for (size_t j = 0; j < truth.size(); ++j) {
        const TruthBox& t = truth[j];
        if (t.class_id != d.class_id || matched_[j]) continue;
        const double iou = IoU(d.box, Box{t.x1, t.y1, t.x2, t.y2});
        // IoU >= threshold (NaN never passes); the best overlap wins, the first on a tie.
        if (iou >= threshold && (best < 0 || iou > best_iou))
          best = static_cast<int>(j), best_iou = iou;
      }
      if (best >= 0) matched_[best] = 1;
      classes_[c].detections[at].tp[i] = best >= 0;
    }
  }
}

double DetectionMetrics::ClassAp(int c, int i) const {
  const ClassStats& s = classes_[c];
  std::vector<std::pair<float, bool>> d;
  d.reserve(s.detections.size());
  for (const Scored& x : s.detections) d.emplace_back(x.score, x.tp[i]);
  return AveragePrecision(std::move(d), s.truth);
}

double DetectionMetrics::MeanAp(int i) const {
  double sum = 0;
  int n = 0;
  for (int c = 0; c < num_classes_; ++c)
    if (has_ap(c)) sum += ClassAp(c, i), ++n;
  return n > 0 ? sum / n : 0;
}

double DetectionMetrics::ClassApCoco(int c) const {
  double sum = 0;
  for (int i = 0; i < kIouThresholds; ++i) sum += ClassAp(c, i);
  return sum / kIouThresholds;
}

double DetectionMetrics::MeanApCoco() const {
  double sum = 0;
  int n = 0;
  for (int c = 0; c < num_classes_; ++c)
    if (has_ap(c)) sum += ClassApCoco(c), ++n;
  return n > 0 ? sum / n : 0;
}

}  // namespace outpost::pipeline
