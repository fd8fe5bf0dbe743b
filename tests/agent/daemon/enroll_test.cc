// Enrollment against a real in-process fleet server: the device's key pair and credential are
// secrets created 0600, agent.json describes the device, the server knows it; a second
// enrollment, a bad token and a credential others may read are refused.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "agent/client/fleet_client.h"
#include "agent/daemon/agent_daemon.h"
#include "package/codec.h"
#include "package/keys.h"
#include "tests/fleet/server/server_fixture.h"
#include "tests/io/test_models.h"

namespace outpost::agent {
namespace {

int FileMode(const std::string& path) {
  struct stat st = {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 0777);
}

class AgentEnrollTest : public fleet::testing::FleetServerTest {
 protected:
  void SetUp() override {
    FleetServerTest::SetUp();
    if (HasFatalFailure()) return;
    keys_dir_ = dir_ + "/keys";
    std::filesystem::create_directories(keys_dir_);
    ASSERT_TRUE(package::WriteKeyFile(keys_dir_ + "/fleet.pub", keys_.public_key).ok());
    pipeline_ = keys_dir_ + "/pipeline.json";
    std::ofstream(pipeline_) << R"({"source": {"type": "sensor", "path": "rows.csv"}, "model": "model.opm",
                                    "postprocess": {"type": "classification"}})";
  }

  EnrollOptions Options(const std::string& token) {
    EnrollOptions o;
    o.dir = dir_ + "/device";
    o.server = server_->url();
    o.token = token;
    o.model = "detector";
    o.signing_key = keys_dir_ + "/fleet.pub";
    o.name = "cam-enroll";
    o.pipeline = pipeline_;
    return o;
  }

  std::string keys_dir_, pipeline_;
};

TEST_P(AgentEnrollTest, WritesSecretsAndConfig) {
  Expected<AgentConfig> c = EnrollDevice(Options(NewEnrollmentToken()));
  ASSERT_TRUE(c.ok()) << c.message();
  const std::string d = dir_ + "/device";
  EXPECT_EQ(FileMode(d + "/device.key"), 0600);
  EXPECT_EQ(FileMode(d + "/credential"), 0600);
  EXPECT_EQ(FileMode(d + "/device.pub"), 0644);
  EXPECT_EQ(FileMode(d + "/fleet.pub"), 0644);
  EXPECT_TRUE(package::ReadKeyFile(d + "/device.key", {package::KeyType::kDeviceSecret}).ok());
  // No temporary files are left behind.
  for (const auto& entry : std::filesystem::directory_iterator(d))
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << entry.path();

  // agent.json reads back as what enroll answered, with the token's tags.
  Expected<AgentConfig> loaded = LoadAgentConfig(d);
  ASSERT_TRUE(loaded.ok()) << loaded.message();
  EXPECT_EQ(loaded->device_id, c->device_id);
  EXPECT_EQ(loaded->server, server_->url());
  EXPECT_EQ(loaded->model, "detector");
  EXPECT_EQ(loaded->name, "cam-enroll");
  EXPECT_EQ(loaded->tags, (std::vector<std::string>{"camera"}));
  EXPECT_EQ(loaded->credential_file, d + "/credential");
  EXPECT_EQ(loaded->pipeline, pipeline_);

  // The credential is the device's: the server answers its poll.
  std::ifstream in(d + "/credential");
  std::string credential;
  std::getline(in, credential);
  fleet::testing::Reply poll = Send("POST", "/v1/device/poll", credential, "{}");
  EXPECT_EQ(poll.status, 200) << poll.body;
  Expected<std::vector<fleet::Device>> devices = store_->ListDevices({});
  ASSERT_TRUE(devices.ok());
  ASSERT_EQ(devices->size(), 1u);
  EXPECT_EQ(devices->front().id, c->device_id);
  EXPECT_EQ(devices->front().name, "cam-enroll");
  // The server holds device.pub's key and answers it, so that packages can be sealed to it.
  Expected<package::Key> pub = package::ReadKeyFile(d + "/device.pub", {package::KeyType::kDevicePublic});
  ASSERT_TRUE(pub.ok()) << pub.message();
  EXPECT_EQ(devices->front().public_key, package::ToBase64(pub->bytes()));
  fleet::testing::Reply got = Admin("GET", "/v1/devices/" + c->device_id);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json["public_key"], package::ToBase64(pub->bytes()));

  // Enrolled once: a second enrollment of the directory is refused and changes nothing.
  Expected<AgentConfig> again = EnrollDevice(Options(NewEnrollmentToken()));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.message().find("already enrolled"), std::string::npos) << again.message();
  EXPECT_EQ(store_->ListDevices({})->size(), 1u);
}

TEST_P(AgentEnrollTest, RefusesABadTokenAndWritesNoCredential) {
  Expected<AgentConfig> c = EnrollDevice(Options("0123456789abcdef0123456789abcdef"));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.message().find("401"), std::string::npos) << c.message();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/device/credential"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/device/agent.json"));
  // The key pair stays for the next attempt, which then succeeds with it.
  Expected<package::Key> key = package::ReadKeyFile(dir_ + "/device/device.key", {package::KeyType::kDeviceSecret});
  ASSERT_TRUE(key.ok()) << key.message();
  Expected<AgentConfig> again = EnrollDevice(Options(NewEnrollmentToken()));
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(package::ReadKeyFile(dir_ + "/device/device.key", {package::KeyType::kDeviceSecret})->id(), key->id());
  // The key sent is the kept pair's public half.
  Expected<std::optional<fleet::Device>> stored = store_->FindDevice(again->device_id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(stored->value().public_key, package::ToBase64(package::DevicePublicKeyOf(*key).bytes()));
}

TEST_P(AgentEnrollTest, RefusesMissingInputsBeforeEnrolling) {
  EnrollOptions o = Options(NewEnrollmentToken());
  o.signing_key = keys_dir_ + "/missing.pub";
  Expected<AgentConfig> c = EnrollDevice(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.message().find("missing.pub"), std::string::npos) << c.message();
  o = Options(NewEnrollmentToken());
  o.pipeline = keys_dir_ + "/none.json";
  c = EnrollDevice(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.message().find("none.json"), std::string::npos) << c.message();
  EXPECT_TRUE(store_->ListDevices({})->empty());
}

TEST_P(AgentEnrollTest, RunRefusesACredentialOthersMayRead) {
  Expected<AgentConfig> c = EnrollDevice(Options(NewEnrollmentToken()));
  ASSERT_TRUE(c.ok()) << c.message();
  ASSERT_EQ(::chmod(c->credential_file.c_str(), 0644), 0);
  Expected<AgentRunSummary> run = RunAgent(*c, AgentRunOptions{.max_seconds = 1, .log = [](const std::string&) {}});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.message(), c->credential_file +
                               ": the credential may be read by the group or others (mode 644); it must be 0600");
}

// The uploader isolates a record the server refuses only when the refusal says so: 400 and 413
// are kRefused, an unknown credential (401) is a failure worth retrying.
TEST_P(AgentEnrollTest, TelemetryRefusalsAreTold) {
  Expected<AgentConfig> c = EnrollDevice(Options(NewEnrollmentToken()));
  ASSERT_TRUE(c.ok()) << c.message();
  std::ifstream in(c->credential_file);
  std::string credential;
  std::getline(in, credential);
  Expected<std::unique_ptr<FleetClient>> client = FleetClient::Create({.server_url = server_->url(), .ca_file = "", .credential = credential});
  ASSERT_TRUE(client.ok()) << client.message();
  const nlohmann::json good = {{"seq", 1}, {"time_ms", 5}, {"model", "detector"}, {"version", "1.0.0"}};
  Expected<TelemetryAck> stored = (*client)->PostTelemetry(nlohmann::json::array({good}));
  ASSERT_TRUE(stored.ok()) << stored.message();
  EXPECT_EQ(stored->inserted, 1);

  nlohmann::json bad = good;
  bad["seq"] = 2;
  bad["events"] = {""};
  Expected<TelemetryAck> refused = (*client)->PostTelemetry(nlohmann::json::array({bad}));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind(), ErrorKind::kRefused) << refused.message();
  EXPECT_NE(refused.message().find("answered 400"), std::string::npos) << refused.message();

  (*client)->set_credential("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  Expected<TelemetryAck> unauthorized = (*client)->PostTelemetry(nlohmann::json::array({good}));
  ASSERT_FALSE(unauthorized.ok());
  EXPECT_NE(unauthorized.error().kind(), ErrorKind::kRefused) << unauthorized.message();
}

INSTANTIATE_TEST_SUITE_P(Databases, AgentEnrollTest, ::testing::Values("sqlite"), fleet::testing::BackendName);

}  // namespace
}  // namespace outpost::agent
