// What the HTTP API accepts, parsed: each JSON request body (and the upload's query string)
// becomes a struct through a pure function of its bytes, so that every check of client input
// happens before a handler touches the store, and the same functions are fuzzed without a
// server (tests/fuzz/fuzz_fleet_json.cc). A refusal is one message; the handlers answer it with
// 400 (413 for a telemetry batch over its record limit). Shapes and limits: docs/fleet-api.md.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "fleet/rollout/alert_rules.h"
#include "fleet/store/fleet_store.h"

namespace outpost::fleet {

inline constexpr int64_t kMaxTokenLifetimeS = int64_t{366} * 24 * 3600;
inline constexpr int64_t kMaxTokenUses = 1000000;
inline constexpr size_t kMaxReasonBytes = 256;

// POST /v1/enroll. The token's shape is the caller's to judge (a wrong one is a 401).
struct EnrollRequest {
  std::string token;
  std::string name;        // IsDeviceName
  std::string public_key;  // "" or IsDevicePublicKey: the device's X25519 key, base64
};
Expected<EnrollRequest> ParseEnrollRequest(const std::string& body);

// POST /v1/device/poll: what the device runs (both empty or both set) and its status object.
struct PollReport {
  std::string model;
  std::string version;
  std::string status_json = "{}";  // a JSON object
};
Expected<PollReport> ParsePollReport(const std::string& body);

// POST /v1/device/telemetry: at most `max_records` records, each checked (device_id left
// empty: the credential says whose they are). Over the limit, the message is exactly
// TooManyRecordsMessage(max_records).
Expected<std::vector<TelemetryRecord>> ParseTelemetryBatch(const std::string& body, int64_t max_records);
std::string TooManyRecordsMessage(int64_t max_records);

// POST /v1/enrollment-tokens.
struct EnrollmentTokenRequest {
  std::string group;              // "" or IsLabel
  std::vector<std::string> tags;  // at most kMaxTags, each IsLabel
  int64_t expires_in_s = 3600;    // 1..kMaxTokenLifetimeS
  int64_t uses = 1;               // 1..kMaxTokenUses
};
Expected<EnrollmentTokenRequest> ParseEnrollmentTokenRequest(const std::string& body);

// PATCH /v1/devices/{id}: a field left out keeps the device's value.
struct DevicePatch {
  std::optional<std::string> group;
  std::optional<std::vector<std::string>> tags;
};
Expected<DevicePatch> ParseDevicePatch(const std::string& body);

// PUT /v1/devices/{id}/desired.
struct DesiredStateRequest {
  std::string model;    // IsModelName
  std::string version;  // IsVersion
};
Expected<DesiredStateRequest> ParseDesiredStateRequest(const std::string& body);

// POST /v1/rollouts. `plan` is what the client sent (null: the default plan), already checked
// with ParseRolloutPlan.
struct RolloutRequest {
  std::string model;
  std::string version;
  std::string group;
  nlohmann::json plan;
};
Expected<RolloutRequest> ParseRolloutRequest(const std::string& body);

// POST /v1/rollouts/{id}/(pause|resume|abort): the reason, 1..kMaxReasonBytes ("by hand" when
// absent).
Expected<std::string> ParseRolloutChangeReason(const std::string& body);

// POST /v1/alert-rules.
Expected<AlertRuleSpec> ParseAlertRuleRequest(const std::string& body);

// POST /v1/models?parent=VERSION: the parent version ("" when none); any other parameter is
// refused. `params` is the decoded query (httplib::Params).
Expected<std::string> ParseUploadQuery(const std::multimap<std::string, std::string>& params);

}  // namespace outpost::fleet
