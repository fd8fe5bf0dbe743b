// Rollout plans: the documented example, defaults, and every refusal with its message.
#include "fleet/rollout/rollout_plan.h"

#include <gtest/gtest.h>

namespace outpost::fleet {
namespace {

std::string PlanRefusal(const std::string& text) {
  Expected<RolloutPlan> plan = ParseRolloutPlan(text);
  EXPECT_FALSE(plan) << text;
  return plan.message();
}

TEST(RolloutPlan, ParsesTheDocumentedExample) {
  Expected<RolloutPlan> plan = ParseRolloutPlan(R"({
    "stages": [{"percent": 1, "min_devices": 1, "hold_s": 600},
               {"percent": 10, "hold_s": 600}, {"percent": 50, "hold_s": 600}, {"percent": 100, "hold_s": 0}],
    "gates": {"min_records": 20, "max_error_rate": 0.02, "max_error_rate_increase": 0.005,
              "max_p99_latency_ratio": 1.25, "min_agreement": 0.95, "max_drift_psi": 0.25},
    "on_failure": "halt", "max_wait_s": 1800})");
  ASSERT_TRUE(plan) << plan.message();
  ASSERT_EQ(plan->stages.size(), 4u);
  EXPECT_EQ(plan->stages[0].percent, 1);
  EXPECT_EQ(plan->stages[1].min_devices, 1);  // default
  EXPECT_EQ(plan->stages[3].hold_s, 0);
  EXPECT_EQ(plan->gates.min_records, 20);
  EXPECT_EQ(plan->gates.max_p99_latency_ratio, 1.25);
  EXPECT_EQ(plan->on_failure, OnFailure::kHalt);
  EXPECT_EQ(plan->max_wait_s, 1800);
}

TEST(RolloutPlan, EmptyGivesTheDefaultPlan) {
  for (const char* text : {"", "  ", "null", "{}"}) {
    Expected<RolloutPlan> plan = ParseRolloutPlan(std::string(text));
    ASSERT_TRUE(plan) << plan.message();
    ASSERT_EQ(plan->stages.size(), 4u);
    EXPECT_EQ(plan->stages[0].percent, 1);
    EXPECT_EQ(plan->stages[1].percent, 10);
    EXPECT_EQ(plan->stages[2].percent, 50);
    EXPECT_EQ(plan->stages[3].percent, 100);
    EXPECT_EQ(plan->on_failure, OnFailure::kRollback);
    EXPECT_EQ(plan->max_wait_s, 3600);
    EXPECT_EQ(plan->gates.max_error_rate, 0.02);
  }
}

TEST(RolloutPlan, NullTurnsAGateOffAndAbsentKeepsItsDefault) {
  Expected<RolloutPlan> plan =
      ParseRolloutPlan(R"({"gates": {"min_agreement": null, "max_error_rate": 0.1}})");
  ASSERT_TRUE(plan) << plan.message();
  EXPECT_FALSE(plan->gates.min_agreement);
  EXPECT_EQ(plan->gates.max_error_rate, 0.1);
  EXPECT_EQ(plan->gates.max_drift_psi, 0.25);
}

TEST(RolloutPlan, RoundTripsThroughItsJson) {
  Expected<RolloutPlan> plan = ParseRolloutPlan(
      R"({"stages": [{"percent": 5, "min_devices": 3, "hold_s": 60}, {"percent": 100}],
                           "gates": {"max_drift_psi": null}, "on_failure": "halt", "max_wait_s": 120})");
  ASSERT_TRUE(plan) << plan.message();
  Expected<RolloutPlan> again = ParseRolloutPlan(RolloutPlanToJson(*plan));
  ASSERT_TRUE(again) << again.message();
  EXPECT_EQ(RolloutPlanToJson(*again), RolloutPlanToJson(*plan));
  EXPECT_EQ(again->stages[0].min_devices, 3);
  EXPECT_FALSE(again->gates.max_drift_psi);
  EXPECT_EQ(again->on_failure, OnFailure::kHalt);
}

TEST(RolloutPlan, RefusesUnknownFields) {
  EXPECT_NE(PlanRefusal(R"({"stage": []})").find("unknown field 'stage'"), std::string::npos);
  EXPECT_NE(PlanRefusal(R"({"gates": {"max_error": 0.1}})").find("unknown field 'max_error'"),
            std::string::npos);
  EXPECT_NE(PlanRefusal(R"({"stages": [{"percent": 100, "hold": 5}]})").find("unknown field 'hold'"),
            std::string::npos);
}

TEST(RolloutPlan, RefusesBadStages) {
  EXPECT_NE(PlanRefusal(R"({"stages": [{"percent": 50}, {"percent": 10}, {"percent": 100}]})")
                .find("greater than the previous"),
            std::string::npos);
  EXPECT_NE(PlanRefusal(R"({"stages": [{"percent": 10}, {"percent": 10}, {"percent": 100}]})")
                .find("greater than the previous"),
            std::string::npos);
  EXPECT_NE(PlanRefusal(R"({"stages": [{"percent": 10}, {"percent": 50}]})").find("must reach 100"),
            std::string::npos);
  EXPECT_NE(PlanRefusal(R"({"stages": [{"percent": 0}, {"percent": 100}]})").find("greater than 0"),
            std::string::npos);
  EXPECT_NE(PlanRefusal(R"({"stages": [{"percent": 101}]})").find("0..100"), std::string::npos);
  EXPECT_NE(PlanRefusal(R"({"stages": []})").find("list of 1 to"), std::string::npos);
  EXPECT_NE(PlanRefusal(R"({"stages": [{"hold_s": 5}]})").find("'percent' is required"),
            std::string::npos);
  EXPECT_NE(PlanRefusal(R"({"stages": [{"percent": 100, "hold_s": -1}]})").find("hold_s"),
            std::string::npos);
  EXPECT_NE(PlanRefusal(R"({"stages": [{"percent": 100, "min_devices": 1.5}]})").find("whole number"),
            std::string::npos);
  EXPECT_NE(PlanRefusal(R"({"stages": [{"percent": "10"}]})").find("must be a number"),
            std::string::npos);
}

TEST(RolloutPlan, RefusesOutOfRangeGatesAndOptions) {
  EXPECT_NE(
      PlanRefusal(R"({"gates": {"max_error_rate": 1.5}})").find("max_error_rate' must be in 0..1"),
      std::string::npos);
  EXPECT_NE(PlanRefusal(R"({"gates": {"min_agreement": -0.1}})").find("min_agreement"),
            std::string::npos);
  EXPECT_NE(PlanRefusal(R"({"gates": {"max_p99_latency_ratio": 0.5}})").find("max_p99_latency_ratio"),
            std::string::npos);
  EXPECT_NE(PlanRefusal(R"({"gates": {"min_records": 0}})").find("min_records"), std::string::npos);
  EXPECT_NE(PlanRefusal(R"({"on_failure": "panic"})").find("\"rollback\" or \"halt\""),
            std::string::npos);
  EXPECT_NE(PlanRefusal(R"({"max_wait_s": 0})").find("max_wait_s"), std::string::npos);
  EXPECT_NE(PlanRefusal(R"([1, 2])").find("expected a JSON object"), std::string::npos);
  EXPECT_NE(PlanRefusal(R"({"stages": )").find("not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace outpost::fleet
