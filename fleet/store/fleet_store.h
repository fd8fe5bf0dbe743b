// Everything the fleet server keeps: devices and their credentials, model versions, deltas,
// desired state, telemetry, rollouts and alerts. Written once over SqlDatabase, so SQLite and
// PostgreSQL hold the same schema (fleet/store/schema.cc) and pass the same tests.
//
// The server is stateless over this store: several server processes may share one PostgreSQL
// database. Every read-modify-write is one transaction or one conditional statement
// (compare-and-set on a rollout's state and stage), never a read in one call and a write in
// another.
//
// Times are milliseconds since the Unix epoch, passed in by the caller (tests control time).
// Secrets are never stored: tokens and credentials are kept as their BLAKE2b-256 hex digest.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "fleet/store/sql_database.h"

namespace outpost::fleet {

struct EnrollmentToken {
  std::string token_hash;
  std::string group;               // the enrolled device's group
  std::vector<std::string> tags;   // and tags
  int64_t expires_ms = 0;
  int64_t uses_left = 1;
  int64_t created_ms = 0;
};

struct Device {
  std::string id;                  // made by the server, "d-" + 16 hex digits
  std::string name;                // given by the device at enrollment (hostname, serial)
  std::string credential_hash;
  std::string group;
  std::vector<std::string> tags;
  std::string model;               // the model name and version the device reports running
  std::string version;
  std::string status_json;         // the device's last reported status object ("{}" when none)
  int64_t enrolled_ms = 0;
  int64_t last_seen_ms = 0;
  std::string public_key;          // its X25519 public key in base64, "" when it sent none
};

struct DeviceFilter {
  std::string group;               // empty: any
  std::string tag;                 // empty: any
  std::string model;               // empty: any; with version: devices running it
  std::string version;
  int64_t seen_since_ms = 0;       // 0: any
  int64_t limit = 1000;
  int64_t offset = 0;
};

struct ModelVersion {
  std::string name;
  std::string version;             // semantic version, unique per name
  int64_t counter = 0;             // the manifest's monotonic counter, unique per name
  std::string digest;              // BLAKE2b-256 hex of the package file: the artifact's name
  int64_t size = 0;                // package bytes
  std::string parent;              // lineage: the version it was derived from, or ""
  std::string manifest_json;       // the signed manifest, as uploaded
  std::string figures_json;        // {"accuracy": ..., "latency_ms": ..., "arena_bytes": ...}
  int64_t created_ms = 0;
};

struct Delta {
  std::string base_digest;
  std::string target_digest;
  std::string digest;              // BLAKE2b-256 hex of the delta file
  int64_t size = 0;
  int64_t created_ms = 0;
};

struct DesiredState {
  std::string device_id;
  std::string model;
  std::string version;
  std::string rollout_id;          // "" when set by hand
  int64_t updated_ms = 0;
};

// One telemetry record as the device agent batches it. `seq` is the device's own monotonic
// sequence number: (device_id, seq) is unique, so a retried batch inserts nothing twice.
struct TelemetryRecord {
  std::string device_id;
  int64_t seq = 0;
  int64_t time_ms = 0;
  std::string model;
  std::string version;
  int64_t inferences = 0;
  int64_t errors = 0;
  double latency_p50_ms = 0;
  double latency_p99_ms = 0;
  std::optional<double> agreement;     // shadow mode top-1 agreement, 0..1
  std::optional<double> drift_psi;     // output drift
  std::optional<double> temperature_c;
  int64_t rss_bytes = 0;
  std::string body_json = "{}";        // the whole record as sent
};

struct InsertCounts {
  int64_t inserted = 0;
  int64_t duplicates = 0;
};

// Health of a cohort over a time window, from its telemetry.
struct CohortHealth {
  int64_t devices = 0;                 // devices that reported in the window
  int64_t records = 0;
  int64_t inferences = 0;
  int64_t errors = 0;
  double error_rate = 0;               // errors / inferences (0 when no inferences)
  double latency_p99_ms = 0;           // 99th percentile of the records' p99 latencies
  std::optional<double> agreement;     // mean over records that carry it
  std::optional<double> drift_psi;     // mean over records that carry it
  std::optional<double> temperature_max_c;
};

enum class RolloutState { kRunning, kPaused, kCompleted, kHalted, kAborted };
const char* RolloutStateName(RolloutState state);
Expected<RolloutState> ParseRolloutState(const std::string& name);

struct Rollout {
  std::string id;                      // "r-" + 16 hex digits
  std::string model;
  std::string version;                 // the version being rolled out
  std::string baseline_version;        // what the cohort ran before; rollback target
  std::string group;                   // devices eligible ("" : all)
  std::string plan_json;               // stages and gates: fleet/rollout/rollout_plan.h
  RolloutState state = RolloutState::kRunning;
  int64_t stage = 0;                   // index of the current stage
  int64_t stage_started_ms = 0;
  std::string reason;                  // why it last changed state (halt reason, "manual pause")
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

struct RolloutMember {
  std::string rollout_id;
  std::string device_id;
  int64_t stage = 0;                   // the stage that took the device in
  std::string previous_version;
  int64_t assigned_ms = 0;
};

struct AlertRule {
  std::string id;                      // "a-" + 16 hex digits
  std::string name;
  std::string rule_json;               // metric, comparison, threshold, scope, action: fleet/rollout/alert_rules.h
  bool enabled = true;
  int64_t created_ms = 0;
};

struct Alert {
  std::string id;
  std::string rule_id;
  std::string subject;                 // what fired: a device id, "model@version" or "fleet"
  std::string message;
  double value = 0;
  int64_t fired_ms = 0;
  int64_t resolved_ms = 0;             // 0 while open
  bool delivered = false;              // reached the webhook
};

// Bytes the server sent to or received from a device, for bandwidth and cost figures.
struct Transfer {
  std::string device_id;
  std::string kind;                    // "package", "delta", "telemetry", "poll"
  int64_t bytes = 0;
  int64_t time_ms = 0;
};

class FleetStore {
 public:
  // Opens the database and creates or upgrades the schema (idempotent; safe when several
  // servers start at once).
  static Expected<std::unique_ptr<FleetStore>> Open(const std::string& url, int connections = 8);
  explicit FleetStore(std::unique_ptr<SqlDatabase> db);
  SqlDatabase& db() { return *db_; }

  // Enrollment and devices.
  Expected<Unit> AddEnrollmentToken(const EnrollmentToken& token);
  // Consumes one use of the token (refused when unknown, expired or used up) and creates the
  // device with the token's group and tags, in one transaction.
  Expected<Device> Enroll(const std::string& token_hash, const Device& device, int64_t now_ms);
  Expected<std::optional<Device>> FindDevice(const std::string& id);
  Expected<std::optional<Device>> FindDeviceByCredential(const std::string& credential_hash);
  Expected<std::vector<Device>> ListDevices(const DeviceFilter& filter);
  Expected<int64_t> CountDevices(const DeviceFilter& filter);
  // How many devices report running each (model, version), in one grouped query.
  Expected<std::map<std::pair<std::string, std::string>, int64_t>> CountDevicesByVersion();
  Expected<Unit> UpdateDeviceLabels(const std::string& id, const std::string& group,
                                    const std::vector<std::string>& tags);
  // A device's poll: what it runs now, its status, when it was seen.
  Expected<Unit> RecordDeviceReport(const std::string& id, const std::string& model,
                                    const std::string& version, const std::string& status_json,
                                    int64_t now_ms);

  // Model registry. AddModelVersion refuses a (name, version) or (name, counter) that exists.
  Expected<Unit> AddModelVersion(const ModelVersion& model);
  Expected<std::optional<ModelVersion>> FindModelVersion(const std::string& name, const std::string& version);
  Expected<std::optional<ModelVersion>> FindModelByDigest(const std::string& digest);
  Expected<std::vector<ModelVersion>> ListModelVersions(const std::string& name);  // "" : all, newest first

  // Deltas: recorded once per (base, target); a second Add of the same pair keeps the first.
  Expected<Delta> AddDelta(const Delta& delta);
  Expected<std::optional<Delta>> FindDelta(const std::string& base_digest, const std::string& target_digest);

  // Desired state.
  Expected<Unit> SetDesiredState(const DesiredState& state);
  Expected<std::optional<DesiredState>> GetDesiredState(const std::string& device_id);

  // Telemetry: one transaction per batch; records already stored are counted, not repeated.
  Expected<InsertCounts> InsertTelemetry(const std::vector<TelemetryRecord>& records);
  Expected<int64_t> CountTelemetry(const std::string& device_id);  // "" : all devices
  Expected<int64_t> LastTelemetrySeq(const std::string& device_id);  // 0 when none
  // Health of the devices that ran model@version in [since_ms, until_ms); when `device_ids`
  // is not empty, only those devices.
  Expected<CohortHealth> VersionHealth(const std::string& model, const std::string& version,
                                       int64_t since_ms, int64_t until_ms,
                                       const std::vector<std::string>& device_ids = {});
  // Per-version latency/drift series for the dashboard: one point per bucket.
  struct SeriesPoint {
    int64_t bucket_ms = 0;
    std::string version;
    double latency_p99_ms = 0;
    std::optional<double> drift_psi;
    int64_t records = 0;
  };
  Expected<std::vector<SeriesPoint>> VersionSeries(const std::string& model, int64_t since_ms,
                                                   int64_t bucket_ms);

  // Rollouts.
  Expected<Unit> AddRollout(const Rollout& rollout);
  Expected<std::optional<Rollout>> FindRollout(const std::string& id);
  Expected<std::vector<Rollout>> ListRollouts(bool active_only);
  // Compare-and-set: changes state, stage and reason only when the rollout is still in
  // `expected_state` at `expected_stage`. Returns false when another server got there first.
  Expected<bool> UpdateRollout(const std::string& id, RolloutState expected_state, int64_t expected_stage,
                               RolloutState state, int64_t stage, const std::string& reason, int64_t now_ms);
  // Adds devices to a rollout's cohort and sets their desired state to the rollout's version,
  // in one transaction; a device already in the rollout is skipped. Returns how many joined.
  Expected<int64_t> AddRolloutMembers(const Rollout& rollout, const std::vector<RolloutMember>& members);
  Expected<std::vector<RolloutMember>> ListRolloutMembers(const std::string& rollout_id);
  // Rollback: every member's desired state goes back to its previous version.
  Expected<int64_t> RevertRolloutMembers(const Rollout& rollout, int64_t now_ms);

  // Alerts.
  Expected<Unit> AddAlertRule(const AlertRule& rule);
  Expected<std::vector<AlertRule>> ListAlertRules();
  Expected<bool> DeleteAlertRule(const std::string& id);
  // Opens an alert unless one for the same rule and subject is open; returns it when opened.
  Expected<std::optional<Alert>> OpenAlert(const Alert& alert);
  Expected<Unit> ResolveAlert(const std::string& id, int64_t now_ms);
  Expected<Unit> MarkAlertDelivered(const std::string& id);
  Expected<std::vector<Alert>> ListAlerts(bool open_only, int64_t limit = 200);

  // Bandwidth.
  Expected<Unit> RecordTransfer(const Transfer& transfer);
  // Bytes per kind over [since_ms, until_ms), for one device or ("" ) the fleet.
  Expected<std::vector<std::pair<std::string, int64_t>>> TransferTotals(const std::string& device_id,
                                                                         int64_t since_ms, int64_t until_ms);

 private:
  std::unique_ptr<SqlDatabase> db_;
};

}  // namespace outpost::fleet
