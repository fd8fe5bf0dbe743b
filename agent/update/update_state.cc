#include "agent/update/update_state.h"

#include <algorithm>
#include <cmath>

#include "common/json_nesting.h"

namespace outpost::agent {
namespace {

constexpr const char* kStateNames[] = {"check", "download", "verify", "stage", "selftest",
                                       "switch", "health", "commit", "rollback"};

}  // namespace

const char* StateName(UpdateState s) { return kStateNames[static_cast<int>(s)]; }

std::optional<UpdateState> StateFromName(const std::string& name) {
  for (int i = 0; i < 9; ++i)
    if (name == kStateNames[i]) return static_cast<UpdateState>(i);
  return std::nullopt;
}

void OutcomeCounts::Add(bool ok, double latency_ms) {
  ++inferences;
  if (!ok) ++errors;
  else latency.Record(latency_ms);
}

nlohmann::json OutcomeCounts::ToJson() const {
  return {{"inferences", inferences}, {"errors", errors}, {"latency", latency.ToJson()}};
}

OutcomeCounts OutcomeCounts::FromJson(const nlohmann::json& j) {
  OutcomeCounts c;
  if (!j.is_object()) return c;
  c.inferences = j.value("inferences", uint64_t{0});
  c.errors = j.value("errors", uint64_t{0});
  if (j.contains("latency")) c.latency = LatencyHistogram::FromJson(j["latency"]);
  return c;
}

nlohmann::json UpdateStateRecord::ToJson() const {
  nlohmann::json j = {{"format", "outpost-agent-state/1"},
                      {"state", StateName(state)},
                      {"highest_committed_counter", highest_committed_counter},
                      {"committed_version", committed_version},
                      {"failed_versions", failed_versions},
                      {"last_error", last_error},
                      {"window", window.ToJson()},
                      {"window_started_ms", window_started_ms}};
  if (target) {
    const UpdateTarget& t = *target;
    j["target"] = {{"version", t.version},
                   {"digest", t.digest},
                   {"size", t.size},
                   {"url", t.url},
                   {"delta_url", t.delta_url},
                   {"delta_digest", t.delta_digest},
                   {"delta_size", t.delta_size},
                   {"delta_base_version", t.delta_base_version},
                   {"rollback_order", t.rollback_order},
                   {"counter", t.counter},
                   {"latency_ms", t.latency_ms},
                   {"slot", t.slot},
                   {"previous_slot", t.previous_slot},
                   {"previous_version", t.previous_version},
                   {"ordered_rollback", t.ordered_rollback}};
  } else {
    j["target"] = nullptr;
  }
  j["baseline"] = baseline ? baseline->ToJson() : nlohmann::json(nullptr);
  nlohmann::json ev = nlohmann::json::array();
  for (const UpdateEvent& e : events)
    ev.push_back({{"time_ms", e.time_ms}, {"kind", e.kind}, {"version", e.version}, {"reason", e.reason}});
  j["events"] = ev;
  return j;
}

Expected<UpdateStateRecord> UpdateStateRecord::FromJson(const std::string& text) {
  if (!JsonNestingWithin(text, 16)) return Error("state file: not valid JSON");
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || j.value("format", "") != "outpost-agent-state/1")
    return Error("state file: not an agent state (format outpost-agent-state/1)");
  try {
    UpdateStateRecord r;
    std::optional<UpdateState> s = StateFromName(j.value("state", ""));
    if (!s) return Error("state file: unknown state \"" + j.value("state", "") + "\"");
    r.state = *s;
    r.highest_committed_counter = j.value("highest_committed_counter", uint64_t{0});
    r.committed_version = j.value("committed_version", "");
    r.failed_versions = j.value("failed_versions", std::vector<std::string>{});
    r.last_error = j.value("last_error", "");
    r.window = OutcomeCounts::FromJson(j.value("window", nlohmann::json::object()));
    r.window_started_ms = j.value("window_started_ms", int64_t{0});
    if (j.contains("target") && j["target"].is_object()) {
      const nlohmann::json& t = j["target"];
      UpdateTarget u;
      u.version = t.value("version", "");
      u.digest = t.value("digest", "");
      u.size = t.value("size", uint64_t{0});
      u.url = t.value("url", "");
      u.delta_url = t.value("delta_url", "");
      u.delta_digest = t.value("delta_digest", "");
      u.delta_size = t.value("delta_size", uint64_t{0});
      u.delta_base_version = t.value("delta_base_version", "");
      u.rollback_order = t.value("rollback_order", "");
      u.counter = t.value("counter", uint64_t{0});
      u.latency_ms = t.value("latency_ms", 0.0);
      u.slot = t.value("slot", "");
      u.previous_slot = t.value("previous_slot", "");
      u.previous_version = t.value("previous_version", "");
      u.ordered_rollback = t.value("ordered_rollback", false);
      r.target = u;
    }
    if (j.contains("baseline") && j["baseline"].is_object()) r.baseline = OutcomeCounts::FromJson(j["baseline"]);
    if (j.contains("events") && j["events"].is_array()) {
      for (const auto& e : j["events"])
        r.events.push_back({e.value("time_ms", int64_t{0}), e.value("kind", ""), e.value("version", ""), e.value("reason", "")});
    }
    if (r.state != UpdateState::kCheck && !r.target) return Error("state file: state " + std::string(StateName(r.state)) + " without a target");
    return r;
  } catch (const nlohmann::json::exception& e) {
    return Error(std::string("state file: malformed field: ") + e.what());
  }
}

}  // namespace outpost::agent
