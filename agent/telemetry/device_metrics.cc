// Latency histogram, /proc and /sys readers, the throttling rule and the period's record.
#include "agent/telemetry/device_metrics.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <utility>

namespace outpost::agent {
namespace {

constexpr double kFirstBoundMs = 0.05;
constexpr double kMinTemperatureC = -100;  // the server's accepted range (docs/fleet-api.md)
constexpr double kMaxTemperatureC = 200;

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
