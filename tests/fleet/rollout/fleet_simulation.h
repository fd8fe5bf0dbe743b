// A simulated fleet over a real FleetStore: registered model versions, enrolled devices that
// follow their desired state, and telemetry whose health each test chooses per device.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fleet/store/fleet_store.h"

namespace outpost::fleet::testing {

// Simulated time: an arbitrary start (November 2023) and a minute, in milliseconds.
constexpr int64_t kT0 = 1'700'000'000'000;
constexpr int64_t kMinute = 60'000;

struct Behaviour {
  bool silent = false;  // sends no telemetry
  int64_t inferences = 100;
  int64_t errors = 0;
  double latency_p99_ms = 10;
  std::optional<double> agreement;
  std::optional<double> drift_psi;
  std::optional<double> temperature_c;
};

class SimulatedFleet {
 public:
  explicit SimulatedFleet(const std::string& url = "sqlite::memory:") {
    Expected<std::unique_ptr<FleetStore>> store = FleetStore::Open(url);
    if (!store) throw Error(store.message());
    store_ = std::move(*store);
  }
  FleetStore& store() { return *store_; }

  void AddModel(const std::string& name, const std::string& version) {
    ModelVersion m;
    m.name = name;
    m.version = version;
    m.counter = ++counter_;
    char digest[65];
    std::snprintf(digest, sizeof(digest), "%064llx", static_cast<unsigned long long>(counter_));
    m.digest = digest;
    m.size = 1000;
    m.manifest_json = "{}";
    m.figures_json = "{}";
    Check(store_->AddModelVersion(m));
  }

  // `n` devices in `group` running model@version; returns their ids.
  std::vector<std::string> AddDevices(int n, const std::string& group, const std::string& model,
                                      const std::string& version, int64_t now_ms) {
    EnrollmentToken token;
    token.token_hash = "token-" + group + "-" + std::to_string(++tokens_);
    token.group = group;
    token.uses_left = n;
    token.created_ms = now_ms;
    Check(store_->AddEnrollmentToken(token));
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      Device d;
      char id[32];
      std::snprintf(id, sizeof(id), "d-%016x", ++devices_);
      d.id = id;
      d.name = "device " + std::to_string(devices_);
      d.credential_hash = "cred-" + d.id;
      d.model = model;
      d.version = version;
      Check(store_->Enroll(token.token_hash, d, now_ms));
      ids.push_back(d.id);
    }
    return ids;
  }

  // Every device whose desired state names another version installs it and reports it.
  void FollowDesiredState(int64_t now_ms) {
    for (const Device& d : Devices()) {
      std::optional<DesiredState> want = Check(store_->GetDesiredState(d.id));
      if (want && want->model == d.model && want->version != d.version)
        Check(store_->RecordDeviceReport(d.id, d.model, want->version, "{}", now_ms));
    }
  }

  // One telemetry record per device, for the version it runs, shaped by `behaviour`.
  void Report(int64_t now_ms, const std::function<Behaviour(const Device&)>& behaviour) {
    std::vector<TelemetryRecord> batch;
    for (const Device& d : Devices()) {
      const Behaviour b = behaviour(d);
      if (b.silent) continue;
      TelemetryRecord r;
      r.device_id = d.id;
      r.seq = ++seq_[d.id];
      r.time_ms = now_ms;
      r.model = d.model;
      r.version = d.version;
      r.inferences = b.inferences;
      r.errors = b.errors;
      r.latency_p50_ms = b.latency_p99_ms / 2;
      r.latency_p99_ms = b.latency_p99_ms;
      r.agreement = b.agreement;
      r.drift_psi = b.drift_psi;
      r.temperature_c = b.temperature_c;
      batch.push_back(r);
    }
    Check(store_->InsertTelemetry(batch));
  }

  std::vector<Device> Devices() {
    DeviceFilter f;
    f.limit = 100000;
    return Check(store_->ListDevices(f));
  }

  // Desired versions of `ids` (or "" where none).
  std::map<std::string, std::string> Desired(const std::vector<std::string>& ids) {
    std::map<std::string, std::string> out;
    for (const std::string& id : ids) {
      std::optional<DesiredState> s = Check(store_->GetDesiredState(id));
      out[id] = s ? s->version : "";
    }
    return out;
  }

  template <typename T>
  static T Check(Expected<T> e) {
    if (!e) throw Error(e.message());
    return std::move(*e);
  }

 private:
  std::unique_ptr<FleetStore> store_;
  int64_t counter_ = 0;
  int tokens_ = 0;
  unsigned devices_ = 0;
  std::map<std::string, int64_t> seq_;
};

}  // namespace outpost::fleet::testing
