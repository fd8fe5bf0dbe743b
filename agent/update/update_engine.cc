#include "agent/update/update_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "agent/update/crash_point.h"
#include "agent/update/model_check.h"
#include "io/mapped_file.h"
#include "package/pack.h"
#include "package/package_delta.h"
#include "package/rollback_order.h"
#include "package/unpack.h"
#include "package/verify.h"

namespace outpost::agent {
namespace fs = std::filesystem;
namespace {

std::string OtherSlot(const std::string& slot) { return slot == "a" ? "b" : "a"; }

// MAJOR.MINOR.PATCH compared numerically; pre-release and build parts are ignored.
std::vector<long> VersionCore(const std::string& v) {
  std::vector<long> parts;
  std::stringstream in(v.substr(0, v.find_first_of("-+")));
  std::string item;
  while (std::getline(in, item, '.')) parts.push_back(std::atol(item.c_str()));
  parts.resize(3, 0);
  return parts;
}

bool IsNoSpace(const std::string& message) {
  return message.find("No space left") != std::string::npos || message.find("no space left") != std::string::npos;
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return "[" + out + "]";
}

std::string FormatMs(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

void SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

UpdateEngine::UpdateEngine(const UpdateEngineOptions& options, FleetClient* client)
    : options_(options), client_(client) {}
UpdateEngine::~UpdateEngine() = default;

Expected<std::unique_ptr<UpdateEngine>> UpdateEngine::Open(const UpdateEngineOptions& options, FleetClient* client) {
  if (options.device_dir.empty()) return Error("agent: the device directory is not set");
  if (!options.signing_public || options.signing_public->type() != package::KeyType::kSigningPublic)
    return Error("agent: the fleet signing public key is required");
  if (options.rollback_public && options.rollback_public->type() != package::KeyType::kSigningPublic)
    return Error("agent: the rollback order key must be an Ed25519 signing public key");
  if (options.model.empty()) return Error("agent: the device's model name is not set");
  std::error_code ec;
  for (const char* sub : {"slots/a", "slots/b", "download"}) {
    fs::create_directories(fs::path(options.device_dir) / sub, ec);
    if (ec) return Error("agent: cannot create " + options.device_dir + "/" + sub + ": " + ec.message());
  }
  std::unique_ptr<UpdateEngine> engine(new UpdateEngine(options, client));
  const std::string state_path = options.device_dir + "/state.json";
  if (fs::exists(state_path)) {
    Expected<std::string> text = io::ReadTextFile(state_path);
    if (!text.ok()) return Error("agent: " + text.message());
    Expected<UpdateStateRecord> record = UpdateStateRecord::FromJson(*text);
    if (!record.ok()) return Error("agent: " + state_path + ": " + record.message());
    engine->record_ = std::move(*record);
  }
  return engine;
}

int64_t UpdateEngine::Now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string UpdateEngine::SlotDir(const std::string& slot) const { return options_.device_dir + "/slots/" + slot; }

std::string UpdateEngine::DownloadedPackage() const {
  return options_.device_dir + "/download/" + record_.target->digest + ".opk";
}

std::string UpdateEngine::ActiveModelPath() const {
  return active_slot_.empty() ? std::string() : SlotDir(active_slot_) + "/model.opm";
}

std::string UpdateEngine::CandidateModelPath() const {
  const UpdateState s = record_.state;
  if (!record_.target || record_.target->slot.empty() ||
      !(s == UpdateState::kSelfTest || s == UpdateState::kSwitch || s == UpdateState::kHealth))
    return "";
  return SlotDir(record_.target->slot) + "/model.opm";
}

void UpdateEngine::AddEvent(const std::string& kind, const std::string& version, const std::string& reason) {
  record_.events.push_back({Now(), kind, version, reason});
  if (record_.events.size() > UpdateStateRecord::kMaxEvents) record_.events.erase(record_.events.begin());
}

std::vector<UpdateEvent> UpdateEngine::TakeEvents() {
  std::vector<UpdateEvent> out = std::move(record_.events);
  record_.events.clear();
  if (!out.empty()) (void)Persist(record_.state);
  return out;
}

Expected<Unit> UpdateEngine::Persist(UpdateState next) {
  const std::string name = StateName(next);
  CrashPoint("persist-" + name + "-before");
  const UpdateState before = record_.state;
  record_.state = next;
  Expected<Unit> w = io::WriteFileAtomic(options_.device_dir + "/state.json", record_.ToJson().dump(1));
  if (!w.ok()) {
    record_.state = before;
    return Error("agent: cannot save the update state: " + w.message());
  }
  CrashPoint("persist-" + name + "-after");
  return Unit{};
}

Expected<Unit> UpdateEngine::WriteActive(const std::string& slot) {
  if (slot.empty()) {
    std::error_code ec;
    fs::remove(options_.device_dir + "/active", ec);
    SyncDirectory(options_.device_dir);
    return Unit{};
  }
  return io::WriteFileAtomic(options_.device_dir + "/active", slot + "\n");
}

void UpdateEngine::ReadActiveVersion() {
  active_version_.clear();
  if (active_slot_.empty()) return;
  Expected<package::VerifiedPackage> p =
      package::VerifyPackageFile(SlotDir(active_slot_) + "/model.opk", *options_.signing_public);
  if (p.ok()) active_version_ = p->manifest.version;
}

UpdateState UpdateEngine::Refuse(const std::string& reason, bool remember_failure) {
  const std::string version = record_.target ? record_.target->version : "";
  record_.last_error = reason;
  AddEvent("refused", version, reason);
  if (remember_failure && !version.empty() &&
      std::find(record_.failed_versions.begin(), record_.failed_versions.end(), version) == record_.failed_versions.end())
    record_.failed_versions.push_back(version);
  // A staged candidate is never booted: clear its slot (never the active one).
  if (record_.target && !record_.target->slot.empty() && record_.target->slot != active_slot_) {
    std::error_code ec;
    fs::remove_all(SlotDir(record_.target->slot), ec);
    fs::create_directories(SlotDir(record_.target->slot), ec);
  }
  if (record_.target && remember_failure) {
    std::error_code ec;
    fs::remove(DownloadedPackage(), ec);
  }
  record_.target.reset();
  record_.baseline.reset();
  // On a full disk the state may not be writable either: the machine still goes back to
  // check in memory, and on disk the last good state is redone after a restart.
  (void)Persist(UpdateState::kCheck);
  record_.state = UpdateState::kCheck;
  return UpdateState::kCheck;
}

Expected<BootReport> UpdateEngine::Boot() {
  BootReport report;
  std::string active;
  if (Expected<std::string> text = io::ReadTextFile(options_.device_dir + "/active"); text.ok()) {
    active = text->substr(0, text->find_first_of("\r\n"));
    if (active != "a" && active != "b") active.clear();
  }
  auto works = [&](const std::string& slot, std::string* why) {
    if (slot.empty()) return false;
    Expected<package::VerifiedPackage> p =
        package::VerifyPackageFile(SlotDir(slot) + "/model.opk", *options_.signing_public);
    if (!p.ok()) {
      if (why) *why = p.message();
      return false;
    }
    Expected<SelfTestResult> r = CheckModelFile(SlotDir(slot) + "/model.opm", 1);
    if (!r.ok() && why) *why = r.message();
    return r.ok();
  };
  std::string why;
  if (works(active, &why)) {
    active_slot_ = active;
  } else {
    const std::string failing = active;
    const std::string other = active.empty() ? "" : OtherSlot(active);
    std::string other_why;
    // Without an active pointer (a first install in progress) no slot is trusted yet, unless
    // a switch was under way: then the target slot passed its self-test already.
    std::string candidate = other;
    if (active.empty() && record_.target && !record_.target->slot.empty() &&
        (record_.state == UpdateState::kSwitch || record_.state == UpdateState::kHealth ||
         record_.state == UpdateState::kCommit))
      candidate = record_.target->slot;
    if (!candidate.empty() && works(candidate, &other_why)) {
      Expected<Unit> w = WriteActive(candidate);
      if (!w.ok()) return Error("agent: cannot repoint the active slot: " + w.message());
      CrashPoint("boot-repointed");
      active_slot_ = candidate;
      report.fell_back = !failing.empty();
      report.reason = failing.empty() ? "" : "slot " + failing + " does not hold a working model: " + why;
      if (report.fell_back) AddEvent("boot_fallback", "", report.reason);
    } else {
      active_slot_.clear();
      if (!failing.empty()) {
        (void)WriteActive("");
        report.reason = "no slot holds a working model: " + why;
      } else {
        report.reason = "no model installed yet";
      }
    }
    // An update whose new model is the one that failed is over: it rolls back.
    if (record_.target && !failing.empty() && record_.target->slot == failing &&
        (record_.state == UpdateState::kSwitch || record_.state == UpdateState::kHealth ||
         record_.state == UpdateState::kCommit || record_.state == UpdateState::kRollback)) {
      const std::string version = record_.target->version;
      record_.last_error = "version " + version + " does not boot: " + why;
      if (std::find(record_.failed_versions.begin(), record_.failed_versions.end(), version) ==
          record_.failed_versions.end())
        record_.failed_versions.push_back(version);
      AddEvent("rolled_back", version, record_.last_error);
      record_.target.reset();
      record_.baseline.reset();
      if (Expected<Unit> p = Persist(UpdateState::kCheck); !p.ok()) return p.error();
    } else if (record_.target && record_.state != UpdateState::kCheck && record_.target->slot == active_slot_ &&
               (record_.state == UpdateState::kStage || record_.state == UpdateState::kSelfTest)) {
      // The old model broke while its successor was being staged over the other slot, which
      // is now booted: start that update again from the top rather than overwrite it.
      record_.target.reset();
      if (Expected<Unit> p = Persist(UpdateState::kCheck); !p.ok()) return p.error();
    }
  }
  ReadActiveVersion();
  report.slot = active_slot_;
  report.version = active_version_;
  if (record_.state == UpdateState::kHealth) {
    // The window's counts were persisted; its clock restarts with the process.
    record_.window_started_ms = Now();
  }
  return report;
}

Expected<UpdateState> UpdateEngine::Step() {
  Expected<UpdateState> next = [&]() -> Expected<UpdateState> {
    switch (record_.state) {
      case UpdateState::kCheck: return DoCheck();
      case UpdateState::kDownload: return DoDownload();
      case UpdateState::kVerify: return DoVerify();
      case UpdateState::kStage: return DoStage();
      case UpdateState::kSelfTest: return DoSelfTest();
      case UpdateState::kSwitch: return DoSwitch();
      case UpdateState::kHealth: return DoHealth();
      case UpdateState::kCommit: return DoCommit();
      case UpdateState::kRollback: return DoRollback();
    }
    return Error("agent: unknown state");
  }();
  if (!next.ok()) record_.last_error = next.message();
  return next;
}

Expected<UpdateState> UpdateEngine::RunUntilSettled(int max_steps) {
  for (int i = 0; i < max_steps; ++i) {
    const UpdateState before = record_.state;
    Expected<UpdateState> s = Step();
    if (!s.ok()) return s;
    // Back in check: nothing to do, or an update is over (committed, refused, rolled back).
    if (*s == UpdateState::kCheck) return *s;
    if (*s == UpdateState::kHealth && before == UpdateState::kHealth) return *s;
  }
  return record_.state;
}

void UpdateEngine::RecordInference(bool ok, double latency_ms) {
  if (record_.state != UpdateState::kHealth) {
    active_outcomes_.Add(ok, latency_ms);
    return;
  }
  record_.window.Add(ok, latency_ms);
  ++unpersisted_outcomes_;
  const int64_t now = Now();
  if (unpersisted_outcomes_ >= std::max<uint64_t>(options_.health_persist_every, 1) ||
      now - health_persisted_ms_ >= options_.health_persist_ms) {
    unpersisted_outcomes_ = 0;
    health_persisted_ms_ = now;
    (void)Persist(UpdateState::kHealth);
  }
}

Expected<Unit> UpdateEngine::AcceptRollbackOrder(const std::string& order_text) {
  Expected<package::RollbackOrder> order = package::VerifyRollbackOrder(
      order_text, OrderKey(), {options_.model, options_.device_id, Now()});
  if (!order.ok()) return order.error();
  if (Expected<Unit> w = io::WriteFileAtomic(options_.device_dir + "/rollback-order.json", order_text); !w.ok())
    return w.error();
  auto& failed = record_.failed_versions;
  failed.erase(std::remove(failed.begin(), failed.end(), order->version), failed.end());
  return Persist(record_.state);
}

// --- transitions -----------------------------------------------------------------------------

Expected<UpdateState> UpdateEngine::DoCheck() {
  if (!client_) return Error("agent: no fleet client");
  nlohmann::json status = {{"update_state", StateName(record_.state)}};
  if (!record_.last_error.empty()) status["update_error"] = record_.last_error;
  if (!record_.failed_versions.empty()) status["failed_versions"] = record_.failed_versions;
  Expected<std::optional<DesiredModel>> desired =
      client_->Poll(active_version_.empty() ? "" : options_.model, active_version_, status);
  if (!desired.ok()) return desired.error();
  if (!*desired) return UpdateState::kCheck;
  const DesiredModel& d = **desired;
  if (d.model != options_.model) {
    const std::string reason = "the server wants model " + d.model + "; this device runs " + options_.model;
    if (record_.last_error != reason) {
      record_.last_error = reason;
      AddEvent("refused", d.version, reason);
      if (Expected<Unit> p = Persist(UpdateState::kCheck); !p.ok()) return p.error();
    }
    return UpdateState::kCheck;
  }
  if (d.version == active_version_) return UpdateState::kCheck;
  if (std::find(record_.failed_versions.begin(), record_.failed_versions.end(), d.version) !=
      record_.failed_versions.end()) {
    const std::string reason = "version " + d.version + " failed on this device before; it is not retried";
    if (record_.last_error.rfind(reason, 0) != 0) {
      record_.last_error = reason;
      if (Expected<Unit> p = Persist(UpdateState::kCheck); !p.ok()) return p.error();
    }
    return UpdateState::kCheck;
  }
  UpdateTarget t;
  t.version = d.version;
  t.digest = d.digest;
  t.size = d.size;
  t.url = d.url;
  if (d.delta) {
    t.delta_url = d.delta->url;
    t.delta_digest = d.delta->digest;
    t.delta_size = d.delta->size;
    t.delta_base_version = d.delta->base_version;
  }
  t.rollback_order = d.rollback_order.value_or("");
  record_.target = t;
  record_.last_error.clear();
  if (Expected<Unit> p = Persist(UpdateState::kDownload); !p.ok()) return p.error();
  return UpdateState::kDownload;
}

Expected<UpdateState> UpdateEngine::DoDownload() {
  UpdateTarget& t = *record_.target;
  const std::string dir = options_.device_dir + "/download/";
  const std::string package_path = DownloadedPackage();
  if (fs::exists(package_path)) {  // complete before a restart
    if (Expected<Unit> p = Persist(UpdateState::kVerify); !p.ok()) return p.error();
    return UpdateState::kVerify;
  }
  const bool use_delta = options_.use_deltas && !t.delta_url.empty() && !active_slot_.empty() && t.delta_base_version == active_version_;
  const uint64_t need = use_delta ? t.delta_size + t.size : t.size;
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) == 0) {
    const uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    if (free_bytes < need + options_.min_free_bytes)
      return Refuse("download of " + t.version + " refused: no space left on the device (" + std::to_string(need) +
                        " bytes needed, " + std::to_string(free_bytes) + " free, " +
                        std::to_string(options_.min_free_bytes) + " kept free)",
                    false);
  }
  bool mid_passed = false;
  auto progress_for = [&](uint64_t total) {
    return [&, total](uint64_t bytes) {
      if (!mid_passed && bytes * 2 >= total) {
        mid_passed = true;
        CrashPoint("download-mid");
      }
      return !options_.download_progress || options_.download_progress(bytes);
    };
  };

  if (use_delta) {
    const std::string part = dir + t.delta_digest + ".delta.part";
    Expected<Unit> got = client_->Download(t.delta_url, part, t.delta_size, t.delta_digest, progress_for(t.delta_size));
    if (!got.ok() && got.error().kind() != ErrorKind::kRefused) return got.error();
    std::string delta_failure = got.ok() ? "" : got.message();
    if (got.ok()) {
      Expected<io::MappedFile> base = io::MappedFile::Open(SlotDir(active_slot_) + "/model.opk");
      Expected<io::MappedFile> delta = io::MappedFile::Open(part);
      if (!base.ok() || !delta.ok()) {
        delta_failure = base.ok() ? delta.message() : base.message();
      } else {
        const package::Key* key = options_.device_secret ? &*options_.device_secret
                                  : options_.fleet_key  ? &*options_.fleet_key
                                                        : nullptr;
        Expected<package::PatchedPackage> patched =
            package::ApplyPackageDelta(base->bytes(), delta->bytes(), *options_.signing_public, key);
        if (!patched.ok()) {
          delta_failure = patched.message();
        } else if (Expected<Unit> w = io::WriteFileAtomic(package_path, patched->bytes); !w.ok()) {
          if (IsNoSpace(w.message())) return Refuse("download of " + t.version + " refused: " + w.message(), false);
          delta_failure = w.message();
        } else if (Expected<std::string> dg = FileDigest(package_path); !dg.ok() || *dg != t.digest) {
          delta_failure = "the rebuilt package is not the one the server offers";
          std::error_code ec;
          fs::remove(package_path, ec);
        }
      }
    }
    std::error_code ec;
    fs::remove(part, ec);
    if (delta_failure.empty()) {
      AddEvent("downloaded", t.version, "delta of " + std::to_string(t.delta_size) + " bytes from " + t.delta_base_version);
      CrashPoint("delta-applied");
      if (Expected<Unit> p = Persist(UpdateState::kVerify); !p.ok()) return p.error();
      return UpdateState::kVerify;
    }
    // The delta did not work out: the full package is downloaded instead.
    AddEvent("delta_failed", t.version, delta_failure);
    t.delta_url.clear();
    if (Expected<Unit> p = Persist(UpdateState::kDownload); !p.ok()) return p.error();
    return UpdateState::kDownload;
  }

  const std::string part = package_path + ".part";
  Expected<Unit> got = client_->Download(t.url, part, t.size, t.digest, progress_for(t.size));
  if (!got.ok()) {
    if (got.error().kind() == ErrorKind::kRefused) return Refuse(got.message(), false);
    return got.error();
  }
  if (::rename(part.c_str(), package_path.c_str()) != 0)
    return Error("agent: cannot rename " + part + ": " + std::strerror(errno));
  SyncDirectory(dir);
  AddEvent("downloaded", t.version, "package of " + std::to_string(t.size) + " bytes");
  CrashPoint("download-done");
  if (Expected<Unit> p = Persist(UpdateState::kVerify); !p.ok()) return p.error();
  return UpdateState::kVerify;
}

UpdateState UpdateEngine::DoVerify() {
  UpdateTarget& t = *record_.target;
  Expected<package::VerifiedPackage> v = package::VerifyPackageFile(DownloadedPackage(), *options_.signing_public);
  if (!v.ok()) return Refuse(v.message(), true);
  const package::Manifest& m = v->manifest;
  if (m.name != options_.model)
    return Refuse("package: for model " + m.name + "; this device runs " + options_.model, true);
  if (m.version != t.version)
    return Refuse("package: holds version " + m.version + ", not the offered " + t.version, true);
  if (!m.targets.empty()) {
    const bool match = std::any_of(m.targets.begin(), m.targets.end(), [&](const std::string& target) {
      return std::find(options_.tags.begin(), options_.tags.end(), target) != options_.tags.end();
    });
    if (!match)
      return Refuse("package: targets " + Joined(m.targets) + " name none of this device's tags " + Joined(options_.tags),
                    true);
  }
  if (!m.min_runtime.empty() && VersionCore(m.min_runtime) > VersionCore(package::RuntimeVersion()))
    return Refuse("package: needs runtime " + m.min_runtime + ", this device runs " + package::RuntimeVersion(), true);
  if (m.counter <= record_.highest_committed_counter) {
    std::string order_text = t.rollback_order;
    if (order_text.empty()) {
      if (Expected<std::string> f = io::ReadTextFile(options_.device_dir + "/rollback-order.json"); f.ok())
        order_text = *f;
    }
    std::string order_why = "no rollback order allows it";
    bool allowed = false;
    if (!order_text.empty()) {
      Expected<package::RollbackOrder> order = package::VerifyRollbackOrder(
          order_text, OrderKey(), {options_.model, options_.device_id, Now()});
      if (!order.ok()) {
        order_why = order.message();
      } else if (order->version != m.version || order->counter != m.counter) {
        order_why = "the rollback order is for version " + order->version + " (counter " +
                    std::to_string(order->counter) + ")";
      } else {
        allowed = true;
      }
    }
    if (!allowed)
      return Refuse("package: version " + m.version + " has counter " + std::to_string(m.counter) +
                        ", not above the highest committed counter " +
                        std::to_string(record_.highest_committed_counter) +
                        ": refused as a downgrade or replay (" + order_why + ")",
                    true);
  }
  t.counter = m.counter;
  t.ordered_rollback = m.counter <= record_.highest_committed_counter;
  t.latency_ms = 0;
  if (auto it = m.figures.find("latency_ms"); it != m.figures.end() && it->second.value.is_number())
    t.latency_ms = it->second.value.get<double>();
  if (Expected<Unit> p = Persist(UpdateState::kStage); !p.ok()) {
    record_.last_error = p.message();
    return record_.state;
  }
  return UpdateState::kStage;
}

UpdateState UpdateEngine::DoStage() {
  UpdateTarget& t = *record_.target;
  t.slot = active_slot_.empty() ? "a" : OtherSlot(active_slot_);
  t.previous_slot = active_slot_;
  t.previous_version = active_version_;
  const std::string slot_dir = SlotDir(t.slot);
  std::error_code ec;
  fs::remove_all(slot_dir, ec);
  fs::create_directories(slot_dir, ec);
  if (ec) return Refuse("stage: cannot create " + slot_dir + ": " + ec.message(), false);
  SyncDirectory(options_.device_dir + "/slots");
  CrashPoint("stage-slot-cleared");
  {
    Expected<io::MappedFile> pkg = io::MappedFile::Open(DownloadedPackage());
    if (!pkg.ok()) return Refuse("stage: " + pkg.message(), false);
    if (Expected<Unit> w = io::WriteFileAtomic(slot_dir + "/model.opk", pkg->bytes()); !w.ok())
      return Refuse("stage: " + w.message(), false);
  }
  CrashPoint("stage-package-written");
  const package::Key* key = nullptr;
  Expected<package::VerifiedPackage> v = package::VerifyPackageFile(slot_dir + "/model.opk", *options_.signing_public);
  if (!v.ok()) return Refuse("stage: " + v.message(), true);
  if (v->manifest.encryption) {
    key = !v->manifest.encryption->fleet_key.empty()
              ? (options_.fleet_key ? &*options_.fleet_key : nullptr)
              : (options_.device_secret ? &*options_.device_secret : nullptr);
    if (!key) return Refuse("stage: the package is encrypted and this device holds no key that opens it", true);
  }
  Expected<package::UnpackedModel> u =
      package::UnpackPackageFile(slot_dir + "/model.opk", *options_.signing_public, key, slot_dir + "/model.opm");
  if (!u.ok()) return Refuse("stage: " + u.message(), !IsNoSpace(u.message()));
  CrashPoint("stage-model-written");
  if (Expected<Unit> p = Persist(UpdateState::kSelfTest); !p.ok()) {
    record_.last_error = p.message();
    return record_.state;
  }
  return UpdateState::kSelfTest;
}

UpdateState UpdateEngine::DoSelfTest() {
  UpdateTarget& t = *record_.target;
  Expected<SelfTestResult> r = CheckModelFile(SlotDir(t.slot) + "/model.opm", options_.self_test_runs);
  if (!r.ok()) return Refuse("self-test: " + r.message(), true);
  const double budget = t.latency_ms > 0 ? t.latency_ms * options_.latency_tolerance : options_.self_test_budget_ms;
  if (r->median_ms > budget) {
    const std::string basis = t.latency_ms > 0
                                  ? "the manifest's latency_ms " + FormatMs(t.latency_ms) + " x " +
                                        FormatMs(options_.latency_tolerance)
                                  : "the absolute budget";
    return Refuse("self-test: median latency " + FormatMs(r->median_ms) + " ms over " + std::to_string(r->runs) +
                      " runs is over the budget of " + FormatMs(budget) + " ms (" + basis + ")",
                  true);
  }
  // The previous model's figures are kept before the switch: after it, and after a restart,
  // only the new model runs. An ordered rollback leaves the version the fleet judged bad: its
  // figures are no yardstick (a bad model may well be faster), so that window is held to the
  // absolute error-rate limit alone.
  if (active_outcomes_.inferences > 0 && !t.ordered_rollback) record_.baseline = active_outcomes_;
  else record_.baseline.reset();
  if (Expected<Unit> p = Persist(UpdateState::kSwitch); !p.ok()) {
    record_.last_error = p.message();
    return record_.state;
  }
  return UpdateState::kSwitch;
}

Expected<UpdateState> UpdateEngine::DoSwitch() {
  UpdateTarget& t = *record_.target;
  // After a restart the staged model is checked again before it is booted.
  if (Expected<SelfTestResult> r = CheckModelFile(SlotDir(t.slot) + "/model.opm", 1); !r.ok()) {
    if (active_slot_ == t.slot && !t.previous_slot.empty()) {
      if (Expected<Unit> w = WriteActive(t.previous_slot); !w.ok()) return Error("agent: " + w.message());
      active_slot_ = t.previous_slot;
      ReadActiveVersion();
    }
    return Refuse("switch: the staged model no longer works: " + r.message(), true);
  }
  CrashPoint("switch-before-rename");
  if (Expected<Unit> w = WriteActive(t.slot); !w.ok()) return Error("agent: cannot switch slots: " + w.message());
  CrashPoint("switch-after-rename");
  active_slot_ = t.slot;
  active_version_ = t.version;
  record_.window = OutcomeCounts{};
  record_.window_started_ms = Now();
  unpersisted_outcomes_ = 0;
  health_persisted_ms_ = record_.window_started_ms;
  if (Expected<Unit> p = Persist(UpdateState::kHealth); !p.ok()) return p.error();
  return UpdateState::kHealth;
}

UpdateState UpdateEngine::DoHealth() {
  const OutcomeCounts& w = record_.window;
  const bool complete =
      w.inferences >= options_.health_min_inferences && Now() - record_.window_started_ms >= options_.health_window_ms;
  if (!complete) {
    if (unpersisted_outcomes_ > 0) {
      unpersisted_outcomes_ = 0;
      health_persisted_ms_ = Now();
      (void)Persist(UpdateState::kHealth);
    }
    return UpdateState::kHealth;
  }
  std::string failure;
  const double allowed = record_.baseline ? record_.baseline->error_rate() + options_.health_max_error_rate_increase
                                          : options_.health_max_error_rate;
  if (w.error_rate() > allowed) {
    failure = "health: error rate " + FormatMs(w.error_rate()) + " over " + std::to_string(w.inferences) +
              " inferences is above the allowed " + FormatMs(allowed) +
              (record_.baseline ? " (previous model " + FormatMs(record_.baseline->error_rate()) + ")" : "");
  } else if (record_.baseline && record_.baseline->latency.count() > 0 && w.latency.count() > 0) {
    const double before = record_.baseline->latency.Quantile(0.99);
    const double now = w.latency.Quantile(0.99);
    if (now > before * options_.health_max_p99_ratio)
      failure = "health: p99 latency " + FormatMs(now) + " ms is above the previous model's " + FormatMs(before) +
                " ms x " + FormatMs(options_.health_max_p99_ratio);
  }
  if (!failure.empty()) record_.last_error = failure;
  const UpdateState next = failure.empty() ? UpdateState::kCommit : UpdateState::kRollback;
  if (Expected<Unit> p = Persist(next); !p.ok()) {
    record_.last_error = p.message();
    return record_.state;
  }
  return next;
}

UpdateState UpdateEngine::DoCommit() {
  const UpdateTarget t = *record_.target;
  record_.highest_committed_counter = std::max(record_.highest_committed_counter, t.counter);
  record_.committed_version = t.version;
  record_.last_error.clear();
  AddEvent("committed", t.version, "");
  CrashPoint("commit-before-cleanup");
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(options_.device_dir + "/download", ec)) fs::remove(e.path(), ec);
  fs::remove(options_.device_dir + "/rollback-order.json", ec);
  active_outcomes_ = record_.window;
  record_.target.reset();
  record_.baseline.reset();
  record_.window = OutcomeCounts{};
  if (Expected<Unit> p = Persist(UpdateState::kCheck); !p.ok()) {
    record_.last_error = p.message();
    record_.target = t;  // redone after a restart or the next step
    return record_.state;
  }
  return UpdateState::kCheck;
}

Expected<UpdateState> UpdateEngine::DoRollback() {
  const UpdateTarget t = *record_.target;
  std::string reason = record_.last_error.empty() ? "rolled back" : record_.last_error;
  if (!t.previous_slot.empty() && active_slot_ != t.previous_slot) {
    if (Expected<SelfTestResult> prev = CheckModelFile(SlotDir(t.previous_slot) + "/model.opm", 1); prev.ok()) {
      if (Expected<Unit> w = WriteActive(t.previous_slot); !w.ok())
        return Error("agent: cannot roll back: " + w.message());
      CrashPoint("rollback-after-rename");
      active_slot_ = t.previous_slot;
      ReadActiveVersion();
    } else {
      // Never leave the device without a working model: the new one stays.
      reason += "; the previous slot no longer works (" + prev.message() + "), so version " + t.version + " keeps running";
    }
  } else if (t.previous_slot.empty()) {
    reason += "; there is no previous model, so version " + t.version + " keeps running";
  }
  if (std::find(record_.failed_versions.begin(), record_.failed_versions.end(), t.version) ==
      record_.failed_versions.end())
    record_.failed_versions.push_back(t.version);
  record_.last_error = reason;
  AddEvent("rolled_back", t.version, reason);
  record_.target.reset();
  record_.baseline.reset();
  record_.window = OutcomeCounts{};
  if (Expected<Unit> p = Persist(UpdateState::kCheck); !p.ok()) return p.error();
  return UpdateState::kCheck;
}

}  // namespace outpost::agent
