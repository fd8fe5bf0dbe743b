#include "fleet/rollout/rollout_plan.h"

#include "common/json/strict_json.h"

namespace outpost::fleet {

namespace {

constexpr int64_t kMaxStages = 20;
constexpr int64_t kMaxSeconds = 30LL * 24 * 3600;  // a month: longer is a typo
constexpr double kHuge = 1e9;

RolloutStage ParseStage(const nlohmann::json& j, size_t index) {
  const JsonFields f(j, "rollout plan: stage " + std::to_string(index), {"percent", "min_devices", "hold_s"});
  RolloutStage s;
  s.percent = f.Number("percent", 0, 100);
  if (s.percent <= 0) f.Fail("percent", "must be greater than 0");
  s.min_devices = f.OptInt("min_devices", 0, 1000000000).value_or(s.min_devices);
  s.hold_s = f.OptInt("hold_s", 0, kMaxSeconds).value_or(s.hold_s);
  return s;
}

RolloutGates ParseGates(const nlohmann::json& j) {
  const JsonFields f(j, "rollout plan: gates",
                     {"min_records", "max_error_rate", "max_error_rate_increase", "max_p99_latency_ratio",
                      "min_agreement", "max_drift_psi"});
  RolloutGates g;
  g.min_records = f.OptInt("min_records", 1, 1000000000).value_or(g.min_records);
  // A gate present as null is off; absent keeps the default.
  const auto gate = [&f](const char* key, double lo, double hi, std::optional<double>& value) {
    if (f.has(key)) value = f.OptNumber(key, lo, hi);
  };
  gate("max_error_rate", 0, 1, g.max_error_rate);
  gate("max_error_rate_increase", 0, 1, g.max_error_rate_increase);
  gate("max_p99_latency_ratio", 1, kHuge, g.max_p99_latency_ratio);
  gate("min_agreement", 0, 1, g.min_agreement);
  gate("max_drift_psi", 0, kHuge, g.max_drift_psi);
  return g;
}

nlohmann::json GateJson(const std::optional<double>& gate) {
  return gate ? nlohmann::json(*gate) : nlohmann::json(nullptr);
}

}  // namespace

RolloutPlan DefaultRolloutPlan() {
  RolloutPlan p;
  p.stages = {{1, 1, 600}, {10, 1, 600}, {50, 1, 600}, {100, 1, 600}};
  return p;
}

const char* OnFailureName(OnFailure on_failure) {
  return on_failure == OnFailure::kRollback ? "rollback" : "halt";
}

Expected<RolloutPlan> ParseRolloutPlan(const nlohmann::json& j) {
  return Capture([&] {
    RolloutPlan plan = DefaultRolloutPlan();
    if (j.is_null()) return plan;
    const JsonFields f(j, "rollout plan", {"stages", "gates", "on_failure", "max_wait_s"});
    if (f.has("stages")) {
      const nlohmann::json& stages = f.Array("stages");
      if (stages.empty() || stages.size() > static_cast<size_t>(kMaxStages))
        f.Fail("stages", "must be a list of 1 to " + std::to_string(kMaxStages) + " stages");
      plan.stages.clear();
      for (size_t i = 0; i < stages.size(); ++i) {
        RolloutStage s = ParseStage(stages[i], i);
        if (!plan.stages.empty() && s.percent <= plan.stages.back().percent)
          throw Error("rollout plan: stage " + std::to_string(i) +
                      ": 'percent' must be greater than the previous "
                      "stage's (" +
                      nlohmann::json(plan.stages.back().percent).dump() + "), got " +
                      nlohmann::json(s.percent).dump());
        plan.stages.push_back(s);
      }
      if (plan.stages.back().percent != 100)
        throw Error("rollout plan: the last stage must reach 100 percent, got " +
                    nlohmann::json(plan.stages.back().percent).dump());
    }
    if (const nlohmann::json* gates = f.OptObject("gates")) plan.gates = ParseGates(*gates);
    const std::string on_failure = f.OptString("on_failure").value_or("rollback");
    if (on_failure == "rollback")
      plan.on_failure = OnFailure::kRollback;
    else if (on_failure == "halt")
      plan.on_failure = OnFailure::kHalt;
    else
      f.Fail("on_failure", "must be \"rollback\" or \"halt\", got " + ShowString(on_failure));
    plan.max_wait_s = f.OptInt("max_wait_s", 1, kMaxSeconds).value_or(plan.max_wait_s);
    return plan;
  });
}

Expected<RolloutPlan> ParseRolloutPlan(const std::string& text) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return DefaultRolloutPlan();
  Expected<nlohmann::json> j = Capture([&] { return ParseJsonText(text, "rollout plan"); });
  if (!j.ok()) return j.error();
  return ParseRolloutPlan(*j);
}

nlohmann::json RolloutPlanToJson(const RolloutPlan& plan) {
  nlohmann::json stages = nlohmann::json::array();
  for (const RolloutStage& s : plan.stages)
    stages.push_back(
        {{"percent", s.percent}, {"min_devices", s.min_devices}, {"hold_s", s.hold_s}});
  const RolloutGates& g = plan.gates;
  return {{"stages", stages},
          {"gates",
           {{"min_records", g.min_records},
            {"max_error_rate", GateJson(g.max_error_rate)},
            {"max_error_rate_increase", GateJson(g.max_error_rate_increase)},
            {"max_p99_latency_ratio", GateJson(g.max_p99_latency_ratio)},
            {"min_agreement", GateJson(g.min_agreement)},
            {"max_drift_psi", GateJson(g.max_drift_psi)}}},
          {"on_failure", OnFailureName(plan.on_failure)},
          {"max_wait_s", plan.max_wait_s}};
}

}  // namespace outpost::fleet
