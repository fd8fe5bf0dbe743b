// The device agent as a daemon (`outpost agent enroll` / `outpost agent run`, docs/agent.md
// "Running the agent"): it puts the agent's parts together.
//
// - Enroll: the device's own X25519 key pair (secret created 0600; the public key is sent with
//   the enrollment so that packages can be sealed to the device), the device credential from
//   the fleet server (a 0600 file created in one step), the fleet's public keys copied into the
//   device directory, and agent.json.
// - Run: boots the update engine (agent/update/) and runs the pipeline file with the active
//   slot's model; every inference feeds the engine's health window, the telemetry metrics, the
//   drift monitor (when the model carries a reference) and, during a health window, a shadow
//   comparison of the new model against the previous one (the `agreement` the rollout gate
//   `min_agreement` reads). Every report period one telemetry record goes to the SQLite buffer,
//   which is uploaded whenever the link is up; every poll period the engine steps. When the
//   active slot changes (switch or rollback) the pipeline restarts on the new model. A refusal
//   is logged with its reason and reported; the running model keeps running. A step that
//   cannot run (a download cut short, the server unreachable) is logged and reported as an
//   `update_error` event, once per report period when it changed (docs/agent.md "Security").
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "agent/daemon/agent_config.h"
#include "common/expected.h"
#include "pipeline/runner/factories.h"

namespace outpost::agent {

struct EnrollOptions {
  std::string dir;  // the device directory (created when missing)
  std::string server;
  std::string token;  // an enrollment token from the fleet's operator
  std::string model;
  std::string signing_key;   // the fleet's package signing key (public), copied to DIR/fleet.pub
  std::string rollback_key;  // the server's rollback-order key (public), copied to DIR/rollback.pub
  std::string ca_file;       // https: the CA the server's certificate chains to
  std::vector<std::string> tags;  // empty: the tags the enrollment token gives
  std::string name;               // empty: the host name
  std::string pipeline;           // the pipeline file the agent runs (its model is replaced)
  AgentPeriods periods;
  AgentHealth health;
};

// Enrolls the device and writes its directory: device.key (0600), device.pub, credential
// (0600), fleet.pub, rollback.pub, agent.json. Refuses a directory that already holds an
// agent.json or a credential (the device is enrolled).
Expected<AgentConfig> EnrollDevice(const EnrollOptions& options);

struct AgentRunOptions {
  const std::atomic<bool>* stop = nullptr;  // set (by a signal handler) to stop cleanly
  int64_t max_seconds = 0;                  // > 0: stop after this long
  // Network actions for the pipeline (the `outpost` tool offers the uplink ones).
  const pipeline::ActionFactoryExtension* actions = nullptr;
  // One line per notable event (boot, update events, refusals, pipeline restarts). Default: stderr.
  std::function<void(const std::string&)> log;
};

struct AgentRunSummary {
  std::string version;            // the active version at the end
  int64_t records = 0;            // telemetry records appended
  int64_t records_uploaded = 0;   // acknowledged by the server
  int64_t records_pending = 0;    // still buffered at the end
  int64_t pipeline_starts = 0;
  std::vector<std::string> events;  // "refused 1.2.0: …", "committed 1.1.0", … in order
};

// Runs until `stop` is set or max_seconds passed; an Error only when the agent cannot start
// (configuration, keys, credential, buffer, pipeline file).
Expected<AgentRunSummary> RunAgent(const AgentConfig& config, const AgentRunOptions& options = {});

}  // namespace outpost::agent
