#include "fleet/rollout/rollout_gate.h"

#include <cstdio>

namespace outpost::fleet {

namespace {

std::string Percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f%%", fraction * 100);
  return buf;
}

std::string Fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

// Collects pass and fail lines of the gates as they are applied.
struct Checks {
  std::vector<std::string> passed, failed, skipped;
  void Check(bool ok, const std::string& what, const std::string& value, const std::string& bad_op,
             const std::string& good_op, const std::string& limit) {
    (ok ? passed : failed)
        .push_back(what + " " + value + " " + (ok ? good_op : bad_op) + " " + limit);
  }
};

}  // namespace

const char* GateVerdictName(GateVerdict verdict) {
  switch (verdict) {
    case GateVerdict::kPass:
      return "pass";
    case GateVerdict::kWait:
      return "wait";
    case GateVerdict::kFail:
      return "fail";
  }
  return "?";
}

std::string GateResult::Summary() const {
  std::string s;
  for (const auto* list : {&reasons, &skipped})
    for (const std::string& line : *list) s += (s.empty() ? "" : "; ") + line;
  return s;
}

GateResult EvaluateGates(const RolloutGates& gates, const CohortHealth& canary,
                         const CohortHealth& baseline) {
  GateResult result;
  if (canary.records < gates.min_records) {
    result.verdict = GateVerdict::kWait;
    result.reasons.push_back("canary has " + std::to_string(canary.records) +
                             " telemetry records from " + std::to_string(canary.devices) +
                             " devices, " + std::to_string(gates.min_records) + " needed");
    return result;
  }
  const bool has_baseline = baseline.records >= gates.min_records;
  const std::string no_baseline = " not applied: the baseline has " +
                                  std::to_string(baseline.records) + " records, " +
                                  std::to_string(gates.min_records) + " needed";
  Checks c;

  if (gates.max_error_rate)
    c.Check(canary.error_rate <= *gates.max_error_rate, "error rate", Percent(canary.error_rate),
            ">", "<=", Percent(*gates.max_error_rate));

  if (gates.max_error_rate_increase) {
    if (!has_baseline) {
      c.skipped.push_back("error rate increase gate" + no_baseline);
    } else {
      const double increase = canary.error_rate - baseline.error_rate;
      c.Check(increase <= *gates.max_error_rate_increase, "error rate increase",
              Percent(increase) + " (" + Percent(canary.error_rate) + " vs baseline " +
                  Percent(baseline.error_rate) + ")",
              ">", "<=", Percent(*gates.max_error_rate_increase));
    }
  }

  if (gates.max_p99_latency_ratio) {
    if (!has_baseline) {
      c.skipped.push_back("p99 latency gate" + no_baseline);
    } else if (baseline.latency_p99_ms <= 0) {
      c.skipped.push_back("p99 latency gate not applied: the baseline reports no latency");
    } else {
      const double ratio = canary.latency_p99_ms / baseline.latency_p99_ms;
      c.Check(ratio <= *gates.max_p99_latency_ratio, "p99 latency ratio",
              Fixed(ratio, 2) + " (" + Fixed(canary.latency_p99_ms, 1) + " ms vs baseline " +
                  Fixed(baseline.latency_p99_ms, 1) + " ms)",
              ">", "<=", Fixed(*gates.max_p99_latency_ratio, 2));
    }
  }

  if (gates.min_agreement) {
    if (!canary.agreement)
      c.skipped.push_back("agreement gate not applied: the canary reports no shadow agreement");
    else
      c.Check(*canary.agreement >= *gates.min_agreement, "shadow agreement",
              Percent(*canary.agreement), "<", ">=", Percent(*gates.min_agreement));
  }

  if (gates.max_drift_psi) {
    if (!canary.drift_psi)
      c.skipped.push_back("drift gate not applied: the canary reports no drift");
    else
      c.Check(*canary.drift_psi <= *gates.max_drift_psi, "drift PSI", Fixed(*canary.drift_psi, 3),
              ">", "<=", Fixed(*gates.max_drift_psi, 3));
  }

  result.verdict = c.failed.empty() ? GateVerdict::kPass : GateVerdict::kFail;
  result.reasons = c.failed.empty() ? std::move(c.passed) : std::move(c.failed);
  result.skipped = std::move(c.skipped);
  return result;
}

}  // namespace outpost::fleet
