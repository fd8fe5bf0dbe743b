// Drives staged rollouts over the fleet store. Start() creates a rollout and assigns its first
// cohort; Tick() moves every running rollout along: it assigns the current stage's cohort
// (idempotent), and once the stage has been held long enough it evaluates the health gate
// (fleet/rollout/rollout_gate.h) on the stage's telemetry and advances, completes or halts
// the rollout (rolling the cohort back when the plan says so).
//
// Several server processes may run a controller over one database. Every state change is a
// compare-and-set on (state, stage) through FleetStore::UpdateRollout, and only the process
// whose change landed acts on it (assigns the next cohort, rolls back), so a stage is never
// advanced twice. Cohort assignment is idempotent and deterministic (fleet/rollout/cohort.h),
// so two controllers assigning the same stage choose the same devices.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/expected.h"
#include "fleet/rollout/rollout_gate.h"
#include "fleet/rollout/rollout_plan.h"
#include "fleet/store/fleet_store.h"

namespace outpost::fleet {

// What one Tick did, summed over the rollouts.
struct RolloutTickReport {
  int64_t rollouts = 0;       // running rollouts looked at
  int64_t members_added = 0;  // devices that joined a cohort
  int64_t advanced = 0;       // stages passed (this process made the change)
  int64_t completed = 0;
  int64_t halted = 0;
  std::vector<std::string> errors;  // one per rollout that could not be ticked
};

// The gate as it stands for a rollout's current stage.
struct StageStatus {
  CohortHealth canary;
  CohortHealth baseline;
  GateResult gate;
  int64_t members = 0;
  int64_t eligible = 0;
};

// How far a rollout has got, without the health figures (they cost telemetry queries): what
// rollout lists show.
struct RolloutProgress {
  int64_t members = 0;
  int64_t eligible = 0;
};

class RolloutController {
 public:
  explicit RolloutController(FleetStore& store) : store_(store) {}

  // Refuses a version missing from the registry, a plan that does not parse, a group with no
  // device running the model on another version, and a second active (running or paused)
  // rollout of the same model in the same group. The baseline is the version most eligible
  // devices run (ties: the lower version string). The first stage's cohort is assigned here.
  Expected<Rollout> Start(const std::string& model, const std::string& version,
                          const std::string& group, const std::string& plan_json, int64_t now_ms);

  // Moves every running rollout along; one rollout's error does not stop the others.
  Expected<RolloutTickReport> Tick(int64_t now_ms);

  // By hand, each with a reason kept on the rollout. Pause keeps the cohort where it is and
  // stops the gates; Resume continues the stage (its clock kept running); Abort rolls every
  // member back to its previous version, from running, paused or halted.
  Expected<Rollout> Pause(const std::string& id, const std::string& reason, int64_t now_ms);
  Expected<Rollout> Resume(const std::string& id, const std::string& reason, int64_t now_ms);
  Expected<Rollout> Abort(const std::string& id, const std::string& reason, int64_t now_ms);

  // The current stage's health and gate verdict over [stage_started_ms, now_ms), without
  // changing anything.
  Expected<StageStatus> Status(const Rollout& rollout, int64_t now_ms);
  Expected<RolloutProgress> Progress(const Rollout& rollout);

 private:
  void TickOne(const Rollout& rollout, int64_t now_ms, RolloutTickReport& report);
  std::vector<Device> EligibleDevices(const Rollout& rollout);
  int64_t AssignStage(const Rollout& rollout, const RolloutPlan& plan,
                      const std::vector<Device>& eligible, int64_t now_ms);
  StageStatus Measure(const Rollout& rollout, const RolloutPlan& plan,
                      const std::vector<Device>& eligible, int64_t now_ms);
  // Compare-and-set to kHalted; the process whose change landed rolls back when the plan
  // says so. Returns whether this process halted it.
  bool Halt(const Rollout& rollout, const RolloutPlan& plan, const std::string& reason,
            int64_t now_ms);
  // Moves a rollout from one of `from` states to `to`, retrying when another process changed
  // it in between.
  Rollout Transition(const std::string& id, std::initializer_list<RolloutState> from,
                     RolloutState to, const std::string& reason, int64_t now_ms);

  FleetStore& store_;
};

}  // namespace outpost::fleet
