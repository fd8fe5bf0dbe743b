// Alert rules: a metric of the fleet's telemetry compared with a threshold, e.g. "shadow
// agreement of m 1.1.0 below 0.9 over the last 10 minutes", optionally with an action that
// starts a rollout when the alert opens (move the fleet back to a known-good version). Stored
// as JSON in FleetStore's alert_rules (docs/rollouts.md) and parsed strictly.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/expected.h"

namespace outpost::fleet {

enum class AlertMetric {
  kAgreement,      // mean shadow agreement of model@version (records that carry it)
  kErrorRate,      // errors / inferences of model@version
  kDriftPsi,       // mean output drift of model@version
  kLatencyP99Ms,   // 99th percentile of the records' p99 latencies
  kTemperatureC,   // hottest device running model@version
  kOfflineMinutes  // per device: minutes since it was last seen
};
enum class AlertOp { kLess, kLessEqual, kGreater, kGreaterEqual };

const char* AlertMetricName(AlertMetric metric);
const char* AlertOpName(AlertOp op);
bool Compare(AlertOp op, double value, double threshold);

// "then_rollout": start a rollout of model@version (over `group`, "" the fleet) with `plan`.
struct AlertRolloutAction {
  std::string model;
  std::string version;
  std::string group;
  nlohmann::json plan;  // null: the default plan
};

struct AlertRuleSpec {
  std::string name;
  AlertMetric metric = AlertMetric::kErrorRate;
  AlertOp op = AlertOp::kGreater;
  double threshold = 0;
  // Scope. Telemetry metrics need a model; without a version each registered version of the
  // model is its own subject ("m@1.1.0"). offline_minutes needs neither (then: every device).
  std::string model;
  std::string version;
  int64_t window_s = 600;   // telemetry metrics look back this far
  int64_t min_records = 1;  // fewer records in the window: no verdict, the alert stays as it is
  std::optional<AlertRolloutAction> then_rollout;
};

Expected<AlertRuleSpec> ParseAlertRule(const nlohmann::json& rule);
Expected<AlertRuleSpec> ParseAlertRule(const std::string& text);
inline Expected<AlertRuleSpec> ParseAlertRule(const char* text) {
  return ParseAlertRule(std::string(text));
}
nlohmann::json AlertRuleToJson(const AlertRuleSpec& rule);

}  // namespace outpost::fleet
