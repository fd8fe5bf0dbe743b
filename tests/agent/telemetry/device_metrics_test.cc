// Device metrics: the histogram's buckets and quantiles, /proc and /sys readers on the real
// files and on fake trees, the throttling rule, and a period's record as the server reads it.
#include "agent/telemetry/device_metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fleet/server/api_input.h"
#include "tests/io/test_models.h"

namespace outpost::agent {
namespace {

std::string MetricsTempDir() {
  return outpost::testing::MakeTempDir(
      "device_metrics_" +
      std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
}

TEST(LatencyHistogram, FixedLogSpacedBuckets) {
  const std::vector<double>& b = LatencyHistogram::BoundsMs();
  ASSERT_EQ(b.size(), static_cast<size_t>(LatencyHistogram::kBuckets));
  EXPECT_DOUBLE_EQ(b.front(), 0.05);
  for (size_t i = 1; i < b.size(); ++i) {
    EXPECT_GT(b[i], b[i - 1]);
    EXPECT_NEAR(b[i] / b[i - 1], std::sqrt(2.0), 0.01);
  }
  EXPECT_GT(b.back(), 5000.0);  // seconds-long runs still land in a bucket of their own

  LatencyHistogram h;
  h.Record(0.01);
  h.Record(1.0);
  h.Record(1e9);
  const nlohmann::json j = h.ToJson();
  EXPECT_EQ(j["bounds_ms"].size() + 1, j["counts"].size());
  EXPECT_EQ(j["counts"].front(), 1);
  EXPECT_EQ(j["counts"].back(), 1);
  EXPECT_EQ(h.count(), 3);
}

TEST(LatencyHistogram, QuantilesFromBuckets) {
  LatencyHistogram empty;
  EXPECT_EQ(empty.Quantile(0.5), 0);

  // 1..1000 ms evenly: p50 = 500, p99 = 990; the buckets are 41 % wide, interpolation on the
  // log scale brings the estimate within about 15 %.
  LatencyHistogram h;
  for (int i = 1; i <= 1000; ++i) h.Record(i);
  EXPECT_NEAR(h.Quantile(0.5), 500, 75);
  EXPECT_NEAR(h.Quantile(0.99), 990, 150);
  EXPECT_LE(h.Quantile(0.5), h.Quantile(0.99));

  // One value only: every quantile is within its bucket.
  LatencyHistogram one;
  for (int i = 0; i < 10; ++i) one.Record(3.0);
  const auto& b = LatencyHistogram::BoundsMs();
  const auto upper = std::lower_bound(b.begin(), b.end(), 3.0);
  EXPECT_GE(one.Quantile(0.5), *(upper - 1));
  EXPECT_LE(one.Quantile(0.99), *upper);

  LatencyHistogram merged;
  merged.Merge(h);
  merged.Merge(one);
  EXPECT_EQ(merged.count(), 1010);
}

TEST(DeviceReaders, ResidentMemory) {
  const std::optional<int64_t> rss = ReadRssBytes();
  ASSERT_TRUE(rss.has_value());
  EXPECT_GT(*rss, 1 << 20);
  EXPECT_LT(*rss, int64_t{64} << 30);

  const std::string dir = MetricsTempDir();
  std::ofstream(dir + "/statm") << "1000 25 10 1 0 50 0\n";
  EXPECT_EQ(ReadRssBytes(dir + "/statm"), 25 * sysconf(_SC_PAGESIZE));
  EXPECT_EQ(ReadRssBytes(dir + "/absent"), std::nullopt);
  std::filesystem::remove_all(dir);
}

TEST(DeviceReaders, CpuTemperatureFromThermalZones) {
  const std::string root = MetricsTempDir();
  EXPECT_EQ(ReadCpuTemperatureC(root), std::nullopt);              // no zones
  EXPECT_EQ(ReadCpuTemperatureC(root + "/absent"), std::nullopt);  // no thermal class at all
  for (const auto& [zone, text] :
       std::vector<std::pair<std::string, std::string>>{{"thermal_zone0", "45000\n"},
                                                        {"thermal_zone1", "61500\n"},
                                                        {"thermal_zone2", "error\n"},
                                                        {"thermal_zone3", "900000\n"},
                                                        {"cooling_device0", "99000\n"}}) {
    std::filesystem::create_directories(root + "/" + zone);
    std::ofstream(root + "/" + zone + "/temp") << text;
  }
  std::filesystem::create_directories(root + "/thermal_zone4");  // no temp file
  // The hottest plausible zone; an unreadable one and 900 °C are skipped, a cooling device is not a
  // zone.
  EXPECT_EQ(ReadCpuTemperatureC(root), 61.5);
  std::filesystem::remove_all(root);
}

LatencyHistogram Constant(double ms, int n) {
  LatencyHistogram h;
  for (int i = 0; i < n; ++i) h.Record(ms);
  return h;
}

TEST(ThrottleDetector, ComparesRecentLatencyWithTheFirstMinutes) {
  ThrottleOptions o;  // 5 minutes of baseline, 1.5x, 20 samples
  ThrottleDetector d(o);
  int64_t now = 0;
  d.Start(now);
  for (int i = 0; i < 30; ++i) {  // 10 s periods for 5 minutes
    now += 10'000;
    EXPECT_EQ(d.AddPeriod(now, Constant(4.0, 50)), std::nullopt);
  }
  now += 10'000;
  const LatencyHistogram same = Constant(4.0, 50);
  std::optional<double> ratio = d.AddPeriod(now, same);
  ASSERT_TRUE(ratio.has_value());
  EXPECT_NEAR(*ratio, 1.0, 1e-9);
  EXPECT_FALSE(d.Throttled(*ratio, same));

  now += 10'000;
  const LatencyHistogram slow = Constant(9.0, 50);
  ratio = d.AddPeriod(now, slow);
  ASSERT_TRUE(ratio.has_value());
  EXPECT_NEAR(*ratio, 9.0 / 4.0, 0.5);
  EXPECT_TRUE(d.Throttled(*ratio, slow));
  EXPECT_FALSE(d.Throttled(*ratio, Constant(9.0, 5)));  // too few inferences to say

  // A new model: no ratio until its own baseline is complete.
  d.Start(now);
  EXPECT_EQ(d.AddPeriod(now + 10'000, slow), std::nullopt);
}

TEST(DeviceMetrics, APeriodIsOneRecordTheServerAccepts) {
  const std::string root = MetricsTempDir();
  DeviceMetricsOptions o;
  o.thermal_root = root;  // no zones: the field is left out
  o.throttle.baseline_ms = 20'000;
  DeviceMetrics m(0, o);
  PeriodContext c{"detector", "1.2.0", 1 << 20, 0.03, 0.2, std::nullopt};
  for (int i = 0; i < 40; ++i) m.RecordInference(2.0, true);
  m.RecordInference(50.0, false);
  nlohmann::json r = m.EndPeriod(10'000, c);
  EXPECT_EQ(r["inferences"], 41);
  EXPECT_EQ(r["errors"], 1);
  EXPECT_FALSE(r.contains("temperature_c"));
  EXPECT_FALSE(r.contains("throttle_ratio"));  // still in the baseline
  EXPECT_FALSE(r.contains("agreement"));
  EXPECT_EQ(r["arena_bytes"], 1 << 20);
  EXPECT_GT(r["rss_bytes"].get<int64_t>(), 0);
  EXPECT_LE(r["latency_p50_ms"].get<double>(), 2.2);
  EXPECT_EQ(r["latency_histogram"]["counts"].size(), LatencyHistogram::kBuckets + 1u);

  for (int i = 0; i < 40; ++i) m.RecordInference(2.0, true);
  (void)m.EndPeriod(20'000, c);
  for (int i = 0; i < 40; ++i) m.RecordInference(6.0, true);
  std::filesystem::create_directories(root + "/thermal_zone0");
  std::ofstream(root + "/thermal_zone0/temp") << "72250\n";
  r = m.EndPeriod(30'000, c);
  EXPECT_EQ(r["throttled"], true);
  EXPECT_GT(r["throttle_ratio"].get<double>(), 2.0);
  EXPECT_EQ(r["temperature_c"], 72.25);

  // An empty period: counts only.
  nlohmann::json quiet = m.EndPeriod(40'000, c);
  EXPECT_EQ(quiet["inferences"], 0);
  EXPECT_FALSE(quiet.contains("latency_p50_ms"));

  r["seq"] = 1;
  quiet["seq"] = 2;
  Expected<std::vector<fleet::TelemetryRecord>> parsed =
      fleet::ParseTelemetryBatch(nlohmann::json{{"records", {r, quiet}}}.dump(), 1000);
  ASSERT_TRUE(parsed.ok()) << parsed.message();
  EXPECT_EQ(parsed->front().inferences, 40);
  EXPECT_EQ(parsed->back().seq, 2);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace outpost::agent
