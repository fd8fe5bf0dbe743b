// `outpost plan` (docs/advisor.md, "Plan"): which catalog targets can run a model within a
// latency, memory, power, cost and battery budget, ranked, with a pass / fail / unknown verdict
// per constraint, the optimization that would make a failing target pass, and a recommendation.
//
// Pure functions: the caller supplies the model's totals and a latency estimate per target
// (measured on this host, or from the per-target fit of the published calibration points). A
// catalog figure that is unknown gives "unknown", never a guess; a peak figure is used only as
// the bound it is (a peak power within the budget passes, one above it proves nothing).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "advisor/catalog/hardware_catalog.h"
#include "common/expected.h"

namespace outpost::advisor {

struct PlanConstraints {
  std::optional<double> latency_ms;
  std::optional<double> ram_mb;  // memory the model may use (arena + weights in RAM), MiB
  std::optional<double> power_w;
  std::optional<double> unit_cost_usd;
  std::optional<double> battery_wh;  // battery capacity; with hours: a battery-life constraint
  std::optional<double> hours;       // required battery life
  double duty_cycle = 1.0;           // share of the time spent running inferences, (0, 1]
};

// Checks ranges and combinations; one message per problem.
Expected<PlanConstraints> ValidateConstraints(const PlanConstraints& c);

// What the plan needs to know about the model.
struct PlanModel {
  std::string name;
  uint64_t macs = 0;
  uint64_t weight_bytes = 0;
  uint64_t arena_bytes = 0;  // the runtime's total arena (Interpreter::Measure)
  Precision precision = Precision::kFp32;
};

struct LatencyEstimate {
  double ms = 0;
  // Multiplicative uncertainty (the truth is within ms / f .. ms * f on the points it was
  // scored on); empty when there is no error estimate.
  std::optional<double> error_factor;
  std::string basis;  // where the figure comes from, in words
  bool measured = false;  // timed on this machine rather than estimated
};

// One rate per group of comparable published points (target, engine, precision, threads,
// runtime): the geometric mean of MACs / latency, with the worst leave-one-out error factor.
struct PublishedFit {
  std::string target, engine, runtime;
  Precision precision = Precision::kFp32;
  int threads = 0;
  double macs_per_s = 0;
  std::vector<std::string> points;
  std::optional<double> loo_error_factor;  // empty with one point
};
std::vector<PublishedFit> FitPublishedPoints(const CalibrationSet& points);

// The estimate for `macs` at `precision` on `target` from its best fit (most points, then most
// threads); empty when the target has no fit at that precision.
std::optional<LatencyEstimate> EstimateFromPublished(const std::vector<PublishedFit>& fits, const std::string& target,
                                                     Precision precision, uint64_t macs);

// Latency estimates for one target: the model as it is, and after int8 quantization.
struct TargetLatency {
  std::optional<LatencyEstimate> as_is;
  std::optional<LatencyEstimate> int8;
};

enum class Verdict { kPass, kFail, kUnknown, kNotAsked };
std::string_view VerdictName(Verdict v);  // "pass", "FAIL", "unknown", "-"

struct Check {
  Verdict verdict = Verdict::kNotAsked;
  std::string detail;
};

struct PlanRow {
  std::string target, name, kind;
  std::optional<LatencyEstimate> latency;
  std::optional<double> ram_need_bytes, ram_bytes;      // need: arena + weights (MCU: arena)
  std::optional<double> flash_need_bytes, flash_bytes;  // MCUs: weights in flash
  std::optional<double> power_w;
  bool power_is_peak = false;  // power_w is the peak figure: energy and battery life are bounds
  std::optional<double> energy_mj;      // per inference
  std::optional<double> battery_hours;  // with the duty cycle
  std::optional<double> cost_usd;
  Check latency_check, memory_check, power_check, cost_check, battery_check;
  std::vector<std::string> fixes;  // what would make a failing constraint pass
  int fails = 0, unknowns = 0;
};

struct Plan {
  std::vector<PlanRow> rows;  // best first
  std::string recommendation;
  std::vector<std::string> reasons;
};

// Every catalog target, checked and ranked: fewest failed constraints, then fewest unknown,
// then lowest latency (none last), then lowest cost.
Plan MakePlan(const PlanConstraints& c, const PlanModel& model, const HardwareCatalog& catalog,
              const std::map<std::string, TargetLatency>& latencies);

}  // namespace outpost::advisor
