// /proc and /sys readers, the throttling rule and the period's record.
#include "agent/telemetry/device_metrics.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <utility>

namespace outpost::agent {
namespace {

constexpr double kMinTemperatureC = -100;  // the server's accepted range (docs/fleet-api.md)
constexpr double kMaxTemperatureC = 200;

}  // namespace

std::optional<int64_t> ReadRssBytes(const std::string& statm_path) {
  std::ifstream in(statm_path);
  int64_t size_pages = 0, resident_pages = 0;
  if (!(in >> size_pages >> resident_pages) || resident_pages < 0) return std::nullopt;
  return resident_pages * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

std::optional<double> ReadCpuTemperatureC(const std::string& thermal_root) {
  std::error_code ec;
  std::optional<double> hottest;
  for (std::filesystem::directory_iterator it(thermal_root, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().filename().string().rfind("thermal_zone", 0) != 0) continue;
    std::ifstream in(it->path() / "temp");
    long long millidegrees = 0;
    // A zone whose sensor is off reads an error or nothing; it is skipped.
    if (!(in >> millidegrees)) continue;
    const double c = static_cast<double>(millidegrees) / 1000.0;
    if (c < kMinTemperatureC || c > kMaxTemperatureC) continue;
    if (!hottest || c > *hottest) hottest = c;
  }
  return hottest;
}

void ThrottleDetector::Start(int64_t now_ms) {
  start_ms_ = now_ms;
  baseline_ = LatencyHistogram();
}

std::optional<double> ThrottleDetector::AddPeriod(int64_t now_ms, const LatencyHistogram& period) {
  if (now_ms - start_ms_ <= options_.baseline_ms) {
    baseline_.Merge(period);
    return std::nullopt;
  }
  if (baseline_.count() < options_.min_samples || period.count() == 0) return std::nullopt;
  const double base = baseline_.Quantile(0.5);
  if (base <= 0) return std::nullopt;
  return period.Quantile(0.5) / base;
}

bool ThrottleDetector::Throttled(double ratio, const LatencyHistogram& period) const {
  return ratio >= options_.threshold && period.count() >= options_.min_samples;
}

DeviceMetrics::DeviceMetrics(int64_t start_ms, DeviceMetricsOptions options)
    : options_(std::move(options)), throttle_(options_.throttle) {
  throttle_.Start(start_ms);
}

void DeviceMetrics::RecordInference(double latency_ms, bool ok) {
  std::lock_guard<std::mutex> lock(mutex_);
  inferences_ += 1;
  if (!ok) {
    errors_ += 1;
    return;  // a failed run's time says nothing about the model's speed
  }
  latency_.Record(latency_ms);
}

void DeviceMetrics::RestartBaseline(int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  throttle_.Start(now_ms);
}

nlohmann::json DeviceMetrics::EndPeriod(int64_t now_ms, const PeriodContext& context) {
  LatencyHistogram latency;
  int64_t inferences = 0, errors = 0;
  std::optional<double> ratio;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::swap(latency, latency_);
    std::swap(inferences, inferences_);
    std::swap(errors, errors_);
    ratio = throttle_.AddPeriod(now_ms, latency);
  }
  nlohmann::json r = {{"time_ms", now_ms},
                      {"model", context.model},
                      {"version", context.version},
                      {"inferences", inferences},
                      {"errors", errors}};
  if (latency.count() > 0) {
    r["latency_p50_ms"] = latency.Quantile(0.5);
    r["latency_p99_ms"] = latency.Quantile(0.99);
    r["latency_histogram"] = latency.ToJson();
  }
  if (std::optional<int64_t> rss = ReadRssBytes(options_.statm_path)) r["rss_bytes"] = *rss;
  if (context.arena_bytes) r["arena_bytes"] = *context.arena_bytes;
  if (std::optional<double> t = ReadCpuTemperatureC(options_.thermal_root)) r["temperature_c"] = *t;
  if (ratio) {
    r["throttle_ratio"] = *ratio;
    r["throttled"] = throttle_.Throttled(*ratio, latency);
  }
  if (context.drift_psi) r["drift_psi"] = *context.drift_psi;
  if (context.input_drift_psi) r["input_drift_psi"] = *context.input_drift_psi;
  if (context.agreement) r["agreement"] = *context.agreement;
  return r;
}

}  // namespace outpost::agent
