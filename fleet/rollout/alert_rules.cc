#include "fleet/rollout/alert_rules.h"

#include <array>
#include <utility>

#include "common/json/strict_json.h"
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
  throw Error("alert rule: unknown " + std::string(what) + " " + ShowString(name) + " (one of " + list + ")");
}

// A required string that must not be empty.
std::string Required(const JsonFields& f, const char* key) {
  std::string s = f.String(key);
  if (s.empty()) f.Fail(key, "must not be empty");
  return s;
}

AlertRolloutAction ParseAction(const nlohmann::json& j) {
  const JsonFields f(j, "alert rule: then_rollout", {"model", "version", "group", "plan"});
  AlertRolloutAction a;
  a.model = Required(f, "model");
  a.version = Required(f, "version");
  a.group = f.OptString("group").value_or("");
  if (f.has("plan")) {
    Expected<RolloutPlan> plan = ParseRolloutPlan(j.at("plan"));
    if (!plan) f.FailObject(plan.message());
    a.plan = j.at("plan");
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
    const JsonFields f(j, "alert rule",
                       {"name", "metric", "op", "threshold", "model", "version", "window_s", "min_records",
                        "then_rollout"});
    AlertRuleSpec r;
    r.name = Required(f, "name");
    r.metric = Choose(kMetrics, Required(f, "metric"), "metric");
    r.op = Choose(kOps, Required(f, "op"), "op");
    r.threshold = f.Number("threshold", -1e12, 1e12);
    r.model = f.OptString("model").value_or("");
    r.version = f.OptString("version").value_or("");
    if (!r.version.empty() && r.model.empty()) throw Error("alert rule: 'version' needs a 'model'");
    if (r.metric != AlertMetric::kOfflineMinutes && r.model.empty())
      throw Error(std::string("alert rule: metric ") + AlertMetricName(r.metric) + " needs a 'model'");
    r.window_s = f.OptInt("window_s", 1, kMaxWindowS).value_or(r.window_s);
    r.min_records = f.OptInt("min_records", 1, 1000000000).value_or(r.min_records);
    if (f.has("then_rollout")) r.then_rollout = ParseAction(j.at("then_rollout"));
    return r;
  });
}

Expected<AlertRuleSpec> ParseAlertRule(const std::string& text) {
  Expected<nlohmann::json> j = Capture([&] { return ParseJsonText(text, "alert rule"); });
  if (!j.ok()) return j.error();
  return ParseAlertRule(*j);
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
