// A rollout plan: the stages a new model version goes through (a growing percentage of the
// eligible devices, each held for a while), the health gates a stage must pass before the
// next one starts, and what happens when one fails. Operators write it as JSON
// (docs/rollouts.md); it is parsed strictly, because a misspelt gate that silently fell back
// to its default would let a bad model reach the whole fleet.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"

namespace outpost::fleet {

struct RolloutStage {
  double percent = 100;     // of the eligible devices, cumulative; (0, 100]
  int64_t min_devices = 1;  // at least this many (or every eligible device, when fewer)
  int64_t hold_s = 600;     // soak time before the gates are evaluated
};

// Each gate is optional: absent from the JSON, it takes the default below; null turns it off.
struct RolloutGates {
  int64_t min_records = 20;                               // canary telemetry needed to judge
  std::optional<double> max_error_rate = 0.02;            // canary errors / inferences
  std::optional<double> max_error_rate_increase = 0.005;  // canary minus baseline error rate
  std::optional<double> max_p99_latency_ratio = 1.25;     // canary p99 / baseline p99
  std::optional<double> min_agreement = 0.95;             // shadow-mode top-1 agreement
  std::optional<double> max_drift_psi = 0.25;             // output drift
};

enum class OnFailure { kRollback, kHalt };

struct RolloutPlan {
  std::vector<RolloutStage> stages;
  RolloutGates gates;
  OnFailure on_failure = OnFailure::kRollback;
  int64_t max_wait_s = 3600;  // after the hold, how long a stage may wait for min_records
};

// 1% (at least one device), 10%, 50%, 100%, each held 10 minutes, default gates, rollback.
RolloutPlan DefaultRolloutPlan();

// An empty string, "null" or "{}" gives the default plan; a plan without "stages" gets the
// default stages, and so on for each field.
Expected<RolloutPlan> ParseRolloutPlan(const std::string& text);
Expected<RolloutPlan> ParseRolloutPlan(const nlohmann::json& plan);
inline Expected<RolloutPlan> ParseRolloutPlan(const char* text) {
  return ParseRolloutPlan(std::string(text));
}

// The complete plan, every default written out: what a rollout stores, so that its behaviour
// never changes when a default does.
nlohmann::json RolloutPlanToJson(const RolloutPlan& plan);

const char* OnFailureName(OnFailure on_failure);

}  // namespace outpost::fleet
