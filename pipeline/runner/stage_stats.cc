#include "pipeline/runner/stage_stats.h"

#include <algorithm>
#include <cmath>

namespace outpost::pipeline {

LatencyRecorder::LatencyRecorder(size_t capacity) : ring_(capacity < 1 ? 1 : capacity) {
  sorted_.reserve(ring_.size());
}

void LatencyRecorder::Record(int64_t ns) {
  std::lock_guard<std::mutex> lock(mutex_);
  ring_[next_] = ns;
  next_ = (next_ + 1) % ring_.size();
  ++count_;
  total_ns_ += ns;
}

uint64_t LatencyRecorder::count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return count_;
}

int64_t LatencyRecorder::total_ns() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return total_ns_;
}

double LatencyRecorder::mean_ms() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return count_ ? static_cast<double>(total_ns_) / static_cast<double>(count_) / 1e6 : 0.0;
}

double LatencyRecorder::PercentileMs(double p) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const size_t held = static_cast<size_t>(std::min<uint64_t>(count_, ring_.size()));
  if (held == 0) return 0.0;
  sorted_.assign(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(held));
  // Nearest rank: the smallest sample with at least p% of the samples at or below it.
  const double rank = std::ceil(std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(held));
  const size_t k = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  std::nth_element(sorted_.begin(), sorted_.begin() + static_cast<std::ptrdiff_t>(k),
                   sorted_.end());
  return static_cast<double>(sorted_[k]) / 1e6;
}

std::string_view StageName(Stage stage) {
  switch (stage) {
    case Stage::kCapture: return "capture";
    case Stage::kValidate: return "validate";
    case Stage::kMotion: return "motion";
    case Stage::kPreprocess: return "preprocess";
    case Stage::kInfer: return "infer";
    case Stage::kPostprocess: return "postprocess";
    case Stage::kAction: return "action";
  }
  return "";
}

}  // namespace outpost::pipeline
