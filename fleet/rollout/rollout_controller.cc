#include "fleet/rollout/rollout_controller.h"

#include <algorithm>
#include <map>
#include <unordered_set>

#include "fleet/rollout/cohort.h"
#include "fleet/rollout/store_calls.h"
#include "fleet/store/random_id.h"

namespace outpost::fleet {

namespace {

bool Active(RolloutState state) {
  return state == RolloutState::kRunning || state == RolloutState::kPaused;
}

std::string StageName(int64_t stage, const RolloutPlan& plan) {
  const size_t i = static_cast<size_t>(stage);
  std::string percent =
      i < plan.stages.size() ? nlohmann::json(plan.stages[i].percent).dump() : "?";
  if (percent.size() > 2 && percent.ends_with(".0")) percent.resize(percent.size() - 2);
  return "stage " + std::to_string(stage) + " (" + percent + "%)";
}

RolloutPlan StoredPlan(const Rollout& rollout) {
  Expected<RolloutPlan> plan = ParseRolloutPlan(rollout.plan_json);
  if (!plan) throw Error("rollout " + rollout.id + " has an unreadable plan: " + plan.message());
  if (rollout.stage < 0 || rollout.stage >= static_cast<int64_t>(plan->stages.size()))
    throw Error("rollout " + rollout.id + " is at stage " + std::to_string(rollout.stage) +
                " of a " + std::to_string(plan->stages.size()) + "-stage plan");
  return *plan;
}

}  // namespace

std::vector<Device> RolloutController::EligibleDevices(const Rollout& rollout) {
  // Eligible: the group's devices that report running the model, on any version.
  std::vector<Device> eligible;
  DeviceFilter filter;
  filter.group = rollout.group;
  filter.model = rollout.model;
  for (Device& d : AllDevices(store_, filter))
    if (d.model == rollout.model) eligible.push_back(std::move(d));
  return eligible;
}

int64_t RolloutController::AssignStage(const Rollout& rollout, const RolloutPlan& plan,
                                       const std::vector<Device>& eligible, int64_t now_ms) {
  const RolloutStage& stage = plan.stages[static_cast<size_t>(rollout.stage)];
  std::map<std::string, const Device*> by_id;
  std::vector<std::string> ids;
  for (const Device& d : eligible) by_id[d.id] = &d, ids.push_back(d.id);
  std::unordered_set<std::string> members;
  for (const RolloutMember& m : Take(store_.ListRolloutMembers(rollout.id)))
    members.insert(m.device_id);

  std::vector<RolloutMember> joining;
  for (const std::string& id : SelectCohort(rollout.id, ids, stage.percent, stage.min_devices)) {
    if (members.count(id)) continue;
    const Device& d = *by_id.at(id);
    RolloutMember m;
    m.rollout_id = rollout.id;
    m.device_id = id;
    m.stage = rollout.stage;
    // A device already on the new version (set by hand) goes back to the baseline on rollback.
    m.previous_version =
        d.version.empty() || d.version == rollout.version ? rollout.baseline_version : d.version;
    m.assigned_ms = now_ms;
    joining.push_back(std::move(m));
  }
  if (joining.empty()) return 0;
  return Take(store_.AddRolloutMembers(rollout, joining));
}

StageStatus RolloutController::Measure(const Rollout& rollout, const RolloutPlan& plan,
                                       const std::vector<Device>& eligible, int64_t now_ms) {
  StageStatus s;
  s.eligible = static_cast<int64_t>(eligible.size());
  std::unordered_set<std::string> member_set;
  std::vector<std::string> members, others;
  for (const RolloutMember& m : Take(store_.ListRolloutMembers(rollout.id))) {
    member_set.insert(m.device_id);
    members.push_back(m.device_id);
  }
  for (const Device& d : eligible)
    if (!member_set.count(d.id)) others.push_back(d.id);
  s.members = static_cast<int64_t>(members.size());
  // An empty device list means "every device" to the store: an empty cohort has no health.
  const int64_t since = rollout.stage_started_ms;
  if (!members.empty())
    s.canary = Take(store_.VersionHealth(rollout.model, rollout.version, since, now_ms, members));
  if (!others.empty())
    s.baseline =
        Take(store_.VersionHealth(rollout.model, rollout.baseline_version, since, now_ms, others));
  s.gate = EvaluateGates(plan.gates, s.canary, s.baseline);
  return s;
}

bool RolloutController::Halt(const Rollout& rollout, const RolloutPlan& plan,
                             const std::string& reason, int64_t now_ms) {
  const bool rollback = plan.on_failure == OnFailure::kRollback;
  const std::string full =
      reason + (rollback ? "; cohort rolled back to its previous versions" : "");
  if (!Take(store_.UpdateRollout(rollout.id, RolloutState::kRunning, rollout.stage,
                                 RolloutState::kHalted, rollout.stage, full, now_ms)))
    return false;
  if (rollback) Take(store_.RevertRolloutMembers(rollout, now_ms));
  return true;
}

void RolloutController::TickOne(const Rollout& rollout, int64_t now_ms, RolloutTickReport& report) {
  RolloutPlan plan;
  try {
    plan = StoredPlan(rollout);
  } catch (const Error& e) {
    // Nothing can be judged without the plan: stop, keep the cohort where it is.
    if (Take(store_.UpdateRollout(rollout.id, RolloutState::kRunning, rollout.stage,
                                  RolloutState::kHalted, rollout.stage, e.what(), now_ms)))
      ++report.halted;
    return;
  }
  const std::vector<Device> eligible = EligibleDevices(rollout);
  report.members_added += AssignStage(rollout, plan, eligible, now_ms);

  const RolloutStage& stage = plan.stages[static_cast<size_t>(rollout.stage)];
  const int64_t hold_end = rollout.stage_started_ms + stage.hold_s * 1000;
  if (now_ms < hold_end) return;

  const StageStatus status = Measure(rollout, plan, eligible, now_ms);
  const std::string name = StageName(rollout.stage, plan);
  const bool last = rollout.stage + 1 == static_cast<int64_t>(plan.stages.size());
  switch (status.gate.verdict) {
    case GateVerdict::kPass:
      if (last) {
        if (Take(store_.UpdateRollout(rollout.id, RolloutState::kRunning, rollout.stage,
                                      RolloutState::kCompleted, rollout.stage,
                                      name + " passed: " + status.gate.Summary(), now_ms)))
          ++report.completed;
        return;
      }
      if (Take(store_.UpdateRollout(rollout.id, RolloutState::kRunning, rollout.stage,
                                    RolloutState::kRunning, rollout.stage + 1,
                                    name + " passed: " + status.gate.Summary(), now_ms))) {
        ++report.advanced;
        // The next cohort is assigned at once rather than on the next tick; any process's
        // next tick would assign the same devices if this one stopped here.
        if (auto next = Take(store_.FindRollout(rollout.id));
            next && next->state == RolloutState::kRunning)
          report.members_added += AssignStage(*next, plan, EligibleDevices(*next), now_ms);
      }
      return;
    case GateVerdict::kFail:
      if (Halt(rollout, plan, name + " failed: " + status.gate.Summary(), now_ms)) ++report.halted;
      return;
    case GateVerdict::kWait:
      // A canary that stays silent may be a canary that crashed: past max_wait_s the stage
      // fails like one whose gate failed.
      if (now_ms >= hold_end + plan.max_wait_s * 1000 &&
          Halt(rollout, plan,
               name + " gathered too little telemetry within max_wait_s " +
                   std::to_string(plan.max_wait_s) + " s: " + status.gate.Summary(),
               now_ms))
        ++report.halted;
      return;
  }
}

Expected<RolloutTickReport> RolloutController::Tick(int64_t now_ms) {
  return Capture([&] {
    RolloutTickReport report;
    for (const Rollout& rollout : Take(store_.ListRollouts(true))) {
      if (rollout.state != RolloutState::kRunning) continue;
      ++report.rollouts;
      try {
        TickOne(rollout, now_ms, report);
      } catch (const Error& e) {
        report.errors.push_back("rollout " + rollout.id + ": " + e.what());
      }
    }
    return report;
  });
}

Expected<Rollout> RolloutController::Start(const std::string& model, const std::string& version,
                                           const std::string& group, const std::string& plan_json,
                                           int64_t now_ms) {
  return Capture([&] {
    if (model.empty() || version.empty()) throw Error("a rollout needs a model name and a version", ErrorKind::kRefused);
    if (!Take(store_.FindModelVersion(model, version)))
      throw Error("model " + model + " version " + version + " is not in the registry", ErrorKind::kRefused);
    Expected<RolloutPlan> plan = ParseRolloutPlan(plan_json);
    if (!plan) throw Error(plan.message(), ErrorKind::kRefused);
    const std::string where = group.empty() ? "the fleet" : "group '" + group + "'";
    for (const Rollout& r : Take(store_.ListRollouts(true)))
      if (Active(r.state) && r.model == model && r.group == group)
        throw Error("rollout " + r.id + " of " + model + " " + r.version + " is already " +
                    RolloutStateName(r.state) + " in " + where + "; abort it first",
                    ErrorKind::kConflict);

    Rollout rollout;
    rollout.id = RandomId("r-");
    rollout.model = model;
    rollout.group = group;
    const std::vector<Device> eligible = EligibleDevices(rollout);
    std::map<std::string, int64_t> versions;
    for (const Device& d : eligible)
      if (!d.version.empty() && d.version != version) ++versions[d.version];
    if (versions.empty())
      throw Error("no device in " + where + " runs model " + model + " on a version other than " +
                  version, ErrorKind::kRefused);
    // Most devices first; the map's order breaks ties by the lower version string.
    auto baseline = versions.begin();
    for (auto it = versions.begin(); it != versions.end(); ++it)
      if (it->second > baseline->second) baseline = it;

    rollout.version = version;
    rollout.baseline_version = baseline->first;
    rollout.plan_json = RolloutPlanToJson(*plan).dump();
    rollout.state = RolloutState::kRunning;
    rollout.stage = 0;
    rollout.stage_started_ms = now_ms;
    rollout.reason = "started";
    rollout.created_ms = now_ms;
    rollout.updated_ms = now_ms;
    Take(store_.AddRollout(rollout));
    AssignStage(rollout, *plan, eligible, now_ms);
    return rollout;
  });
}

Rollout RolloutController::Transition(const std::string& id,
                                      std::initializer_list<RolloutState> from, RolloutState to,
                                      const std::string& reason, int64_t now_ms) {
  // Another process may change the rollout between the read and the write: read again and
  // retry while the change still applies.
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::optional<Rollout> r = Take(store_.FindRollout(id));
    if (!r) throw Error("no rollout " + id, ErrorKind::kRefused);
    if (std::find(from.begin(), from.end(), r->state) == from.end())
      throw Error("rollout " + id + " is " + RolloutStateName(r->state) + "; it cannot become " +
                  RolloutStateName(to), ErrorKind::kConflict);
    if (Take(store_.UpdateRollout(id, r->state, r->stage, to, r->stage, reason, now_ms))) {
      std::optional<Rollout> done = Take(store_.FindRollout(id));
      if (!done) throw Error("no rollout " + id, ErrorKind::kRefused);
      return *done;
    }
  }
  throw Error("rollout " + id + " kept changing; try again", ErrorKind::kConflict);
}

Expected<Rollout> RolloutController::Pause(const std::string& id, const std::string& reason,
                                           int64_t now_ms) {
  return Capture([&] {
    return Transition(id, {RolloutState::kRunning}, RolloutState::kPaused,
                      "paused: " + (reason.empty() ? std::string("by hand") : reason), now_ms);
  });
}

Expected<Rollout> RolloutController::Resume(const std::string& id, const std::string& reason,
                                            int64_t now_ms) {
  return Capture([&] {
    return Transition(id, {RolloutState::kPaused}, RolloutState::kRunning,
                      "resumed: " + (reason.empty() ? std::string("by hand") : reason), now_ms);
  });
}

Expected<Rollout> RolloutController::Abort(const std::string& id, const std::string& reason,
                                           int64_t now_ms) {
  return Capture([&] {
    Rollout r =
        Transition(id, {RolloutState::kRunning, RolloutState::kPaused, RolloutState::kHalted},
                   RolloutState::kAborted,
                   "aborted: " + (reason.empty() ? std::string("by hand") : reason) +
                       "; cohort rolled back to its previous versions",
                   now_ms);
    Take(store_.RevertRolloutMembers(r, now_ms));
    return r;
  });
}

Expected<StageStatus> RolloutController::Status(const Rollout& rollout, int64_t now_ms) {
  return Capture([&] {
    const RolloutPlan plan = StoredPlan(rollout);
    return Measure(rollout, plan, EligibleDevices(rollout), now_ms);
  });
}

Expected<RolloutProgress> RolloutController::Progress(const Rollout& rollout) {
  return Capture([&] {
    RolloutProgress p;
    p.members = static_cast<int64_t>(Take(store_.ListRolloutMembers(rollout.id)).size());
    p.eligible = static_cast<int64_t>(EligibleDevices(rollout).size());
    return p;
  });
}

}  // namespace outpost::fleet
