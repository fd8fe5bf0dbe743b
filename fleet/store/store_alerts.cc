// Alert rules, alerts and transfer accounting.
#include "fleet/store/store_internal.h"

namespace outpost::fleet {
using namespace internal;

Expected<Unit> FleetStore::AddAlertRule(const AlertRule& rule) {
  return Capture([&] {
    auto r = Query(*db_,
                   "INSERT INTO alert_rules (id, name, rule_json, enabled, created_ms) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT DO NOTHING",
                   {rule.id, rule.name, rule.rule_json.empty() ? std::string("{}") : rule.rule_json,
                    int64_t{rule.enabled ? 1 : 0}, rule.created_ms});
    if (r.changed != 1) throw Error("an alert rule with id " + rule.id + " already exists");
    return Unit{};
  });
}

Expected<std::vector<AlertRule>> FleetStore::ListAlertRules() {
  return Capture([&] {
    std::vector<AlertRule> out;
    for (const auto& row :
         Query(*db_, "SELECT id, name, rule_json, enabled, created_ms FROM alert_rules ORDER BY created_ms, id").rows)
      out.push_back(AlertRule{row.text(0), row.text(1), row.text(2), row.integer(3) != 0, row.integer(4)});
    return out;
  });
}

Expected<bool> FleetStore::DeleteAlertRule(const std::string& id) {
  return Capture([&] { return Query(*db_, "DELETE FROM alert_rules WHERE id = ?", {id}).changed == 1; });
}

// The partial unique index alerts_open (rule_id, subject) WHERE resolved_ms = 0 makes the
// insert a no-op while an alert for the same rule and subject is open, even across servers.
Expected<std::optional<Alert>> FleetStore::OpenAlert(const Alert& alert) {
  return Capture([&]() -> std::optional<Alert> {
    Alert a = alert;
    a.resolved_ms = 0;
    a.delivered = false;
    auto r = Query(*db_,
                   "INSERT INTO alerts (id, rule_id, subject, message, value, fired_ms, resolved_ms, delivered) "
                   "VALUES (?, ?, ?, ?, ?, ?, 0, 0) ON CONFLICT DO NOTHING",
                   {a.id, a.rule_id, a.subject, a.message, a.value, a.fired_ms});
    if (r.changed != 1) return std::nullopt;
    return a;
  });
}

Expected<Unit> FleetStore::ResolveAlert(const std::string& id, int64_t now_ms) {
  return Capture([&] {
    auto r = Query(*db_, "UPDATE alerts SET resolved_ms = ? WHERE id = ? AND resolved_ms = 0", {now_ms, id});
    if (r.changed == 0 && Query(*db_, "SELECT COUNT(*) FROM alerts WHERE id = ?", {id}).rows.at(0).integer(0) == 0)
      throw Error("unknown alert " + id);
    return Unit{};  // resolving a resolved alert keeps its first resolution time
  });
}

Expected<Unit> FleetStore::MarkAlertDelivered(const std::string& id) {
  return Capture([&] {
    auto r = Query(*db_, "UPDATE alerts SET delivered = 1 WHERE id = ?", {id});
    if (r.changed != 1) throw Error("unknown alert " + id);
    return Unit{};
  });
}

// Newest first.
Expected<std::vector<Alert>> FleetStore::ListAlerts(bool open_only, int64_t limit) {
  return Capture([&] {
    std::string sql = "SELECT id, rule_id, subject, message, value, fired_ms, resolved_ms, delivered FROM alerts";
    if (open_only) sql += " WHERE resolved_ms = 0";
    sql += " ORDER BY fired_ms DESC, id LIMIT ?";
    std::vector<Alert> out;
    for (const auto& row : Query(*db_, sql, {limit < 0 ? int64_t{0} : limit}).rows)
      out.push_back(Alert{row.text(0), row.text(1), row.text(2), row.text(3), row.real(4), row.integer(5),
                          row.integer(6), row.integer(7) != 0});
    return out;
  });
}

Expected<Unit> FleetStore::RecordTransfer(const Transfer& t) {
  return Capture([&] {
    Query(*db_, "INSERT INTO transfers (device_id, kind, bytes, time_ms) VALUES (?, ?, ?, ?)",
          {t.device_id, t.kind, t.bytes, t.time_ms});
    return Unit{};
  });
}

Expected<std::vector<std::pair<std::string, int64_t>>> FleetStore::TransferTotals(const std::string& device_id,
                                                                                  int64_t since_ms, int64_t until_ms) {
  return Capture([&] {
    std::string sql = "SELECT kind, CAST(SUM(bytes) AS BIGINT) FROM transfers WHERE time_ms >= ? AND time_ms < ?";
    std::vector<SqlValue> params{since_ms, until_ms};
    if (!device_id.empty()) {
      sql += " AND device_id = ?";
      params.push_back(device_id);
    }
    sql += " GROUP BY kind ORDER BY kind";
    std::vector<std::pair<std::string, int64_t>> out;
    for (const auto& row : Query(*db_, sql, params).rows) out.emplace_back(row.text(0), row.integer(1));
    return out;
  });
}

}  // namespace outpost::fleet
