// The update engine's persisted state (DEVICE/state.json): which state the machine is in, the
// update it is working on, anti-rollback and failure memory, the health window's counts and
// the events the host has not reported yet. Written atomically after every transition
// (io::WriteFileAtomic: temporary file, fsync, rename, directory fsync), so after a kill -9
// the file holds either the state before a transition or the one after it, never a mix.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/telemetry/latency_histogram.h"
#include "common/expected.h"

namespace outpost::agent {

// Idle and Check are one state: the machine rests in kCheck and polls from there.
enum class UpdateState { kCheck, kDownload, kVerify, kStage, kSelfTest, kSwitch, kHealth, kCommit, kRollback };

const char* StateName(UpdateState s);  // "check", "download", ...
std::optional<UpdateState> StateFromName(const std::string& name);

// Inference outcomes of one model over a period.
struct OutcomeCounts {
  uint64_t inferences = 0;
  uint64_t errors = 0;
  LatencyHistogram latency;

  void Add(bool ok, double latency_ms);
  double error_rate() const { return inferences ? static_cast<double>(errors) / inferences : 0.0; }
  nlohmann::json ToJson() const;
  static OutcomeCounts FromJson(const nlohmann::json& j);
};

struct UpdateTarget {
  std::string version;
  std::string digest;
  uint64_t size = 0;
  std::string url;
  std::string delta_url;  // empty: no delta offered (or it failed: download the package)
  std::string delta_digest;
  uint64_t delta_size = 0;
  std::string delta_base_version;
  std::string rollback_order;  // signed order sent with the target, if any
  uint64_t counter = 0;        // from the verified manifest
  double latency_ms = 0;       // the manifest's latency_ms figure (0: none)
  std::string slot;            // the slot it is staged into ("a" or "b")
  std::string previous_slot;   // the slot active before the switch ("" on a first install)
  std::string previous_version;
  // A downgrade the fleet server ordered (a signed rollback order allowed it): the version it
  // leaves is the one the fleet judged bad, so the health window is not measured against it.
  bool ordered_rollback = false;
};

struct UpdateEvent {
  int64_t time_ms = 0;
  std::string kind;  // "refused", "committed", "rolled_back", "boot_fallback", "error"
  std::string version;
  std::string reason;
};

struct UpdateStateRecord {
  UpdateState state = UpdateState::kCheck;
  std::optional<UpdateTarget> target;
  uint64_t highest_committed_counter = 0;  // anti-rollback: never goes down
  std::string committed_version;
  std::vector<std::string> failed_versions;  // never retried automatically
  std::string last_error;
  // The previous model's outcomes, recorded at the switch, and the window's own.
  std::optional<OutcomeCounts> baseline;
  OutcomeCounts window;
  int64_t window_started_ms = 0;
  std::vector<UpdateEvent> events;  // oldest first, at most kMaxEvents

  static constexpr size_t kMaxEvents = 64;

  nlohmann::json ToJson() const;
  static Expected<UpdateStateRecord> FromJson(const std::string& text);
};

}  // namespace outpost::agent
