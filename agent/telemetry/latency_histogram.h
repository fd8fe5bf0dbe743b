// A latency histogram on fixed log-spaced buckets: the same buckets on every device and in
// every period, so histograms add up across records and devices, and p50/p99 are read from it.
// Used for the telemetry record and for the update engine's health window.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace outpost::agent {

// Latencies in ms over fixed buckets: upper bounds 0.05 ms * 2^(i/2), i = 0..kBuckets-1 (about
// 0.05 ms to 9.3 s, each 41 % above the last), and one bucket above the last bound.
class LatencyHistogram {
 public:
  static constexpr int kBuckets = 36;
  static const std::vector<double>& BoundsMs();

  LatencyHistogram() : counts_(kBuckets + 1, 0) {}
  void Record(double latency_ms);
  void Merge(const LatencyHistogram& other);
  int64_t count() const { return total_; }
  const std::vector<int64_t>& counts() const { return counts_; }

  // The latency below which a share `q` (0..1) of the recorded ones fall, interpolated within
  // its bucket on the log scale (linearly in the first, from 0); in the overflow bucket the last
  // bound (a lower bound of the truth). 0 when nothing was recorded.
  double Quantile(double q) const;

  // {"bounds_ms":[...],"counts":[...]} as the server takes it.
  nlohmann::json ToJson() const;
  // The inverse of ToJson (the agent persists histograms in its state file): anything else,
  // such as another bucket layout, reads as an empty histogram.
  static LatencyHistogram FromJson(const nlohmann::json& j);

 private:
  std::vector<int64_t> counts_;
  int64_t total_ = 0;
};

}  // namespace outpost::agent
