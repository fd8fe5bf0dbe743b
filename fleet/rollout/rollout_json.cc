#include "fleet/rollout/rollout_json.h"

namespace outpost::fleet {

nlohmann::json CohortHealthToJson(const CohortHealth& h) {
  nlohmann::json j = {{"devices", h.devices},       {"records", h.records},
                      {"inferences", h.inferences}, {"errors", h.errors},
                      {"error_rate", h.error_rate}, {"latency_p99_ms", h.latency_p99_ms}};
  if (h.agreement) j["agreement"] = *h.agreement;
  if (h.drift_psi) j["drift_psi"] = *h.drift_psi;
  if (h.temperature_max_c) j["temperature_max_c"] = *h.temperature_max_c;
  return j;
}

nlohmann::json GateResultToJson(const GateResult& gate) {
  return {{"verdict", GateVerdictName(gate.verdict)},
          {"reasons", gate.reasons},
          {"skipped", gate.skipped}};
}

nlohmann::json StageStatusToJson(const StageStatus& s) {
  return {{"eligible", s.eligible},
          {"members", s.members},
          {"canary", CohortHealthToJson(s.canary)},
          {"baseline", CohortHealthToJson(s.baseline)},
          {"gate", GateResultToJson(s.gate)}};
}

}  // namespace outpost::fleet
