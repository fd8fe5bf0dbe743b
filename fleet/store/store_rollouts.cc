// Rollouts, their cohorts, and rollback.
#include "fleet/store/store_internal.h"

namespace outpost::fleet {
using namespace internal;
namespace {

constexpr const char* kRolloutColumns =
    "id, model, version, baseline_version, device_group, plan_json, state, stage, stage_started_ms, reason, "
    "created_ms, updated_ms";

Rollout RowToRollout(const SqlRow& r) {
  Rollout o;
  o.id = r.text(0);
  o.model = r.text(1);
  o.version = r.text(2);
  o.baseline_version = r.text(3);
  o.group = r.text(4);
  o.plan_json = r.text(5);
  auto state = ParseRolloutState(r.text(6));
  if (!state) throw state.error();
  o.state = state.value();
  o.stage = r.integer(7);
  o.stage_started_ms = r.integer(8);
  o.reason = r.text(9);
  o.created_ms = r.integer(10);
  o.updated_ms = r.integer(11);
  return o;
}

void SetDesired(SqlConnection& c, const std::string& device_id, const std::string& model, const std::string& version,
                const std::string& rollout_id, int64_t now_ms) {
  Run(c,
      "INSERT INTO desired_state (device_id, model, version, rollout_id, updated_ms) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (device_id) DO UPDATE SET model = excluded.model, version = excluded.version, "
      "rollout_id = excluded.rollout_id, updated_ms = excluded.updated_ms",
      {device_id, model, version, rollout_id, now_ms});
}

}  // namespace

Expected<Unit> FleetStore::AddRollout(const Rollout& o) {
  return Capture([&] {
    auto r = Query(*db_,
                   std::string("INSERT INTO rollouts (") + kRolloutColumns +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                   {o.id, o.model, o.version, o.baseline_version, o.group,
                    o.plan_json.empty() ? std::string("{}") : o.plan_json, std::string(RolloutStateName(o.state)),
                    o.stage, o.stage_started_ms, o.reason, o.created_ms, o.updated_ms});
    if (r.changed != 1) throw Error("a rollout with id " + o.id + " already exists");
    return Unit{};
  });
}

Expected<std::optional<Rollout>> FleetStore::FindRollout(const std::string& id) {
  return Capture([&]() -> std::optional<Rollout> {
    auto r = Query(*db_, std::string("SELECT ") + kRolloutColumns + " FROM rollouts WHERE id = ?", {id});
    if (r.rows.empty()) return std::nullopt;
    return RowToRollout(r.rows[0]);
  });
}

// Newest first; "active" is running or paused.
Expected<std::vector<Rollout>> FleetStore::ListRollouts(bool active_only) {
  return Capture([&] {
    std::string sql = std::string("SELECT ") + kRolloutColumns + " FROM rollouts";
    std::vector<SqlValue> params;
    if (active_only) {
      sql += " WHERE state IN (?, ?)";
      params = {std::string(RolloutStateName(RolloutState::kRunning)),
                std::string(RolloutStateName(RolloutState::kPaused))};
    }
    sql += " ORDER BY created_ms DESC, id";
    std::vector<Rollout> out;
    for (const auto& row : Query(*db_, sql, params).rows) out.push_back(RowToRollout(row));
    return out;
  });
}

// stage_started_ms moves only when the stage changes (a pause and resume keep the stage's clock).
Expected<bool> FleetStore::UpdateRollout(const std::string& id, RolloutState expected_state, int64_t expected_stage,
                                         RolloutState state, int64_t stage, const std::string& reason,
                                         int64_t now_ms) {
  return Capture([&] {
    auto r = Query(*db_,
                   "UPDATE rollouts SET state = ?, stage = ?, reason = ?, updated_ms = ?, "
                   "stage_started_ms = CASE WHEN stage = ? THEN stage_started_ms ELSE ? END "
                   "WHERE id = ? AND state = ? AND stage = ?",
                   {std::string(RolloutStateName(state)), stage, reason, now_ms, stage, now_ms, id,
                    std::string(RolloutStateName(expected_state)), expected_stage});
    return r.changed == 1;
  });
}

Expected<int64_t> FleetStore::AddRolloutMembers(const Rollout& rollout, const std::vector<RolloutMember>& members) {
  return Capture([&] {
    return InTransaction(*db_, [&](SqlConnection& c) {
      int64_t joined = 0;  // reset on every attempt
      for (const auto& m : members) {
        auto r = Run(c,
                     "INSERT INTO rollout_members (rollout_id, device_id, stage, previous_version, assigned_ms) "
                     "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                     {rollout.id, m.device_id, m.stage, m.previous_version, m.assigned_ms});
        if (r.changed != 1) continue;  // already a member: its desired state is left alone
        SetDesired(c, m.device_id, rollout.model, rollout.version, rollout.id, m.assigned_ms);
        ++joined;
      }
      return joined;
    });
  });
}

Expected<std::vector<RolloutMember>> FleetStore::ListRolloutMembers(const std::string& rollout_id) {
  return Capture([&] {
    auto r = Query(*db_,
                   "SELECT rollout_id, device_id, stage, previous_version, assigned_ms FROM rollout_members "
                   "WHERE rollout_id = ? ORDER BY stage, assigned_ms, device_id",
                   {rollout_id});
    std::vector<RolloutMember> out;
    for (const auto& row : r.rows)
      out.push_back(RolloutMember{row.text(0), row.text(1), row.integer(2), row.text(3), row.integer(4)});
    return out;
  });
}

// Only members whose desired state is still this rollout's version are reverted: a device that
// a later rollout or an operator has moved on is left where it is, and a second revert is a
// no-op. A member that ran nothing before has its desired state removed.
Expected<int64_t> FleetStore::RevertRolloutMembers(const Rollout& rollout, int64_t now_ms) {
  return Capture([&] {
    return InTransaction(*db_, [&](SqlConnection& c) {
      auto members = Run(c,
                         "SELECT m.device_id, m.previous_version FROM rollout_members m "
                         "JOIN desired_state d ON d.device_id = m.device_id "
                         "WHERE m.rollout_id = ? AND d.rollout_id = ? AND d.model = ? AND d.version = ? "
                         "ORDER BY m.device_id",
                         {rollout.id, rollout.id, rollout.model, rollout.version});
      int64_t reverted = 0;
      for (const auto& row : members.rows) {
        const std::string previous = row.text(1);
        if (previous.empty()) {
          Run(c, "DELETE FROM desired_state WHERE device_id = ?", {row.text(0)});
        } else {
          SetDesired(c, row.text(0), rollout.model, previous, rollout.id, now_ms);
        }
        ++reverted;
      }
      return reverted;
    });
  });
}

}  // namespace outpost::fleet
