#include "fleet/rollout/alert_rules.h"

#include <array>
#include <utility>

#include "fleet/rollout/json_fields.h"
#include "fleet/rollout/rollout_plan.h"

namespace outpost::fleet {

namespace {

constexpr std::array<std::pair<AlertMetric, const char*>, 6> kMetrics{{
    {AlertMetric::kAgreement, "agreement"},
    {AlertMetric::kErrorRate, "error_rate"},
    {AlertMetric::kDriftPsi, "drift_psi"},
    {AlertMetric::kLatencyP99Ms, "latency_p99_ms"},
    {AlertMetric::kTemperatureC, "temperature_c"},
    {AlertMetric::kOfflineMinutes, "offline_minutes"},
}};
constexpr std::array<std::pair<AlertOp, const char*>, 4> kOps{{{AlertOp::kLess, "<"},
                                                               {AlertOp::kLessEqual, "<="},
                                                               {AlertOp::kGreater, ">"},
                                                               {AlertOp::kGreaterEqual, ">="}}};

constexpr int64_t kMaxWindowS = 30LL * 24 * 3600;

template <typename E, size_t N>
E Choose(const std::array<std::pair<E, const char*>, N>& table, const std::string& name,
         const char* what) {
  std::string list;
  for (const auto& [value, text] : table) {
    if (name == text) return value;
    list += (list.empty() ? "" : ", ") + std::string(text);
  }
  throw Error("alert rule: unknown " + std::string(what) + " \"" + name + "\" (one of " + list +
              ")");
}

std::string Required(const nlohmann::json& j, const std::string& where, const char* key) {
  if (!j.contains(key)) throw Error(where + ": '" + key + "' is required");
  std::string s = StringField(j, where, key, "");
  if (s.empty()) throw Error(where + ": '" + key + "' must not be empty");
  return s;
}

AlertRolloutAction ParseAction(const nlohmann::json& j) {
  const std::string where = "alert rule: then_rollout";
  CheckFields(j, where, {"model", "version", "group", "plan"});
  AlertRolloutAction a;
  a.model = Required(j, where, "model");
  a.version = Required(j, where, "version");
  a.group = StringField(j, where, "group", "");
  if (const auto it = j.find("plan"); it != j.end()) {
    Expected<RolloutPlan> plan = ParseRolloutPlan(*it);
    if (!plan) throw Error(where + ": " + plan.message());
    a.plan = *it;
  }
  return a;
}

}  // namespace

const char* AlertMetricName(AlertMetric metric) {
  for (const auto& [value, text] : kMetrics)
    if (value == metric) return text;
  return "?";
}

const char* AlertOpName(AlertOp op) {
  for (const auto& [value, text] : kOps)
    if (value == op) return text;
  return "?";
}

bool Compare(AlertOp op, double value, double threshold) {
  switch (op) {
    case AlertOp::kLess:
      return value < threshold;
    case AlertOp::kLessEqual:
      return value <= threshold;
    case AlertOp::kGreater:
      return value > threshold;
    case AlertOp::kGreaterEqual:
      return value >= threshold;
  }
  return false;
}

Expected<AlertRuleSpec> ParseAlertRule(const nlohmann::json& j) {
  return Capture([&] {
    const std::string where = "alert rule";
    CheckFields(j, where,
                {"name", "metric", "op", "threshold", "model", "version", "window_s", "min_records",
                 "then_rollout"});
    AlertRuleSpec r;
    r.name = Required(j, where, "name");
    r.metric = Choose(kMetrics, Required(j, where, "metric"), "metric");
    r.op = Choose(kOps, Required(j, where, "op"), "op");
    if (!j.contains("threshold")) throw Error("alert rule: 'threshold' is required");
    r.threshold = NumberField(j, where, "threshold", 0, -1e12, 1e12);
    r.model = StringField(j, where, "model", "");
    r.version = StringField(j, where, "version", "");
    if (!r.version.empty() && r.model.empty()) throw Error("alert rule: 'version' needs a 'model'");
    if (r.metric != AlertMetric::kOfflineMinutes && r.model.empty())
      throw Error(std::string("alert rule: metric ") + AlertMetricName(r.metric) +
                  " needs a 'model'");
    r.window_s = IntegerField(j, where, "window_s", r.window_s, 1, kMaxWindowS);
    r.min_records = IntegerField(j, where, "min_records", r.min_records, 1, 1000000000);
    if (const auto it = j.find("then_rollout"); it != j.end()) r.then_rollout = ParseAction(*it);
    return r;
  });
}

Expected<AlertRuleSpec> ParseAlertRule(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return Error(std::string("alert rule: not valid JSON (") + e.what() + ")");
  }
  return ParseAlertRule(j);
}

nlohmann::json AlertRuleToJson(const AlertRuleSpec& r) {
  nlohmann::json j = {{"name", r.name},          {"metric", AlertMetricName(r.metric)},
                      {"op", AlertOpName(r.op)}, {"threshold", r.threshold},
                      {"window_s", r.window_s},  {"min_records", r.min_records}};
  if (!r.model.empty()) j["model"] = r.model;
  if (!r.version.empty()) j["version"] = r.version;
  if (r.then_rollout) {
    nlohmann::json a = {{"model", r.then_rollout->model}, {"version", r.then_rollout->version}};
    if (!r.then_rollout->group.empty()) a["group"] = r.then_rollout->group;
    if (!r.then_rollout->plan.is_null()) a["plan"] = r.then_rollout->plan;
    j["then_rollout"] = a;
  }
  return j;
}

}  // namespace outpost::fleet
