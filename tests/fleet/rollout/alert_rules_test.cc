// Alert rule parsing: the documented example, the action, and refusals.
#include "fleet/rollout/alert_rules.h"

#include <gtest/gtest.h>

namespace outpost::fleet {
namespace {

std::string RuleRefusal(const std::string& text) {
  Expected<AlertRuleSpec> rule = ParseAlertRule(text);
  EXPECT_FALSE(rule) << text;
  return rule.message();
}

TEST(AlertRules, ParsesTheDocumentedExample) {
  Expected<AlertRuleSpec> r = ParseAlertRule(std::string(
      R"({"name":"low agreement","metric":"agreement","op":"<","threshold":0.9,
          "model":"m","version":"1.1.0","window_s":600,"min_records":5})"));
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r->name, "low agreement");
  EXPECT_EQ(r->metric, AlertMetric::kAgreement);
  EXPECT_EQ(r->op, AlertOp::kLess);
  EXPECT_EQ(r->threshold, 0.9);
  EXPECT_EQ(r->model, "m");
  EXPECT_EQ(r->version, "1.1.0");
  EXPECT_EQ(r->window_s, 600);
  EXPECT_EQ(r->min_records, 5);
  EXPECT_FALSE(r->then_rollout);
}

TEST(AlertRules, ParsesARolloutActionAndRoundTrips) {
  Expected<AlertRuleSpec> r = ParseAlertRule(std::string(
      R"({"name":"bad","metric":"error_rate","op":">=","threshold":0.05,"model":"m",
          "then_rollout":{"model":"m","version":"1.0.0","plan":{"stages":[{"percent":100,"hold_s":0}]}}})"));
  ASSERT_TRUE(r) << r.message();
  ASSERT_TRUE(r->then_rollout);
  EXPECT_EQ(r->then_rollout->version, "1.0.0");
  EXPECT_EQ(r->then_rollout->plan["stages"][0]["percent"], 100);
  Expected<AlertRuleSpec> again = ParseAlertRule(AlertRuleToJson(*r));
  ASSERT_TRUE(again) << again.message();
  EXPECT_EQ(AlertRuleToJson(*again), AlertRuleToJson(*r));
}

TEST(AlertRules, EveryMetricAndOperatorIsKnown) {
  for (const char* metric :
       {"agreement", "error_rate", "drift_psi", "latency_p99_ms", "temperature_c"})
    for (const char* op : {"<", "<=", ">", ">="}) {
      nlohmann::json j = {
          {"name", "x"}, {"metric", metric}, {"op", op}, {"threshold", 1}, {"model", "m"}};
      Expected<AlertRuleSpec> r = ParseAlertRule(j);
      ASSERT_TRUE(r) << r.message();
      EXPECT_EQ(AlertMetricName(r->metric), std::string(metric));
      EXPECT_EQ(AlertOpName(r->op), std::string(op));
    }
  EXPECT_TRUE(ParseAlertRule(
      std::string(R"({"name":"gone","metric":"offline_minutes","op":">","threshold":30})")));
}

TEST(AlertRules, Compares) {
  EXPECT_TRUE(Compare(AlertOp::kLess, 1, 2));
  EXPECT_FALSE(Compare(AlertOp::kLess, 2, 2));
  EXPECT_TRUE(Compare(AlertOp::kLessEqual, 2, 2));
  EXPECT_TRUE(Compare(AlertOp::kGreater, 3, 2));
  EXPECT_FALSE(Compare(AlertOp::kGreater, 2, 2));
  EXPECT_TRUE(Compare(AlertOp::kGreaterEqual, 2, 2));
}

TEST(AlertRules, Refusals) {
  EXPECT_NE(
      RuleRefusal(R"({"name":"x","metric":"agreement","op":"<","threshold":1,"model":"m","windw_s":5})")
          .find("unknown field 'windw_s'"),
      std::string::npos);
  EXPECT_NE(RuleRefusal(R"({"name":"x","metric":"accuracy","op":"<","threshold":1,"model":"m"})")
                .find("unknown metric \"accuracy\""),
            std::string::npos);
  EXPECT_NE(RuleRefusal(R"({"name":"x","metric":"agreement","op":"!=","threshold":1,"model":"m"})")
                .find("unknown op"),
            std::string::npos);
  EXPECT_NE(RuleRefusal(R"({"name":"x","metric":"agreement","op":"<","model":"m"})")
                .find("'threshold' is required"),
            std::string::npos);
  EXPECT_NE(RuleRefusal(R"({"metric":"agreement","op":"<","threshold":1,"model":"m"})")
                .find("'name' is required"),
            std::string::npos);
  EXPECT_NE(RuleRefusal(R"({"name":"x","metric":"agreement","op":"<","threshold":1})")
                .find("needs a 'model'"),
            std::string::npos);
  EXPECT_NE(
      RuleRefusal(
          R"({"name":"x","metric":"agreement","op":"<","threshold":1,"model":"m","window_s":0})")
          .find("window_s"),
      std::string::npos);
  EXPECT_NE(RuleRefusal(R"({"name":"x","metric":"agreement","op":"<","threshold":"low","model":"m"})")
                .find("must be a number"),
            std::string::npos);
  EXPECT_NE(RuleRefusal(R"({"name":"x","metric":"agreement","op":"<","threshold":1,"model":"m",
                        "then_rollout":{"model":"m"}})")
                .find("then_rollout: 'version' is required"),
            std::string::npos);
  EXPECT_NE(RuleRefusal(R"({"name":"x","metric":"agreement","op":"<","threshold":1,"model":"m",
                        "then_rollout":{"model":"m","version":"1","plan":{"stages":[{"percent":5}]}}})")
                .find("must reach 100"),
            std::string::npos);
  EXPECT_NE(RuleRefusal("{").find("not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace outpost::fleet
