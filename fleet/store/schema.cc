// Tables: BIGINT, TEXT and DOUBLE PRECISION only, ids made by the server, so one text serves
// both dialects. Booleans are BIGINT 0/1. Columns named after SQL keywords get a prefix
// ("device_group").
#include "fleet/store/schema.h"

namespace outpost::fleet {
namespace {

// Any constant shared by every fleet server: the key of the advisory lock around migration.
constexpr int64_t kMigrationLockKey = 0x6f7574706f7374;  // "outpost"

const char* const kStatements[] = {
    R"(CREATE TABLE IF NOT EXISTS schema_version (
         version BIGINT PRIMARY KEY,
         applied_ms BIGINT NOT NULL))",
    R"(CREATE TABLE IF NOT EXISTS enrollment_tokens (
         token_hash TEXT PRIMARY KEY,
         device_group TEXT NOT NULL,
         tags TEXT NOT NULL,
         expires_ms BIGINT NOT NULL,
         uses_left BIGINT NOT NULL,
         created_ms BIGINT NOT NULL))",
    R"(CREATE TABLE IF NOT EXISTS devices (
         id TEXT PRIMARY KEY,
         name TEXT NOT NULL,
         credential_hash TEXT NOT NULL,
         device_group TEXT NOT NULL,
         tags TEXT NOT NULL,
         model TEXT NOT NULL,
         version TEXT NOT NULL,
         status_json TEXT NOT NULL,
         enrolled_ms BIGINT NOT NULL,
         last_seen_ms BIGINT NOT NULL))",
    "CREATE UNIQUE INDEX IF NOT EXISTS devices_credential ON devices (credential_hash)",
    "CREATE INDEX IF NOT EXISTS devices_last_seen ON devices (last_seen_ms)",
    "CREATE INDEX IF NOT EXISTS devices_group ON devices (device_group)",
    "CREATE INDEX IF NOT EXISTS devices_running ON devices (model, version)",
    // Tags are also kept one per row so that filtering by a tag is an exact comparison.
    R"(CREATE TABLE IF NOT EXISTS device_tags (
         device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
         tag TEXT NOT NULL,
         PRIMARY KEY (device_id, tag)))",
    "CREATE INDEX IF NOT EXISTS device_tags_tag ON device_tags (tag, device_id)",
    R"(CREATE TABLE IF NOT EXISTS model_versions (
         name TEXT NOT NULL,
         version TEXT NOT NULL,
         counter BIGINT NOT NULL,
         digest TEXT NOT NULL,
         size BIGINT NOT NULL,
         parent TEXT NOT NULL,
         manifest_json TEXT NOT NULL,
         figures_json TEXT NOT NULL,
         created_ms BIGINT NOT NULL,
         PRIMARY KEY (name, version),
         UNIQUE (name, counter)))",
    "CREATE INDEX IF NOT EXISTS model_versions_digest ON model_versions (digest)",
    R"(CREATE TABLE IF NOT EXISTS deltas (
         base_digest TEXT NOT NULL,
         target_digest TEXT NOT NULL,
         digest TEXT NOT NULL,
         size BIGINT NOT NULL,
         created_ms BIGINT NOT NULL,
         PRIMARY KEY (base_digest, target_digest)))",
    R"(CREATE TABLE IF NOT EXISTS desired_state (
         device_id TEXT PRIMARY KEY,
         model TEXT NOT NULL,
         version TEXT NOT NULL,
         rollout_id TEXT NOT NULL,
         updated_ms BIGINT NOT NULL))",
    R"(CREATE TABLE IF NOT EXISTS telemetry (
         device_id TEXT NOT NULL,
         seq BIGINT NOT NULL,
         time_ms BIGINT NOT NULL,
         model TEXT NOT NULL,
         version TEXT NOT NULL,
         inferences BIGINT NOT NULL,
         errors BIGINT NOT NULL,
         latency_p50_ms DOUBLE PRECISION NOT NULL,
         latency_p99_ms DOUBLE PRECISION NOT NULL,
         agreement DOUBLE PRECISION,
         drift_psi DOUBLE PRECISION,
         temperature_c DOUBLE PRECISION,
         rss_bytes BIGINT NOT NULL,
         body_json TEXT NOT NULL,
         PRIMARY KEY (device_id, seq)))",
    "CREATE INDEX IF NOT EXISTS telemetry_version_time ON telemetry (model, version, time_ms)",
    "CREATE INDEX IF NOT EXISTS telemetry_model_time ON telemetry (model, time_ms)",
    R"(CREATE TABLE IF NOT EXISTS rollouts (
         id TEXT PRIMARY KEY,
         model TEXT NOT NULL,
         version TEXT NOT NULL,
         baseline_version TEXT NOT NULL,
         device_group TEXT NOT NULL,
         plan_json TEXT NOT NULL,
         state TEXT NOT NULL,
         stage BIGINT NOT NULL,
         stage_started_ms BIGINT NOT NULL,
         reason TEXT NOT NULL,
         created_ms BIGINT NOT NULL,
         updated_ms BIGINT NOT NULL))",
    "CREATE INDEX IF NOT EXISTS rollouts_state ON rollouts (state)",
    R"(CREATE TABLE IF NOT EXISTS rollout_members (
         rollout_id TEXT NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
         device_id TEXT NOT NULL,
         stage BIGINT NOT NULL,
         previous_version TEXT NOT NULL,
         assigned_ms BIGINT NOT NULL,
         PRIMARY KEY (rollout_id, device_id)))",
    R"(CREATE TABLE IF NOT EXISTS alert_rules (
         id TEXT PRIMARY KEY,
         name TEXT NOT NULL,
         rule_json TEXT NOT NULL,
         enabled BIGINT NOT NULL,
         created_ms BIGINT NOT NULL))",
    R"(CREATE TABLE IF NOT EXISTS alerts (
         id TEXT PRIMARY KEY,
         rule_id TEXT NOT NULL,
         subject TEXT NOT NULL,
         message TEXT NOT NULL,
         value DOUBLE PRECISION NOT NULL,
         fired_ms BIGINT NOT NULL,
         resolved_ms BIGINT NOT NULL,
         delivered BIGINT NOT NULL))",
    // At most one open alert per rule and subject: opening a second one is a no-op.
    "CREATE UNIQUE INDEX IF NOT EXISTS alerts_open ON alerts (rule_id, subject) WHERE resolved_ms = 0",
    "CREATE INDEX IF NOT EXISTS alerts_fired ON alerts (fired_ms)",
    R"(CREATE TABLE IF NOT EXISTS transfers (
         device_id TEXT NOT NULL,
         kind TEXT NOT NULL,
         bytes BIGINT NOT NULL,
         time_ms BIGINT NOT NULL))",
    "CREATE INDEX IF NOT EXISTS transfers_time ON transfers (time_ms)",
    "CREATE INDEX IF NOT EXISTS transfers_device_time ON transfers (device_id, time_ms)",
};

// Changes to tables an older build created, each applied once, in order, to a database whose
// recorded version is below its own (a new database gets the tables above as version 1 first).
// The tables above stay as version 1 made them, so every database takes the same path.
struct Migration {
  int64_t version;
  const char* statement;
};
const Migration kMigrations[] = {
    // The device's X25519 public key, sent at enrollment ("" for devices enrolled before).
    {2, "ALTER TABLE devices ADD COLUMN public_key TEXT NOT NULL DEFAULT ''"},
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kFleetSchemaVersion - 1,
              "one migration per schema version after the first");

}  // namespace

Expected<Unit> CreateSchema(SqlDatabase& db, int64_t now_ms) {
  const bool postgres = db.dialect() == "postgresql";
  return db.Transaction([&](SqlConnection& c) -> Expected<Unit> {
    if (postgres) {
      // CREATE ... IF NOT EXISTS is not atomic on PostgreSQL: two servers creating the same
      // table at once can fail on the catalog's unique index. The lock is released at commit.
      auto locked = c.Execute("SELECT pg_advisory_xact_lock(?)", {kMigrationLockKey});
      if (!locked) return locked.error();
    }
    auto existing = c.Execute(
        postgres ? "SELECT to_regclass('schema_version') IS NOT NULL"
                 : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
    if (!existing) return existing.error();
    int64_t found = 0;  // no schema_version table: a new database
    if (existing->rows.at(0).integer(0) != 0 || existing->rows.at(0).text(0) == "t") {
      auto version = c.Execute("SELECT MAX(version) FROM schema_version");
      if (!version) return version.error();
      found = version->rows.empty() ? 0 : version->rows[0].integer(0);
      if (found > kFleetSchemaVersion)
        return Error("the fleet database has schema version " + std::to_string(found) +
                     ", newer than this server's " + std::to_string(kFleetSchemaVersion) + ": upgrade the server");
      if (found == kFleetSchemaVersion) return Unit{};
    }
    for (const char* statement : kStatements) {
      auto done = c.Execute(statement);
      if (!done) return done.error();
    }
    for (const Migration& m : kMigrations) {
      if (m.version <= found) continue;
      auto done = c.Execute(m.statement);
      if (!done) return Error("migrating the fleet database to schema version " + std::to_string(m.version) + ": " +
                              done.message());
    }
    auto recorded = c.Execute("INSERT INTO schema_version (version, applied_ms) VALUES (?, ?) ON CONFLICT DO NOTHING",
                              {kFleetSchemaVersion, now_ms});
    if (!recorded) return recorded.error();
    return Unit{};
  });
}

}  // namespace outpost::fleet
