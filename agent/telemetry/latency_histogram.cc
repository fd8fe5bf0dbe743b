#include "agent/telemetry/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace outpost::agent {
namespace {

constexpr double kFirstBoundMs = 0.05;

std::vector<double> MakeLatencyBounds() {
  std::vector<double> bounds;
  for (int i = 0; i < LatencyHistogram::kBuckets; ++i) {
    // Rounded to 4 significant digits: the same text on every device and in every record.
    const double b = kFirstBoundMs * std::pow(2.0, i / 2.0);
    const double scale = std::pow(10.0, 3 - static_cast<int>(std::floor(std::log10(b))));
    bounds.push_back(std::round(b * scale) / scale);
  }
  return bounds;
}

}  // namespace

const std::vector<double>& LatencyHistogram::BoundsMs() {
  static const std::vector<double> bounds = MakeLatencyBounds();
  return bounds;
}

void LatencyHistogram::Record(double latency_ms) {
  if (!std::isfinite(latency_ms) || latency_ms < 0) latency_ms = 0;
  const std::vector<double>& bounds = BoundsMs();
  const auto at =
      std::lower_bound(bounds.begin(), bounds.end(), latency_ms);  // first bound >= latency
  counts_[at - bounds.begin()] += 1;
  total_ += 1;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
}

double LatencyHistogram::Quantile(double q) const {
  if (total_ == 0) return 0;
  const std::vector<double>& bounds = BoundsMs();
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(total_);
  double below = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0 || below + static_cast<double>(counts_[i]) < rank) {
      below += static_cast<double>(counts_[i]);
      continue;
    }
    if (i == bounds.size()) return bounds.back();
    const double share = (rank - below) / static_cast<double>(counts_[i]);
    if (i == 0) return bounds[0] * share;
    return bounds[i - 1] * std::pow(bounds[i] / bounds[i - 1], share);
  }
  return bounds.back();
}

nlohmann::json LatencyHistogram::ToJson() const {
  return {{"bounds_ms", BoundsMs()}, {"counts", counts_}};
}

LatencyHistogram LatencyHistogram::FromJson(const nlohmann::json& j) {
  LatencyHistogram h;
  if (!j.is_object() || j.value("bounds_ms", nlohmann::json()) != nlohmann::json(BoundsMs())) return h;
  const nlohmann::json counts = j.value("counts", nlohmann::json());
  if (!counts.is_array() || counts.size() != h.counts_.size()) return h;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (!counts[i].is_number_integer() || counts[i].get<int64_t>() < 0) return LatencyHistogram();
    h.counts_[i] = counts[i].get<int64_t>();
    h.total_ += h.counts_[i];
  }
  return h;
}

}  // namespace outpost::agent
