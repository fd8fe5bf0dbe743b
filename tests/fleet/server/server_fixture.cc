#include "tests/fleet/server/server_fixture.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "package/pack.h"
#include "tests/fleet/store/postgres_fixture.h"
#include "tests/io/test_models.h"
#include "tests/package/package_fixtures.h"

namespace outpost::fleet::testing {

std::string BackendName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

bool MakeLoopbackCertificate(const std::string& cert_file, const std::string& key_file) {
  const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
                          "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '" + key_file +
                          "' -out '" + cert_file + "' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

void FleetServerTest::SetUp() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "_" + info->name();
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  dir_ = outpost::testing::MakeTempDir("fleet_server_" + name);
  if (GetParam() == "sqlite") {
    store_url_ = "sqlite:" + dir_ + "/fleet.db";
  } else {
    Expected<std::string> url = CreateTemporaryPostgresDatabase();
    ASSERT_TRUE(url.ok()) << url.message();
    store_url_ = *url;
  }
  ASSERT_TRUE(package::WriteKeyFile(dir_ + "/fleet.pub", keys_.public_key).ok());
  std::ofstream(dir_ + "/admin-token") << kAdminToken << "\n";

  FleetServerOptions o;
  o.data_dir = dir_ + "/data";
  o.store_url = store_url_;
  o.admin_token_file = dir_ + "/admin-token";
  o.signing_public_key_file = dir_ + "/fleet.pub";
  o.max_json_bytes = 256 * 1024;
  o.max_package_bytes = 4 << 20;
  o.threads = 4;
  o.store_connections = 4;
  o.clock = [this] { return now_ms_.load(); };
  o.tick_ms = 0;  // rollouts and alerts move only when a test calls Tick()
  Adjust(o);
  Expected<std::unique_ptr<FleetServer>> server = FleetServer::Create(o);
  ASSERT_TRUE(server.ok()) << server.message();
  server_ = std::move(*server);
  Expected<Unit> started = server_->Start();
  ASSERT_TRUE(started.ok()) << started.message();
  ASSERT_GT(server_->port(), 0);
  Expected<std::unique_ptr<FleetStore>> store = FleetStore::Open(store_url_, 2);
  ASSERT_TRUE(store.ok()) << store.message();
  store_ = std::move(*store);
  if (o.tls_cert_file.empty()) {
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }
}

void FleetServerTest::TearDown() {
  client_.reset();
  if (server_) server_->Stop();
  server_.reset();
  store_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

Reply FleetServerTest::Send(const std::string& method, const std::string& path, const std::string& token,
                            const std::string& body, const std::string& content_type, const httplib::Headers& extra) {
  return SendRequest(*client_, method, path, token, body, content_type, extra);
}

Reply FleetServerTest::Admin(const std::string& method, const std::string& path, const nlohmann::json& body) {
  return Send(method, path, kAdminToken, body.is_null() ? "" : body.dump());
}

std::string FleetServerTest::NewEnrollmentToken(const nlohmann::json& request) {
  Reply r = Admin("POST", "/v1/enrollment-tokens", request);
  EXPECT_EQ(r.status, 201) << r.body;
  return r.json.value("token", "");
}

EnrolledDevice FleetServerTest::Enroll(const std::string& name, const std::string& group) {
  const std::string token = NewEnrollmentToken({{"group", group}, {"tags", {"camera"}}});
  Reply r = Send("POST", "/v1/enroll", "", nlohmann::json{{"token", token}, {"name", name}}.dump());
  EXPECT_EQ(r.status, 201) << r.body;
  return {r.json.value("device_id", ""), r.json.value("credential", "")};
}

std::vector<uint8_t> FleetServerTest::Package(const std::string& version, const package::Key* secret,
                                              size_t model_bytes) {
  package::PackOptions o;
  o.version = version;
  o.created = "2026-01-02T03:04:05Z";
  o.accuracy = 0.91;
  Expected<std::vector<uint8_t>> p =
      package::PackModel(outpost::testing::BigAddModelOpm(model_bytes), secret ? *secret : keys_.secret, o);
  EXPECT_TRUE(p.ok()) << p.message();
  return p.ok() ? *p : std::vector<uint8_t>{};
}

Reply FleetServerTest::Upload(const std::vector<uint8_t>& package, const std::string& query) {
  return Send("POST", "/v1/models" + query, kAdminToken, std::string(package.begin(), package.end()),
              "application/octet-stream");
}

std::string FleetServerTest::StateSnapshot() {
  nlohmann::json s;
  Reply devices = Admin("GET", "/v1/devices?limit=1000");
  s["devices"] = devices.json;
  s["models"] = Admin("GET", "/v1/models").json;
  s["rollouts"] = Admin("GET", "/v1/rollouts").json;
  s["alert_rules"] = Admin("GET", "/v1/alert-rules").json;
  for (const auto& d : devices.json["devices"]) {
    const std::string id = d["id"];
    s["desired"][id] = Admin("GET", "/v1/devices/" + id).json["desired"];
    s["telemetry"][id] = store_->CountTelemetry(id).value();
  }
  s["telemetry_all"] = store_->CountTelemetry("").value();
  int files = 0;
  for (const char* sub : {"artifacts", "deltas"}) {
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_ + "/data/" + sub)) ++files;
  }
  s["files"] = files;
  return s.dump();
}

}  // namespace outpost::fleet::testing
