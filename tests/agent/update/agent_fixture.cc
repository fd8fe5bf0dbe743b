#include "tests/agent/update/agent_fixture.h"

#include "package/pack.h"
#include "tests/io/test_models.h"

namespace outpost::agent::testing {

std::vector<uint8_t> DetectorPackage(const PackageSpec& spec, const package::Key& signing_secret) {
  outpost::testing::TinyModelOptions m;
  m.wrong_golden_output = spec.failing_self_test;
  package::PackOptions o;
  o.name = spec.name;
  o.version = spec.version;
  o.created = "2026-01-02T03:04:05Z";
  o.latency_ms = spec.latency_ms;
  o.targets = spec.targets;
  o.devices = spec.sealed_to;
  Expected<std::vector<uint8_t>> p = package::PackModel(outpost::testing::TinyClassifierOpm(m), signing_secret, o);
  EXPECT_TRUE(p.ok()) << p.message();
  return p.ok() ? *p : std::vector<uint8_t>{};
}

void AgentTest::SetUp() {
  FleetServerTest::SetUp();
  if (HasFatalFailure()) return;
  if (!client_) {  // HTTPS: the fixture's admin client trusts the server's certificate
    client_ = std::make_unique<httplib::Client>(server_->url());
    client_->set_ca_cert_path(ca_file_.c_str());
    client_->enable_server_certificate_verification(true);
  }
  device_ = Enroll("cam-1");
  device_dir_ = dir_ + "/device";
  FleetClientOptions o;
  o.server_url = server_->url();
  o.credential = device_.credential;
  o.ca_file = ca_file_;
  Expected<std::unique_ptr<FleetClient>> c = FleetClient::Create(o);
  ASSERT_TRUE(c.ok()) << c.message();
  client_agent_ = std::move(*c);
}

void AgentTest::TearDown() {
  engine_.reset();
  client_agent_.reset();
  FleetServerTest::TearDown();
}

nlohmann::json AgentTest::Register(const PackageSpec& spec) {
  fleet::testing::Reply r = Upload(DetectorPackage(spec, keys_.secret));
  EXPECT_EQ(r.status, 201) << r.body;
  return r.json;
}

void AgentTest::SetDesired(const std::string& version, const std::string& device_id) {
  fleet::testing::Reply r = Admin("PUT", "/v1/devices/" + (device_id.empty() ? device_.id : device_id) + "/desired",
                                  {{"model", kModelName}, {"version", version}});
  ASSERT_EQ(r.status, 200) << r.body;
}

UpdateEngineOptions AgentTest::Options(const std::string& device_dir) {
  UpdateEngineOptions o;
  o.device_dir = device_dir;
  o.device_id = device_.id;
  o.model = kModelName;
  o.tags = {"camera"};
  o.signing_public = trusted_key_ ? *trusted_key_ : keys_.public_key;
  o.use_deltas = use_deltas_;
  o.device_secret = device_secret_;
  o.rollback_public = rollback_public_;
  o.self_test_runs = 3;
  o.health_window_ms = 1000;
  o.health_min_inferences = 10;
  o.clock = [this] { return now_ms_.load(); };
  return o;
}

BootReport AgentTest::Restart() {
  engine_.reset();
  Expected<std::unique_ptr<UpdateEngine>> e = UpdateEngine::Open(Options(device_dir_), client_agent_.get());
  EXPECT_TRUE(e.ok()) << e.message();
  if (!e.ok()) return {};
  engine_ = std::move(*e);
  Expected<BootReport> boot = engine_->Boot();
  EXPECT_TRUE(boot.ok()) << boot.message();
  return boot.ok() ? *boot : BootReport{};
}

UpdateState AgentTest::Update(bool failing, uint64_t inferences) {
  Expected<UpdateState> s = engine_->RunUntilSettled();
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok() || *s != UpdateState::kHealth) return s.ok() ? *s : engine_->state();
  for (uint64_t i = 0; i < inferences; ++i) engine_->RecordInference(!failing, 0.5);
  now_ms_ += 1000;
  s = engine_->RunUntilSettled();
  EXPECT_TRUE(s.ok()) << s.message();
  return s.ok() ? *s : engine_->state();
}

void AgentTest::Install(const std::string& version) {
  Register({version});
  SetDesired(version);
  if (!engine_) Restart();
  EXPECT_EQ(Update(), UpdateState::kCheck);
  EXPECT_EQ(engine_->active_version(), version) << engine_->record().last_error;
}

}  // namespace outpost::agent::testing
