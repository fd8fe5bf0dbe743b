// A fleet server in-process on 127.0.0.1 port 0, over SQLite (a file in a fresh temp dir) or a
// fresh PostgreSQL database, with a controllable clock, the test signing pair and an httplib
// client; helpers for the requests every test makes.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fleet/server/fleet_server.h"
#include "fleet/store/fleet_store.h"
#include "package/keys.h"
#include "tests/package/package_fixtures.h"

namespace outpost::fleet::testing {

struct Reply {
  int status = 0;          // 0: no response
  std::string body;
  nlohmann::json json;     // parsed body (null when not JSON)
  httplib::Headers headers;
};

struct EnrolledDevice {
  std::string id, credential;
};

// One request through `client`; status 0 when no response came.
Reply SendRequest(httplib::Client& client, const std::string& method, const std::string& path,
                  const std::string& token, const std::string& body = "",
                  const std::string& content_type = "application/json", const httplib::Headers& extra = {});

// A self-signed certificate for 127.0.0.1 (openssl, at test time): true when both files were made.
bool MakeLoopbackCertificate(const std::string& cert_file, const std::string& key_file);

inline constexpr char kAdminToken[] = "admin-0123456789abcdef0123456789";

class FleetServerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Extra options before the server starts (TLS tests).
  virtual void Adjust(FleetServerOptions&) {}

  Reply Send(const std::string& method, const std::string& path, const std::string& token,
             const std::string& body = "", const std::string& content_type = "application/json",
             const httplib::Headers& extra = {});
  Reply Admin(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr);

  std::string NewEnrollmentToken(const nlohmann::json& request = {{"group", "line-1"}, {"tags", {"camera"}}});
  EnrolledDevice Enroll(const std::string& name = "cam-17", const std::string& group = "line-1");

  // A signed package of a small model (the test signing key unless another is given).
  std::vector<uint8_t> Package(const std::string& version, const package::Key* secret = nullptr,
                               size_t model_bytes = 4096);
  Reply Upload(const std::vector<uint8_t>& package, const std::string& query = "");

  // Everything a refused request must leave alone, as one comparable string.
  std::string StateSnapshot();

  std::string dir_;
  std::string store_url_;
  package::KeyPair keys_ = outpost::testing::TestSigningPair();
  std::atomic<int64_t> now_ms_{1'800'000'000'000};
  std::unique_ptr<FleetServer> server_;
  std::unique_ptr<FleetStore> store_;  // a second connection, for checks
  std::unique_ptr<httplib::Client> client_;
};

std::string BackendName(const ::testing::TestParamInfo<std::string>& info);

#define FLEET_SERVER_SUITE(Suite) \
  INSTANTIATE_TEST_SUITE_P(Databases, Suite, ::testing::Values("sqlite", "postgresql"), BackendName)

}  // namespace outpost::fleet::testing
