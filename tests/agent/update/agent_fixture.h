// The agent tests' world: a real fleet server in-process (tests/fleet/server/server_fixture.h,
// SQLite), packages of a tiny classifier with an embedded self-test (good ones, one whose
// self-test fails, one too slow for its manifest's latency budget), and a device directory
// with its fleet client and update engine.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/client/fleet_client.h"
#include "agent/update/update_engine.h"
#include "tests/fleet/server/server_fixture.h"

namespace outpost::agent::testing {

inline constexpr char kModelName[] = "detector";

struct PackageSpec {
  std::string version;
  bool failing_self_test = false;
  std::optional<double> latency_ms = std::nullopt;  // the manifest figure (tiny: the self-test is "too slow")
  std::vector<std::string> targets = {};
  std::string name = kModelName;
  std::vector<package::Key> sealed_to = {};  // device public keys: an encrypted package
};

std::vector<uint8_t> DetectorPackage(const PackageSpec& spec, const package::Key& signing_secret);

class AgentTest : public fleet::testing::FleetServerTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Uploads a package (201 expected) and answers its registry entry.
  nlohmann::json Register(const PackageSpec& spec);
  nlohmann::json Register(const std::string& version) { return Register(PackageSpec{.version = version}); }
  void SetDesired(const std::string& version, const std::string& device_id = "");
  UpdateEngineOptions Options(const std::string& device_dir);
  // Opens (or reopens, as after a restart) the engine on device_dir_ and boots it.
  BootReport Restart();
  // Runs until the machine rests; feeds the health window `inferences` outcomes (errors when
  // `failing`) and moves the clock past it.
  UpdateState Update(bool failing = false, uint64_t inferences = 10);
  // Installs a first version from scratch.
  void Install(const std::string& version);

  fleet::testing::EnrolledDevice device_;
  std::string device_dir_;
  std::unique_ptr<FleetClient> client_agent_;
  std::unique_ptr<UpdateEngine> engine_;
  std::optional<package::Key> trusted_key_;
  bool use_deltas_ = true;
  std::optional<package::Key> device_secret_;  // opens packages sealed to the device
  std::string ca_file_;  // set by HTTPS tests (in Adjust) to the server's certificate
  std::optional<package::Key> rollback_public_;  // what rollback orders verify with (default: the fleet key)
};

}  // namespace outpost::agent::testing
