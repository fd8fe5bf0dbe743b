// The health gate between two rollout stages, as a pure function of the plan's thresholds and
// two cohorts' telemetry over the stage's window: the canary (rollout members already running
// the new version) and the baseline (eligible devices still on the old one). Comparing with a
// baseline measured over the same window separates what the new version changed from what the
// world changed (a hot afternoon, a busier line).
#pragma once

#include <string>
#include <vector>

#include "fleet/rollout/rollout_plan.h"
#include "fleet/store/fleet_store.h"

namespace outpost::fleet {

enum class GateVerdict { kPass, kWait, kFail };
const char* GateVerdictName(GateVerdict verdict);

struct GateResult {
  GateVerdict verdict = GateVerdict::kWait;
  // Why: the failed gates when kFail, the missing data when kWait, the gates passed when
  // kPass; each line carries the numbers ("error rate 3.10% > 2.00%").
  std::vector<std::string> reasons;
  // Gates not applied, and why ("agreement gate not applied: the canary reports no shadow
  // agreement").
  std::vector<std::string> skipped;

  // reasons, then skipped, joined with "; ".
  std::string Summary() const;
};

// A baseline is compared with only when it has at least `gates.min_records` records of its
// own; a gate needing one is skipped otherwise (as in the last stage, when every eligible
// device is in the canary).
GateResult EvaluateGates(const RolloutGates& gates, const CohortHealth& canary,
                         const CohortHealth& baseline);

}  // namespace outpost::fleet
