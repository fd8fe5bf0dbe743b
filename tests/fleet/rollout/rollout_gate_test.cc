// Every gate on both sides of its threshold, gates skipped for want of data, and Wait.
#include "fleet/rollout/rollout_gate.h"

#include <gtest/gtest.h>

#include "fleet/rollout/rollout_json.h"

namespace outpost::fleet {
namespace {

CohortHealth Healthy() {
  CohortHealth h;
  h.devices = 10;
  h.records = 100;
  h.inferences = 10000;
  h.errors = 10;
  h.error_rate = 0.001;
  h.latency_p99_ms = 20;
  h.agreement = 0.99;
  h.drift_psi = 0.05;
  return h;
}

bool Mentions(const GateResult& r, const std::string& text) {
  return r.Summary().find(text) != std::string::npos;
}

TEST(RolloutGate, HealthyCanaryPasses) {
  const GateResult r = EvaluateGates(RolloutGates{}, Healthy(), Healthy());
  EXPECT_EQ(r.verdict, GateVerdict::kPass) << r.Summary();
  EXPECT_EQ(r.reasons.size(), 5u) << r.Summary();  // every gate applied and passed
  EXPECT_TRUE(r.skipped.empty()) << r.Summary();
}

TEST(RolloutGate, WaitsForMinRecords) {
  CohortHealth canary = Healthy();
  canary.records = 19;
  canary.error_rate = 0.5;  // not judged on too little data
  GateResult r = EvaluateGates(RolloutGates{}, canary, Healthy());
  EXPECT_EQ(r.verdict, GateVerdict::kWait);
  EXPECT_TRUE(Mentions(r, "19 telemetry records")) << r.Summary();
  EXPECT_TRUE(Mentions(r, "20 needed")) << r.Summary();
  canary.records = 20;
  EXPECT_EQ(EvaluateGates(RolloutGates{}, canary, Healthy()).verdict, GateVerdict::kFail);
}

TEST(RolloutGate, ErrorRateOnBothSides) {
  RolloutGates g;
  g.max_error_rate_increase.reset();
  CohortHealth canary = Healthy();
  canary.error_rate = 0.02;  // at the limit: passes
  EXPECT_EQ(EvaluateGates(g, canary, Healthy()).verdict, GateVerdict::kPass);
  canary.error_rate = 0.031;
  const GateResult r = EvaluateGates(g, canary, Healthy());
  EXPECT_EQ(r.verdict, GateVerdict::kFail);
  ASSERT_EQ(r.reasons.size(), 1u) << r.Summary();
  EXPECT_EQ(r.reasons[0], "error rate 3.10% > 2.00%");
}

TEST(RolloutGate, ErrorRateIncreaseOverBaseline) {
  RolloutGates g;
  g.max_error_rate.reset();
  CohortHealth canary = Healthy(), baseline = Healthy();
  baseline.error_rate = 0.010;
  canary.error_rate = 0.014;  // +0.4 points: within 0.5
  EXPECT_EQ(EvaluateGates(g, canary, baseline).verdict, GateVerdict::kPass);
  canary.error_rate = 0.016;  // +0.6 points
  const GateResult r = EvaluateGates(g, canary, baseline);
  EXPECT_EQ(r.verdict, GateVerdict::kFail);
  EXPECT_TRUE(Mentions(r, "error rate increase 0.60% (1.60% vs baseline 1.00%) > 0.50%"))
      << r.Summary();
}

TEST(RolloutGate, P99LatencyRatioOnBothSides) {
  CohortHealth canary = Healthy(), baseline = Healthy();
  baseline.latency_p99_ms = 20;
  canary.latency_p99_ms = 25;  // 1.25: at the limit
  EXPECT_EQ(EvaluateGates(RolloutGates{}, canary, baseline).verdict, GateVerdict::kPass);
  canary.latency_p99_ms = 26;
  const GateResult r = EvaluateGates(RolloutGates{}, canary, baseline);
  EXPECT_EQ(r.verdict, GateVerdict::kFail);
  EXPECT_TRUE(Mentions(r, "p99 latency ratio 1.30 (26.0 ms vs baseline 20.0 ms) > 1.25"))
      << r.Summary();
}

TEST(RolloutGate, AgreementOnBothSides) {
  CohortHealth canary = Healthy();
  canary.agreement = 0.95;
  EXPECT_EQ(EvaluateGates(RolloutGates{}, canary, Healthy()).verdict, GateVerdict::kPass);
  canary.agreement = 0.94;
  const GateResult r = EvaluateGates(RolloutGates{}, canary, Healthy());
  EXPECT_EQ(r.verdict, GateVerdict::kFail);
  EXPECT_TRUE(Mentions(r, "shadow agreement 94.00% < 95.00%")) << r.Summary();
}

TEST(RolloutGate, DriftOnBothSides) {
  CohortHealth canary = Healthy();
  canary.drift_psi = 0.25;
  EXPECT_EQ(EvaluateGates(RolloutGates{}, canary, Healthy()).verdict, GateVerdict::kPass);
  canary.drift_psi = 0.4;
  const GateResult r = EvaluateGates(RolloutGates{}, canary, Healthy());
  EXPECT_EQ(r.verdict, GateVerdict::kFail);
  EXPECT_TRUE(Mentions(r, "drift PSI 0.400 > 0.250")) << r.Summary();
}

TEST(RolloutGate, MetricsTheCanaryDoesNotReportAreSkippedAndSaySo) {
  CohortHealth canary = Healthy();
  canary.agreement.reset();
  canary.drift_psi.reset();
  const GateResult r = EvaluateGates(RolloutGates{}, canary, Healthy());
  EXPECT_EQ(r.verdict, GateVerdict::kPass);
  ASSERT_EQ(r.skipped.size(), 2u);
  EXPECT_TRUE(Mentions(r, "agreement gate not applied: the canary reports no shadow agreement"))
      << r.Summary();
  EXPECT_TRUE(Mentions(r, "drift gate not applied")) << r.Summary();
}

TEST(RolloutGate, BaselineGatesSkippedWithoutABaseline) {
  CohortHealth canary = Healthy();
  canary.latency_p99_ms = 1000;  // would fail against any baseline
  const GateResult r = EvaluateGates(RolloutGates{}, canary, CohortHealth{});
  EXPECT_EQ(r.verdict, GateVerdict::kPass) << r.Summary();
  EXPECT_TRUE(Mentions(r, "p99 latency gate not applied: the baseline has 0 records"))
      << r.Summary();
  EXPECT_TRUE(Mentions(r, "error rate increase gate not applied")) << r.Summary();
  // The absolute error rate still applies.
  canary.error_rate = 0.5;
  EXPECT_EQ(EvaluateGates(RolloutGates{}, canary, CohortHealth{}).verdict, GateVerdict::kFail);
}

TEST(RolloutGate, ReportsEveryFailedGate) {
  CohortHealth canary = Healthy();
  canary.error_rate = 0.1;
  canary.agreement = 0.5;
  const GateResult r = EvaluateGates(RolloutGates{}, canary, Healthy());
  EXPECT_EQ(r.verdict, GateVerdict::kFail);
  EXPECT_EQ(r.reasons.size(), 3u) << r.Summary();  // error rate, its increase, agreement
}

TEST(RolloutGate, GatesTurnedOffAreNotApplied) {
  RolloutGates g;
  g.max_error_rate.reset();
  g.max_error_rate_increase.reset();
  CohortHealth canary = Healthy();
  canary.error_rate = 0.9;
  EXPECT_EQ(EvaluateGates(g, canary, Healthy()).verdict, GateVerdict::kPass);
}

TEST(RolloutGate, JsonView) {
  CohortHealth canary = Healthy();
  canary.agreement.reset();
  canary.error_rate = 0.05;
  StageStatus status;
  status.eligible = 200;
  status.members = 20;
  status.canary = canary;
  status.baseline = Healthy();
  status.gate = EvaluateGates(RolloutGates{}, canary, Healthy());
  const nlohmann::json j = StageStatusToJson(status);
  EXPECT_EQ(j["eligible"], 200);
  EXPECT_EQ(j["members"], 20);
  EXPECT_EQ(j["gate"]["verdict"], "fail");
  EXPECT_EQ(j["gate"]["reasons"][0], "error rate 5.00% > 2.00%");
  EXPECT_EQ(j["gate"]["skipped"].size(), 1u);
  EXPECT_FALSE(j["canary"].contains("agreement"));
  EXPECT_EQ(j["baseline"]["agreement"], 0.99);
  EXPECT_EQ(j["canary"]["records"], 100);
}

}  // namespace
}  // namespace outpost::fleet
