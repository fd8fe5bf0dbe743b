// JSON views of a rollout stage's health and gate verdict, for the HTTP API and the dashboard
// (one shape everywhere a client sees them; docs/rollouts.md).
#pragma once

#include <nlohmann/json.hpp>

#include "fleet/rollout/rollout_controller.h"

namespace outpost::fleet {

// {"devices", "records", "inferences", "errors", "error_rate", "latency_p99_ms"} and, when
// reported, "agreement", "drift_psi", "temperature_max_c".
nlohmann::json CohortHealthToJson(const CohortHealth& health);

// {"verdict": "pass" | "wait" | "fail", "reasons": [...], "skipped": [...]}
nlohmann::json GateResultToJson(const GateResult& gate);

// {"eligible", "members", "canary": {...}, "baseline": {...}, "gate": {...}}
nlohmann::json StageStatusToJson(const StageStatus& status);

}  // namespace outpost::fleet
