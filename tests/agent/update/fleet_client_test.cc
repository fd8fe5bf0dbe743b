// The device's fleet client: enrollment, polls, telemetry against the real server (HTTP and
// HTTPS), and downloads that survive a connection dropped mid-file.
#include <cstdlib>
#include <filesystem>

#include "tests/agent/update/agent_fixture.h"
#include "tests/io/test_models.h"
#include "tests/support/loopback_http_server.h"

namespace outpost::agent::testing {
namespace {

namespace fs = std::filesystem;

class FleetClientTest : public AgentTest {};

TEST_P(FleetClientTest, EnrollsPollsAndPostsTelemetryExactlyOnce) {
  FleetClientOptions o;
  o.server_url = server_->url();
  std::unique_ptr<FleetClient> client = FleetClient::Create(o).value();
  Expected<Enrollment> e = client->Enroll(NewEnrollmentToken(), "cam-2");
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_EQ(e->device_id.rfind("d-", 0), 0u);
  EXPECT_EQ(e->tags, std::vector<std::string>{"camera"});
  Expected<Enrollment> again = client->Enroll("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "x");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.message().rfind("fleet: /v1/enroll answered 401: ", 0), 0u) << again.message();

  client->set_credential(e->credential);
  Expected<std::optional<DesiredModel>> none = client->Poll("", "");
  ASSERT_TRUE(none.ok()) << none.message();
  EXPECT_FALSE(none->has_value());

  const nlohmann::json v1 = Register("1.0.0");
  Register("1.1.0");
  SetDesired("1.1.0", e->device_id);
  Expected<std::optional<DesiredModel>> d = client->Poll(kModelName, "1.0.0", {{"uptime_s", 5}});
  ASSERT_TRUE(d.ok()) << d.message();
  ASSERT_TRUE(d->has_value());
  EXPECT_EQ((*d)->version, "1.1.0");
  ASSERT_TRUE((*d)->delta.has_value());  // the device reported a registered version
  EXPECT_EQ((*d)->delta->base_version, "1.0.0");

  const nlohmann::json records = {{{"seq", 1}, {"time_ms", now_ms_.load()}, {"model", kModelName}, {"version", "1.0.0"}},
                                  {{"seq", 2}, {"time_ms", now_ms_.load()}, {"model", kModelName}, {"version", "1.0.0"}}};
  Expected<TelemetryAck> ack = client->PostTelemetry(records);
  ASSERT_TRUE(ack.ok()) << ack.message();
  EXPECT_EQ(ack->inserted, 2);
  ack = client->PostTelemetry(records);  // a retried batch
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->inserted, 0);
  EXPECT_EQ(ack->duplicates, 2);

  // A wrong credential is the server's refusal, in its words.
  client->set_credential("nope");
  Expected<std::optional<DesiredModel>> refused = client->Poll("", "");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.message().rfind("fleet: /v1/device/poll answered 401", 0), 0u) << refused.message();
}

TEST_P(FleetClientTest, DownloadsAPackageAndChecksItsDigest) {
  const nlohmann::json v1 = Register("1.0.0");
  const std::string part = dir_ + "/p.part";
  Expected<Unit> got = client_agent_->Download(v1["url"], part, v1["size"], v1["digest"]);
  ASSERT_TRUE(got.ok()) << got.message();
  EXPECT_EQ(FileDigest(part).value(), v1["digest"].get<std::string>());
  EXPECT_EQ(fs::status(part).permissions() & fs::perms::others_read, fs::perms::none);
  // A digest that does not match: refused, the file removed.
  fs::remove(part);
  got = client_agent_->Download(v1["url"], part, v1["size"], std::string(64, '0'));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind(), ErrorKind::kRefused);
  EXPECT_NE(got.message().find("is not the expected 0000"), std::string::npos) << got.message();
  EXPECT_FALSE(fs::exists(part));
  // More bytes than announced: refused as soon as they arrive.
  got = client_agent_->Download(v1["url"], part, v1["size"].get<uint64_t>() - 1, v1["digest"]);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.message().find("the server sent more than the expected"), std::string::npos) << got.message();
  EXPECT_FALSE(fs::exists(part));
}

TEST_P(FleetClientTest, UnreachableServerSaysSo) {
  FleetClientOptions o;
  o.server_url = "http://127.0.0.1:1";
  std::unique_ptr<FleetClient> client = FleetClient::Create(o).value();
  EXPECT_EQ(client->Poll("", "").message(), "fleet: cannot reach http://127.0.0.1:1: connection refused");
  o.server_url = "ftp://x";
  EXPECT_FALSE(FleetClient::Create(o).ok());
  o.server_url = "https://127.0.0.1:1";
  EXPECT_EQ(FleetClient::Create(o).message(),
            "fleet: an https server URL needs a CA file to verify the server certificate");
}

INSTANTIATE_TEST_SUITE_P(Databases, FleetClientTest, ::testing::Values("sqlite"), fleet::testing::BackendName);

// HTTPS: the server's self-signed certificate is the client's CA file; another CA is refused.
class FleetClientTlsTest : public AgentTest {
 protected:
  void Adjust(fleet::FleetServerOptions& o) override {
    cert_ = dir_ + "/cert.pem";
    const std::string key = dir_ + "/key.pem";
    ASSERT_TRUE(fleet::testing::MakeLoopbackCertificate(cert_, key));
    ASSERT_TRUE(fleet::testing::MakeLoopbackCertificate(dir_ + "/other.pem", dir_ + "/other.key"));
    o.tls_cert_file = cert_;
    o.tls_key_file = key;
    ca_file_ = cert_;
  }
  std::string cert_;
};

TEST_P(FleetClientTlsTest, TalksHttpsOnlyToACertifiedServer) {
  FleetClientOptions o;
  o.server_url = server_->url();
  o.ca_file = cert_;
  std::unique_ptr<FleetClient> client = FleetClient::Create(o).value();
  Expected<Enrollment> e = client->Enroll(NewEnrollmentToken(), "tls-cam");
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_EQ(server_->url().rfind("https://", 0), 0u);

  o.ca_file = dir_ + "/other.pem";
  std::unique_ptr<FleetClient> wrong = FleetClient::Create(o).value();
  Expected<std::optional<DesiredModel>> r = wrong->Poll("", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message().rfind("fleet: cannot reach " + server_->url() + ": ", 0), 0u) << r.message();
  EXPECT_NE(r.message().find("certificate"), std::string::npos) << r.message();
}

INSTANTIATE_TEST_SUITE_P(Databases, FleetClientTlsTest, ::testing::Values("sqlite"), fleet::testing::BackendName);

// A server that drops the connection after part of the file, then serves ranges correctly.
TEST(FleetClientDownload, ResumesAfterADroppedConnection) {
  std::vector<uint8_t> file(300'000);
  for (size_t i = 0; i < file.size(); ++i) file[i] = static_cast<uint8_t>(i * 7 + i / 1000);
  const std::string path = outpost::testing::MakeTempDir("agent_client_resume") + "/f.part";
  outpost::testing::WriteBytes(path + ".src", file);
  const std::string digest = FileDigest(path + ".src").value();
  std::atomic<int> requests{0};
  std::vector<std::string> ranges;
  std::mutex mu;
  outpost::testing::LoopbackHttpServer server;
  server.server().Get("/f", [&](const httplib::Request& req, httplib::Response& res) {
    const int n = requests++;
    {
      std::lock_guard<std::mutex> lock(mu);
      ranges.push_back(req.get_header_value("Range"));
    }
    // httplib answers the Range itself (206 and the slice) from the whole file's provider.
    res.set_content_provider(file.size(), "application/octet-stream",
                             [&, n](size_t offset, size_t length, httplib::DataSink& sink) {
                               // The first answer stops after 100 kB: the link drops.
                               if (n == 0 && offset >= 100'000) return false;
                               const size_t chunk = std::min<size_t>(length, 16'384);
                               sink.write(reinterpret_cast<const char*>(file.data() + offset), chunk);
                               return true;
                             });
  });
  server.Start();
  FleetClientOptions o;
  o.server_url = "http://127.0.0.1:" + std::to_string(server.port());
  o.read_timeout_ms = 2000;
  std::unique_ptr<FleetClient> client = FleetClient::Create(o).value();
  Expected<Unit> first = client->Download("/f", path, file.size(), digest);
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.message().find("it resumes from there"), std::string::npos) << first.message();
  const uint64_t kept = fs::file_size(path);
  EXPECT_GE(kept, 100'000u);
  EXPECT_LT(kept, file.size());
  Expected<Unit> second = client->Download("/f", path, file.size(), digest);
  ASSERT_TRUE(second.ok()) << second.message();
  EXPECT_EQ(outpost::testing::ReadBytes(path), file);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "");
  EXPECT_EQ(ranges[1], "bytes=" + std::to_string(kept) + "-");
  server.Stop();
}

}  // namespace
}  // namespace outpost::agent::testing
