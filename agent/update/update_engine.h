// The device's over-the-air update engine: an explicit state machine, persisted after every
// transition, that a kill -9 at any moment leaves with a working model and a way forward.
//
//   check -> download -> verify -> stage -> selftest -> switch -> health -> commit
//                                                                      \-> rollback
//   (a refusal in download, verify, stage or selftest returns to check, the active model
//    untouched; check is also the idle state)
//
// Device directory layout (UpdateEngineOptions::device_dir):
//   slots/a/, slots/b/      A/B slots, each holding model.opk (the verified package) and
//                           model.opm (its model, unpacked); the inactive one is cleared and
//                           rewritten by an update, the active one is never written
//   active                  "a" or "b": the slot the device boots; replaced atomically
//                           (temporary file, fsync, rename, directory fsync): this is the switch
//   state.json              UpdateStateRecord (agent/update/update_state.h)
//   download/               <digest>.opk.part (a package being downloaded, resumable),
//                           <digest>.delta.part (a delta), <digest>.opk (complete, to verify)
//   rollback-order.json     the last signed rollback order accepted by AcceptRollbackOrder
//
// The engine does not run the pipeline: the host boots it (Boot), calls Step() or
// RunUntilSettled() when it wants to check for updates, feeds it inference outcomes of the
// active model (RecordInference) and reports its events. docs/agent.md, "Updates".
// An engine is not thread-safe: one thread of the host calls it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/client/fleet_client.h"
#include "agent/update/update_state.h"
#include "common/expected.h"
#include "package/keys.h"

namespace outpost::agent {

struct UpdateEngineOptions {
  std::string device_dir;
  std::string device_id;
  std::string model;                  // the model this device runs
  std::vector<std::string> tags;      // the device's tags: a package's targets must name one
  std::optional<package::Key> signing_public;  // the fleet's signing key (required)
  // The key rollback orders verify with: the fleet server's --rollback-key (public half).
  // Unset: the signing key above (orders then come from whoever holds the package key).
  std::optional<package::Key> rollback_public;
  std::optional<package::Key> device_secret;   // opens packages sealed to this device
  std::optional<package::Key> fleet_key;       // opens packages encrypted with the fleet key
  // Self-test: runs timed; the median must be within the manifest's latency_ms figure times
  // the tolerance, or within the absolute budget when the manifest has no such figure.
  int self_test_runs = 5;
  double latency_tolerance = 3.0;
  double self_test_budget_ms = 1000.0;
  // Health window after the switch: at least this long and this many inferences.
  int64_t health_window_ms = 60'000;
  uint64_t health_min_inferences = 100;
  // Failing the window: an error rate above the previous model's by more than this (or above
  // health_max_error_rate when there is no previous figure), or a p99 latency above the
  // previous one times this factor.
  double health_max_error_rate_increase = 0.02;
  double health_max_error_rate = 0.05;
  double health_max_p99_ratio = 1.5;
  // The window's counts are persisted at most once per health_persist_ms (and at every Step),
  // so a fast model does not rewrite the state file hundreds of times a second (flash wears
  // out; each save is a write, a flush and a rename), and at the latest after
  // health_persist_every outcomes, which bounds what a crash can lose if the clock stalls.
  int64_t health_persist_ms = 1000;
  uint64_t health_persist_every = 10000;
  // Off: always download the whole package, even when the server offers a delta.
  bool use_deltas = true;
  // Downloads keep this much free space on the device's filesystem (0: only what they need).
  uint64_t min_free_bytes = 0;
  // Milliseconds since the epoch (tests control time).
  std::function<int64_t()> clock;
  // Called with the bytes on disk while a download runs; false cuts the transfer.
  DownloadProgress download_progress;
};

struct BootReport {
  std::string slot;     // the slot booted ("" when no slot holds a working model)
  std::string version;  // its version
  bool fell_back = false;  // the active slot did not work and the other one is booted
  std::string reason;      // why it fell back or why nothing boots
};

class UpdateEngine {
 public:
  // Creates the directory layout if needed and reads state.json. Does not touch the slots.
  static Expected<std::unique_ptr<UpdateEngine>> Open(const UpdateEngineOptions& options, FleetClient* client);
  ~UpdateEngine();

  // The working-model rule: the active slot's model must load and pass its self-test, else
  // the other slot is booted (and an update in progress rolls back). Then the persisted state
  // is resumed: Step() continues where the last process stopped.
  Expected<BootReport> Boot();

  // One transition from the current state (a poll in check). Answers the new state. A
  // refusal is not an Error: the machine moves on (back to check, or to rollback) and
  // last_error/events say why. An Error means the step could not run (the server is
  // unreachable, a download was cut): the state is unchanged and a later Step retries.
  Expected<UpdateState> Step();
  // Steps until the machine rests: back in check (nothing to do, or the update is over:
  // committed, refused or rolled back), or in health waiting for its window. At most
  // `max_steps` transitions.
  Expected<UpdateState> RunUntilSettled(int max_steps = 32);

  // An inference outcome of the active model. During the health window they count towards it;
  // otherwise they are the baseline the next update's window is compared with.
  void RecordInference(bool ok, double latency_ms);

  // Verifies a signed rollback order (package/rollback_order.h) for this device and model and
  // keeps it: Verify then accepts exactly that version despite anti-rollback, and the version
  // leaves the list of failed versions (an operator asked for it explicitly).
  Expected<Unit> AcceptRollbackOrder(const std::string& order_text);

  UpdateState state() const { return record_.state; }
  const UpdateStateRecord& record() const { return record_; }
  // The active slot's model, for the host to run ("" when none).
  std::string ActiveModelPath() const;
  std::string active_version() const { return active_version_; }
  // The staged candidate's model (during selftest/switch/health), for shadow runs.
  std::string CandidateModelPath() const;
  // Events not yet taken; taking them clears them from the persisted state.
  std::vector<UpdateEvent> TakeEvents();

 private:
  UpdateEngine(const UpdateEngineOptions& options, FleetClient* client);

  // One function per transition.
  Expected<UpdateState> DoCheck();
  Expected<UpdateState> DoDownload();
  UpdateState DoVerify();
  UpdateState DoStage();
  UpdateState DoSelfTest();
  Expected<UpdateState> DoSwitch();
  UpdateState DoHealth();
  UpdateState DoCommit();
  Expected<UpdateState> DoRollback();

  // Abandons the target before the switch: back to check, the active model untouched.
  UpdateState Refuse(const std::string& reason, bool remember_failure);
  Expected<Unit> Persist(UpdateState next);
  const package::Key& OrderKey() const { return options_.rollback_public ? *options_.rollback_public : *options_.signing_public; }
  void AddEvent(const std::string& kind, const std::string& version, const std::string& reason);
  Expected<Unit> WriteActive(const std::string& slot);
  void ReadActiveVersion();
  int64_t Now() const;

  std::string SlotDir(const std::string& slot) const;
  std::string DownloadedPackage() const;  // download/<digest>.opk

  UpdateEngineOptions options_;
  FleetClient* client_;
  UpdateStateRecord record_;
  std::string active_slot_;
  std::string active_version_;
  OutcomeCounts active_outcomes_;  // the active model outside a health window
  uint64_t unpersisted_outcomes_ = 0;
  int64_t health_persisted_ms_ = 0;  // when the window's counts were last saved
};

}  // namespace outpost::agent
