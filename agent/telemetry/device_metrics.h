// What the device agent measures for the fleet server, one reporting period at a time, and
// the telemetry record (docs/fleet-api.md "POST /v1/device/telemetry") made of it:
//
// - inference latency in a histogram of fixed log-spaced buckets (so that records from any
//   device and period add up), p50 and p99 read from it;
// - the process's resident memory (/proc/self/statm) and the model's arena bytes (the host's
//   figure);
// - the CPU temperature from the kernel's thermal zones (/sys/class/thermal/thermal_zone*/temp)
//   where the device has them: the hottest zone; absent zones leave the field out, never a guess;
// - throttling: latency under sustained load compared with the first minutes after start
//   (ThrottleDetector below);
// - the drift and shadow figures other parts of the agent compute, passed through.
#pragma once

#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/telemetry/latency_histogram.h"

namespace outpost::agent {

// Resident set size of this process from /proc/self/statm (its second field, in pages).
std::optional<int64_t> ReadRssBytes(const std::string& statm_path = "/proc/self/statm");

// The hottest thermal zone under `thermal_root` (thermal_zone*/temp, millidegrees Celsius), or
// none when there is no zone or no readable value within -100..200 °C.
std::optional<double> ReadCpuTemperatureC(const std::string& thermal_root = "/sys/class/thermal");

// Throttling: a device that heats up or is starved of CPU under sustained load answers more
// slowly at the same work. The rule: the first `baseline_ms` after Start (the model loaded,
// the device presumably cool) give the baseline p50 latency; afterwards each period's p50 over
// the baseline p50 is the throttle ratio, and a period is throttled when the ratio is at least
// `threshold` and both the baseline and the period have at least `min_samples` inferences.
// Before the baseline is complete no ratio is reported. A new model restarts the baseline.
struct ThrottleOptions {
  int64_t baseline_ms = 5 * 60 * 1000;
  double threshold = 1.5;
  int64_t min_samples = 20;
};

class ThrottleDetector {
 public:
  explicit ThrottleDetector(ThrottleOptions options = {}) : options_(options) {}
  void Start(int64_t now_ms);
  // One period's latencies, ended at `now_ms`; returns the ratio once the baseline is complete.
  std::optional<double> AddPeriod(int64_t now_ms, const LatencyHistogram& period);
  bool Throttled(double ratio, const LatencyHistogram& period) const;
  const ThrottleOptions& options() const { return options_; }

 private:
  ThrottleOptions options_;
  int64_t start_ms_ = 0;
  LatencyHistogram baseline_;
};

struct DeviceMetricsOptions {
  std::string thermal_root = "/sys/class/thermal";
  std::string statm_path = "/proc/self/statm";
  ThrottleOptions throttle;
};

// What the rest of the agent knows about the period: the model running and the figures
// computed elsewhere (absent ones are left out of the record).
struct PeriodContext {
  std::string model;
  std::string version;
  std::optional<int64_t> arena_bytes;
  std::optional<double> drift_psi;  // output drift against the model's reference
  std::optional<double> input_drift_psi;
  std::optional<double> agreement;  // shadow mode top-1 agreement
};

// Collects one reporting period at a time. RecordInference may be called from the pipeline's
// thread while another thread ends the period.
class DeviceMetrics {
 public:
  DeviceMetrics(int64_t start_ms, DeviceMetricsOptions options = {});

  void RecordInference(double latency_ms, bool ok);

  // Ends the period at `now_ms` and returns its telemetry record (no `seq`: the buffer assigns
  // it); the next period starts empty.
  nlohmann::json EndPeriod(int64_t now_ms, const PeriodContext& context);

  // A new model is active: the throttling baseline starts again.
  void RestartBaseline(int64_t now_ms);

 private:
  DeviceMetricsOptions options_;
  std::mutex mutex_;
  LatencyHistogram latency_;
  int64_t inferences_ = 0;
  int64_t errors_ = 0;
  ThrottleDetector throttle_;
};

}  // namespace outpost::agent
