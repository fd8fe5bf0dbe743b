#include "pipeline/runner/uplink_policy.h"

namespace outpost::pipeline {

UplinkPolicy::State UplinkPolicy::Summarize(const PostprocessResult& result) {
  State s;
  if (const auto* c = std::get_if<ClassificationResult>(&result)) {
    if (!c->classes.empty()) s.top1 = c->classes.front().class_id;
  } else if (const auto* d = std::get_if<DetectionResult>(&result)) {
    for (const Detection& det : d->detections) ++s.class_counts[det.class_id];
  } else if (const auto* a = std::get_if<AnomalyScore>(&result)) {
    s.anomalous = a->anomalous;
  }
  return s;
}

bool UplinkPolicy::ShouldSend(const PostprocessResult& result) {
  if (mode_ == UplinkMode::kEvery) return true;
  if (const auto* k = std::get_if<KeywordResult>(&result)) return k->detected;
  State now = Summarize(result);
  const bool changed = !sent_any_ || now.top1 != last_.top1 ||
                       now.class_counts != last_.class_counts || now.anomalous != last_.anomalous;
  if (changed) {
    last_ = std::move(now);
    sent_any_ = true;
  }
  return changed;
}

}  // namespace outpost::pipeline
