#include "fleet/rollout/rollout_plan.h"

#include "fleet/rollout/json_fields.h"

namespace outpost::fleet {

namespace {

constexpr int64_t kMaxStages = 20;
constexpr int64_t kMaxSeconds = 30LL * 24 * 3600;  // a month: longer is a typo
constexpr double kHuge = 1e9;

RolloutStage ParseStage(const nlohmann::json& j, size_t index) {
  const std::string where = "rollout plan: stage " + std::to_string(index);
  CheckFields(j, where, {"percent", "min_devices", "hold_s"});
  if (!j.contains("percent")) throw Error(where + ": 'percent' is required");
  RolloutStage s;
  s.percent = NumberField(j, where, "percent", s.percent, 0, 100);
  if (s.percent <= 0) throw Error(where + ": 'percent' must be greater than 0");
  s.min_devices = IntegerField(j, where, "min_devices", s.min_devices, 0, 1000000000);
  s.hold_s = IntegerField(j, where, "hold_s", s.hold_s, 0, kMaxSeconds);
  return s;
}

// A gate present as null is off; absent keeps the default.
void OptionalGate(const nlohmann::json& j, const char* key, double lo, double hi,
                  std::optional<double>& gate) {
  const auto it = j.find(key);
  if (it == j.end()) return;
  if (it->is_null()) {
    gate.reset();
    return;
  }
  gate = NumberField(j, "rollout plan: gates", key, 0, lo, hi);
}

RolloutGates ParseGates(const nlohmann::json& j) {
  CheckFields(j, "rollout plan: gates",
              {"min_records", "max_error_rate", "max_error_rate_increase", "max_p99_latency_ratio",
               "min_agreement", "max_drift_psi"});
  RolloutGates g;
  g.min_records =
      IntegerField(j, "rollout plan: gates", "min_records", g.min_records, 1, 1000000000);
  OptionalGate(j, "max_error_rate", 0, 1, g.max_error_rate);
  OptionalGate(j, "max_error_rate_increase", 0, 1, g.max_error_rate_increase);
  OptionalGate(j, "max_p99_latency_ratio", 1, kHuge, g.max_p99_latency_ratio);
  OptionalGate(j, "min_agreement", 0, 1, g.min_agreement);
  OptionalGate(j, "max_drift_psi", 0, kHuge, g.max_drift_psi);
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
    CheckFields(j, "rollout plan", {"stages", "gates", "on_failure", "max_wait_s"});
    if (const auto it = j.find("stages"); it != j.end()) {
      if (!it->is_array() || it->empty() || it->size() > static_cast<size_t>(kMaxStages))
        throw Error("rollout plan: 'stages' must be a list of 1 to " + std::to_string(kMaxStages) +
                    " stages");
      plan.stages.clear();
      for (size_t i = 0; i < it->size(); ++i) {
        RolloutStage s = ParseStage((*it)[i], i);
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
    if (const auto it = j.find("gates"); it != j.end()) plan.gates = ParseGates(*it);
    const std::string on_failure = StringField(j, "rollout plan", "on_failure", "rollback");
    if (on_failure == "rollback")
      plan.on_failure = OnFailure::kRollback;
    else if (on_failure == "halt")
      plan.on_failure = OnFailure::kHalt;
    else
      throw Error("rollout plan: 'on_failure' must be \"rollback\" or \"halt\", got \"" +
                  on_failure + "\"");
    plan.max_wait_s =
        IntegerField(j, "rollout plan", "max_wait_s", plan.max_wait_s, 1, kMaxSeconds);
    return plan;
  });
}

Expected<RolloutPlan> ParseRolloutPlan(const std::string& text) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return DefaultRolloutPlan();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return Error(std::string("rollout plan: not valid JSON (") + e.what() + ")");
  }
  return ParseRolloutPlan(j);
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
