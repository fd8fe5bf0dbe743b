// A fleet of enrolled devices driven through the HTTP API, for the rollout, alert and
// dashboard tests: devices poll, follow their desired state and send telemetry, on the
// fixture's controllable clock.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "tests/fleet/server/server_fixture.h"

namespace outpost::fleet::testing {

class DeviceFleetTest : public FleetServerTest {
 protected:
  // `n` devices on big_add 1.0.0 (reported by a poll), with 1.0.0 and 1.1.0 registered.
  std::vector<EnrolledDevice> Fleet(int n) {
    EXPECT_EQ(Upload(Package("1.0.0")).status, 201);
    EXPECT_EQ(Upload(Package("1.1.0"), "?parent=1.0.0").status, 201);
    std::vector<EnrolledDevice> devices;
    for (int i = 0; i < n; ++i) {
      devices.push_back(Enroll("cam-" + std::to_string(i)));
      Poll(devices.back(), "1.0.0");
    }
    return devices;
  }

  // The device reports what it runs and learns what it should run.
  nlohmann::json Poll(const EnrolledDevice& d, const std::string& version) {
    Reply r = Send("POST", "/v1/device/poll", d.credential,
                   nlohmann::json{{"model", "big_add"}, {"version", version}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json["desired"];
  }

  // Every device follows its desired state and sends one telemetry record; `errors` of 100
  // inferences fail on version 1.1.0.
  void Report(const std::vector<EnrolledDevice>& devices, int errors_on_new) {
    for (const EnrolledDevice& d : devices) {
      const nlohmann::json desired = Poll(d, running_[d.id].empty() ? "1.0.0" : running_[d.id]);
      std::string& running = running_[d.id];
      running = desired.is_null() ? (running.empty() ? "1.0.0" : running) : desired["version"].get<std::string>();
      Poll(d, running);
      const int64_t seq = ++seq_[d.id];
      const nlohmann::json record = {{"seq", seq},
                                     {"time_ms", now_ms_.load()},
                                     {"model", "big_add"},
                                     {"version", running},
                                     {"inferences", 100},
                                     {"errors", running == "1.1.0" ? errors_on_new : 0},
                                     {"latency_p50_ms", 3.0},
                                     {"latency_p99_ms", 8.0},
                                     {"temperature_c", 50.0}};
      Reply t = Send("POST", "/v1/device/telemetry", d.credential, nlohmann::json{{"records", {record}}}.dump());
      EXPECT_EQ(t.status, 200) << t.body;
    }
  }

  nlohmann::json Rollout(const std::string& id) {
    Reply r = Admin("GET", "/v1/rollouts/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json;
  }

  int DesiredOn(const std::vector<EnrolledDevice>& devices, const std::string& version) {
    int n = 0;
    for (const EnrolledDevice& d : devices) {
      const nlohmann::json desired = Admin("GET", "/v1/devices/" + d.id).json["desired"];
      n += !desired.is_null() && desired["version"] == version;
    }
    return n;
  }

  void Advance(int64_t seconds) { now_ms_ += seconds * 1000; }

  std::map<std::string, std::string> running_;
  std::map<std::string, int64_t> seq_;
};

}  // namespace outpost::fleet::testing
