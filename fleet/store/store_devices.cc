// Enrollment tokens and devices.
#include <set>

#include "fleet/store/store_internal.h"

namespace outpost::fleet {
using namespace internal;
namespace {

constexpr const char* kDeviceColumns =
    "id, name, credential_hash, device_group, tags, model, version, status_json, enrolled_ms, last_seen_ms, "
    "public_key";

Device RowToDevice(const SqlRow& r) {
  Device d;
  d.id = r.text(0);
  d.name = r.text(1);
  d.credential_hash = r.text(2);
  d.group = r.text(3);
  d.tags = TagsFromJson(r.text(4));
  d.model = r.text(5);
  d.version = r.text(6);
  d.status_json = r.text(7);
  d.enrolled_ms = r.integer(8);
  d.last_seen_ms = r.integer(9);
  d.public_key = r.text(10);
  return d;
}

std::optional<Device> FirstDevice(const SqlResult& result) {
  if (result.rows.empty()) return std::nullopt;
  return RowToDevice(result.rows[0]);
}

// Tags without repeats, in their first order.
std::vector<std::string> Unique(const std::vector<std::string>& tags) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& t : tags)
    if (seen.insert(t).second) out.push_back(t);
  return out;
}

void WriteTags(SqlConnection& c, const std::string& device_id, const std::vector<std::string>& tags) {
  Run(c, "DELETE FROM device_tags WHERE device_id = ?", {device_id});
  for (const auto& tag : tags)
    Run(c, "INSERT INTO device_tags (device_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING", {device_id, tag});
}

// The WHERE clause of a device filter and its parameters.
std::string FilterWhere(const DeviceFilter& f, std::vector<SqlValue>* params) {
  std::string where = " WHERE 1 = 1";
  if (!f.group.empty()) {
    where += " AND device_group = ?";
    params->push_back(f.group);
  }
  if (!f.tag.empty()) {
    where += " AND EXISTS (SELECT 1 FROM device_tags t WHERE t.device_id = devices.id AND t.tag = ?)";
    params->push_back(f.tag);
  }
  if (!f.model.empty()) {
    where += " AND model = ?";
    params->push_back(f.model);
    if (!f.version.empty()) {
      where += " AND version = ?";
      params->push_back(f.version);
    }
  }
  if (f.seen_since_ms > 0) {
    where += " AND last_seen_ms >= ?";
    params->push_back(f.seen_since_ms);
  }
  return where;
}

}  // namespace

Expected<Unit> FleetStore::AddEnrollmentToken(const EnrollmentToken& t) {
  return Capture([&] {
    auto r = Query(*db_,
                   "INSERT INTO enrollment_tokens (token_hash, device_group, tags, expires_ms, uses_left, created_ms) "
                   "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                   {t.token_hash, t.group, TagsToJson(Unique(t.tags)), t.expires_ms, t.uses_left, t.created_ms});
    if (r.changed != 1) throw Error("an enrollment token with this hash already exists");
    return Unit{};
  });
}

// A token with expires_ms 0 never expires.
Expected<Device> FleetStore::Enroll(const std::string& token_hash, const Device& device, int64_t now_ms) {
  return Capture([&] {
    return InTransaction(*db_, [&](SqlConnection& c) {
      // The conditional UPDATE is the check: two devices racing for a token's last use cannot
      // both see it available.
      auto used = Run(c,
                      "UPDATE enrollment_tokens SET uses_left = uses_left - 1 "
                      "WHERE token_hash = ? AND uses_left > 0 AND (expires_ms = 0 OR expires_ms > ?)",
                      {token_hash, now_ms});
      auto token = Run(c, "SELECT device_group, tags, expires_ms, uses_left FROM enrollment_tokens WHERE token_hash = ?",
                       {token_hash});
      if (used.changed != 1) {
        if (token.rows.empty()) throw Error("unknown enrollment token");
        const SqlRow& row = token.rows[0];
        if (row.integer(2) != 0 && row.integer(2) <= now_ms) throw Error("the enrollment token has expired");
        throw Error("the enrollment token has been used up");
      }
      Device d = device;
      d.group = token.rows[0].text(0);
      d.tags = TagsFromJson(token.rows[0].text(1));
      if (d.status_json.empty()) d.status_json = "{}";
      d.enrolled_ms = now_ms;
      d.last_seen_ms = now_ms;
      auto inserted = Run(c,
                          std::string("INSERT INTO devices (") + kDeviceColumns +
                              ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                          {d.id, d.name, d.credential_hash, d.group, TagsToJson(d.tags), d.model, d.version,
                           d.status_json, d.enrolled_ms, d.last_seen_ms, d.public_key});
      if (inserted.changed != 1) throw Error("a device with this id or credential already exists");
      WriteTags(c, d.id, d.tags);
      return d;
    });
  });
}

Expected<std::optional<Device>> FleetStore::FindDevice(const std::string& id) {
  return Capture([&] {
    return FirstDevice(Query(*db_, std::string("SELECT ") + kDeviceColumns + " FROM devices WHERE id = ?", {id}));
  });
}

Expected<std::optional<Device>> FleetStore::FindDeviceByCredential(const std::string& credential_hash) {
  return Capture([&] {
    return FirstDevice(Query(*db_, std::string("SELECT ") + kDeviceColumns + " FROM devices WHERE credential_hash = ?",
                             {credential_hash}));
  });
}

Expected<std::vector<Device>> FleetStore::ListDevices(const DeviceFilter& filter) {
  return Capture([&] {
    std::vector<SqlValue> params;
    std::string sql = std::string("SELECT ") + kDeviceColumns + " FROM devices" + FilterWhere(filter, &params) +
                      " ORDER BY id LIMIT ? OFFSET ?";
    params.push_back(filter.limit < 0 ? int64_t{0} : filter.limit);
    params.push_back(filter.offset < 0 ? int64_t{0} : filter.offset);
    std::vector<Device> devices;
    for (const auto& row : Query(*db_, sql, params).rows) devices.push_back(RowToDevice(row));
    return devices;
  });
}

Expected<int64_t> FleetStore::CountDevices(const DeviceFilter& filter) {
  return Capture([&] {
    std::vector<SqlValue> params;
    return Query(*db_, "SELECT COUNT(*) FROM devices" + FilterWhere(filter, &params), params).rows.at(0).integer(0);
  });
}

Expected<std::map<std::pair<std::string, std::string>, int64_t>> FleetStore::CountDevicesByVersion() {
  return Capture([&] {
    std::map<std::pair<std::string, std::string>, int64_t> counts;
    for (const SqlRow& row :
         Query(*db_, "SELECT model, version, COUNT(*) FROM devices WHERE model <> '' GROUP BY model, version", {}).rows)
      counts[{row.text(0), row.text(1)}] = row.integer(2);
    return counts;
  });
}

Expected<Unit> FleetStore::UpdateDeviceLabels(const std::string& id, const std::string& group,
                                              const std::vector<std::string>& tags) {
  return Capture([&] {
    return InTransaction(*db_, [&](SqlConnection& c) {
      const auto unique = Unique(tags);
      auto r = Run(c, "UPDATE devices SET device_group = ?, tags = ? WHERE id = ?", {group, TagsToJson(unique), id});
      if (r.changed != 1) throw Error("unknown device " + id);
      WriteTags(c, id, unique);
      return Unit{};
    });
  });
}

Expected<Unit> FleetStore::RecordDeviceReport(const std::string& id, const std::string& model,
                                              const std::string& version, const std::string& status_json,
                                              int64_t now_ms) {
  return Capture([&] {
    auto r = Query(*db_, "UPDATE devices SET model = ?, version = ?, status_json = ?, last_seen_ms = ? WHERE id = ?",
                   {model, version, status_json.empty() ? std::string("{}") : status_json, now_ms, id});
    if (r.changed != 1) throw Error("unknown device " + id);
    return Unit{};
  });
}

}  // namespace outpost::fleet
