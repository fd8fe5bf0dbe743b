// Model registry, deltas and desired state.
#include "fleet/store/store_internal.h"

namespace outpost::fleet {
using namespace internal;
namespace {

constexpr const char* kModelColumns =
    "name, version, counter, digest, size, parent, manifest_json, figures_json, created_ms";

ModelVersion RowToModel(const SqlRow& r) {
  ModelVersion m;
  m.name = r.text(0);
  m.version = r.text(1);
  m.counter = r.integer(2);
  m.digest = r.text(3);
  m.size = r.integer(4);
  m.parent = r.text(5);
  m.manifest_json = r.text(6);
  m.figures_json = r.text(7);
  m.created_ms = r.integer(8);
  return m;
}

Delta RowToDelta(const SqlRow& r) {
  return Delta{r.text(0), r.text(1), r.text(2), r.integer(3), r.integer(4)};
}

std::optional<DesiredState> FirstState(const SqlResult& result) {
  if (result.rows.empty()) return std::nullopt;
  const SqlRow& r = result.rows[0];
  return DesiredState{r.text(0), r.text(1), r.text(2), r.text(3), r.integer(4)};
}

}  // namespace

Expected<Unit> FleetStore::AddModelVersion(const ModelVersion& m) {
  return Capture([&] {
    return InTransaction(*db_, [&](SqlConnection& c) {
      auto clash = Run(c, "SELECT version, counter FROM model_versions WHERE name = ? AND (version = ? OR counter = ?)",
                       {m.name, m.version, m.counter});
      for (const auto& row : clash.rows) {
        if (row.text(0) == m.version) throw Error("model " + m.name + " version " + m.version + " already exists");
        throw Error("model " + m.name + " already has counter " + std::to_string(m.counter) + " (version " +
                    row.text(0) + "): the counter must increase with every version");
      }
      // A concurrent insert of the same version still loses here, on the primary key.
      auto r = Run(c,
                   std::string("INSERT INTO model_versions (") + kModelColumns +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                   {m.name, m.version, m.counter, m.digest, m.size, m.parent,
                    m.manifest_json.empty() ? std::string("{}") : m.manifest_json,
                    m.figures_json.empty() ? std::string("{}") : m.figures_json, m.created_ms});
      if (r.changed != 1) throw Error("model " + m.name + " version " + m.version + " already exists");
      return Unit{};
    });
  });
}

Expected<std::optional<ModelVersion>> FleetStore::FindModelVersion(const std::string& name,
                                                                   const std::string& version) {
  return Capture([&]() -> std::optional<ModelVersion> {
    auto r = Query(*db_, std::string("SELECT ") + kModelColumns + " FROM model_versions WHERE name = ? AND version = ?",
                   {name, version});
    if (r.rows.empty()) return std::nullopt;
    return RowToModel(r.rows[0]);
  });
}

Expected<std::optional<ModelVersion>> FleetStore::FindModelByDigest(const std::string& digest) {
  return Capture([&]() -> std::optional<ModelVersion> {
    auto r = Query(*db_,
                   std::string("SELECT ") + kModelColumns +
                       " FROM model_versions WHERE digest = ? ORDER BY created_ms, name, version LIMIT 1",
                   {digest});
    if (r.rows.empty()) return std::nullopt;
    return RowToModel(r.rows[0]);
  });
}

Expected<std::vector<ModelVersion>> FleetStore::ListModelVersions(const std::string& name) {
  return Capture([&] {
    std::vector<SqlValue> params;
    std::string sql = std::string("SELECT ") + kModelColumns + " FROM model_versions";
    if (!name.empty()) {
      sql += " WHERE name = ?";
      params.push_back(name);
    }
    sql += " ORDER BY created_ms DESC, name, counter DESC";
    std::vector<ModelVersion> out;
    for (const auto& row : Query(*db_, sql, params).rows) out.push_back(RowToModel(row));
    return out;
  });
}

Expected<Delta> FleetStore::AddDelta(const Delta& d) {
  return Capture([&] {
    return InTransaction(*db_, [&](SqlConnection& c) {
      Run(c,
          "INSERT INTO deltas (base_digest, target_digest, digest, size, created_ms) VALUES (?, ?, ?, ?, ?) "
          "ON CONFLICT DO NOTHING",
          {d.base_digest, d.target_digest, d.digest, d.size, d.created_ms});
      auto r = Run(c,
                   "SELECT base_digest, target_digest, digest, size, created_ms FROM deltas "
                   "WHERE base_digest = ? AND target_digest = ?",
                   {d.base_digest, d.target_digest});
      return RowToDelta(r.rows.at(0));
    });
  });
}

Expected<std::optional<Delta>> FleetStore::FindDelta(const std::string& base_digest, const std::string& target_digest) {
  return Capture([&]() -> std::optional<Delta> {
    auto r = Query(*db_,
                   "SELECT base_digest, target_digest, digest, size, created_ms FROM deltas "
                   "WHERE base_digest = ? AND target_digest = ?",
                   {base_digest, target_digest});
    if (r.rows.empty()) return std::nullopt;
    return RowToDelta(r.rows[0]);
  });
}

Expected<Unit> FleetStore::SetDesiredState(const DesiredState& s) {
  return Capture([&] {
    Query(*db_,
          "INSERT INTO desired_state (device_id, model, version, rollout_id, updated_ms) VALUES (?, ?, ?, ?, ?) "
          "ON CONFLICT (device_id) DO UPDATE SET model = excluded.model, version = excluded.version, "
          "rollout_id = excluded.rollout_id, updated_ms = excluded.updated_ms",
          {s.device_id, s.model, s.version, s.rollout_id, s.updated_ms});
    return Unit{};
  });
}

Expected<std::optional<DesiredState>> FleetStore::GetDesiredState(const std::string& device_id) {
  return Capture([&] {
    return FirstState(Query(*db_,
                            "SELECT device_id, model, version, rollout_id, updated_ms FROM desired_state "
                            "WHERE device_id = ?",
                            {device_id}));
  });
}

}  // namespace outpost::fleet
