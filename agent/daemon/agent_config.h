// The device agent's configuration: DEVICE/agent.json, written by `outpost agent enroll` and
// read by `outpost agent run` (docs/agent.md, "Running the agent").
//
//   {"format": "outpost-agent/1",
//    "server": "https://fleet.example:8443", "ca_file": "ca.pem",
//    "device_id": "d-3f9a0c12b7e4d5a6", "name": "cam-17",
//    "model": "detector", "tags": ["camera"],
//    "credential_file": "credential", "device_key": "device.key",
//    "signing_key": "fleet.pub", "rollback_key": "rollback.pub",
//    "pipeline": "pipeline.json",
//    "periods_ms": {"poll": 60000, "report": 10000, "upload": 10000},
//    "health": {"window_ms": 60000, "min_inferences": 100, "max_error_rate_increase": 0.02,
//               "max_error_rate": 0.05, "max_p99_ratio": 1.5},
//    "buffer": {"max_records": 100000, "max_bytes": 67108864},
//    "shadow": {"rate": 0.25}}
//
// Relative paths are taken from the device directory. Parsing is strict: an unknown key, a
// wrong type, a value out of range or a missing required key is one error naming its place
// ("agent.json: periods_ms: unknown option 'pol'").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/expected.h"

namespace outpost::agent {

inline constexpr char kAgentConfigFormat[] = "outpost-agent/1";
inline constexpr char kAgentConfigFile[] = "agent.json";

struct AgentPeriods {
  int64_t poll_ms = 60'000;    // how often the update engine asks the server
  int64_t report_ms = 10'000;  // one telemetry record per period
  int64_t upload_ms = 10'000;  // how often the buffer is offered to the server (when not backing off)
};

struct AgentHealth {
  int64_t window_ms = 60'000;
  int64_t min_inferences = 100;
  double max_error_rate_increase = 0.02;
  double max_error_rate = 0.05;
  double max_p99_ratio = 1.5;
};

struct AgentBuffer {
  int64_t max_records = 100'000;
  int64_t max_bytes = 64ll << 20;
};

struct AgentConfig {
  std::string dir;  // the device directory (not in the file: where the file was read)
  std::string server;
  std::string ca_file;  // resolved; "" for none
  std::string device_id;
  std::string name;
  std::string model;
  std::vector<std::string> tags;
  std::string credential_file;  // resolved
  std::string device_key;       // resolved; the device's X25519 secret
  std::string signing_key;      // resolved; the fleet's package signing key (public)
  std::string rollback_key;     // resolved; "" : orders verify with the signing key
  std::string pipeline;         // resolved
  AgentPeriods periods;
  AgentHealth health;
  AgentBuffer buffer;
  double shadow_rate = 0.25;  // share of frames the previous model also runs on in a health window
};

// Parses agent.json's content; `dir` resolves relative paths. One error per problem.
Expected<AgentConfig> ParseAgentConfig(const nlohmann::json& j, const std::string& dir);
// Reads DIR/agent.json.
Expected<AgentConfig> LoadAgentConfig(const std::string& dir);

}  // namespace outpost::agent
