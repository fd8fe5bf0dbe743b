#include "pipeline/runner/stage_stats.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pipeline/runner/run_report.h"

namespace outpost::pipeline {
namespace {

TEST(LatencyRecorder, NearestRankPercentiles) {
  LatencyRecorder r(1000);
  EXPECT_EQ(r.PercentileMs(50), 0.0);
  for (int i = 100; i >= 1; --i) r.Record(int64_t{i} * 1'000'000);  // 1..100 ms, reversed
  EXPECT_EQ(r.count(), 100u);
  EXPECT_DOUBLE_EQ(r.PercentileMs(50), 50.0);
  EXPECT_DOUBLE_EQ(r.PercentileMs(95), 95.0);
  EXPECT_DOUBLE_EQ(r.PercentileMs(99), 99.0);
  EXPECT_DOUBLE_EQ(r.PercentileMs(100), 100.0);
  EXPECT_DOUBLE_EQ(r.PercentileMs(0), 1.0);
  EXPECT_DOUBLE_EQ(r.mean_ms(), 50.5);
}

TEST(LatencyRecorder, SmallSamples) {
  LatencyRecorder r(8);
  r.Record(3'000'000);
  EXPECT_DOUBLE_EQ(r.PercentileMs(50), 3.0);
  EXPECT_DOUBLE_EQ(r.PercentileMs(99), 3.0);
  r.Record(1'000'000);
  EXPECT_DOUBLE_EQ(r.PercentileMs(50), 1.0);  // rank ceil(0.5 * 2) = 1
  EXPECT_DOUBLE_EQ(r.PercentileMs(51), 3.0);
}

TEST(LatencyRecorder, TheRingKeepsTheNewestSamplesAndTheTotalsOfAll) {
  LatencyRecorder r(4);
  for (int i = 1; i <= 10; ++i) r.Record(int64_t{i} * 1'000'000);
  EXPECT_EQ(r.count(), 10u);
  EXPECT_EQ(r.total_ns(), 55'000'000);
  EXPECT_DOUBLE_EQ(r.PercentileMs(0), 7.0);  // held: 7, 8, 9, 10
  EXPECT_DOUBLE_EQ(r.PercentileMs(100), 10.0);
}

TEST(RunReport, StatusLineAndJsonFields) {
  LiveStatus s;
  s.fps = 29.84;
  s.e2e_p50_ms = 12.14;
  s.e2e_p99_ms = 20.26;
  s.infer_ms = 4.1;
  s.dropped = 3;
  s.rejected = 1;
  s.skipped_fraction = 0.4;
  EXPECT_EQ(FormatStatus(s),
            "fps 29.8 | e2e p50 12.1 ms p99 20.3 | infer 4.1 ms | dropped 3 | rejected 1 | "
            "skipped 40%");
  RunReport r;
  r.counters.captured = 7;
  r.counters.rejected_by_reason["black"] = 2;
  r.stages.push_back({"infer", 5, 1.0, 1.0, 2.0, 3.0, 10.0});
  const nlohmann::json j = ToJson(r);
  EXPECT_EQ(j["counters"]["captured"], 7);
  EXPECT_EQ(j["counters"]["rejected_by_reason"]["black"], 2);
  EXPECT_EQ(j["stages"]["infer"]["p99_ms"], 3.0);
  EXPECT_FALSE(j.contains("error"));
}

}  // namespace
}  // namespace outpost::pipeline
