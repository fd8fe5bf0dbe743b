// HTTPS: the server with a self-signed certificate made by the openssl command at test time;
// a client that trusts that certificate talks to it, one that trusts nothing is refused.
#include <cstdlib>

#include "tests/fleet/server/server_fixture.h"

namespace outpost::fleet::testing {
namespace {

class TlsTest : public FleetServerTest {
 protected:
  void Adjust(FleetServerOptions& o) override {
    cert_ = dir_ + "/cert.pem";
    const std::string key = dir_ + "/key.pem";
    ASSERT_TRUE(MakeLoopbackCertificate(cert_, key));
    o.tls_cert_file = cert_;
    o.tls_key_file = key;
  }
  std::string cert_;
};

TEST_P(TlsTest, ClientsTalkHttpsWithTheServersCertificate) {
  ASSERT_NE(server_, nullptr);
  EXPECT_EQ(server_->url().rfind("https://127.0.0.1:", 0), 0u) << server_->url();
  httplib::SSLClient client("127.0.0.1", server_->port());
  client.set_ca_cert_path(cert_.c_str());
  client.enable_server_certificate_verification(true);
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);

  auto token = client.Post("/v1/enrollment-tokens", {{"Authorization", std::string("Bearer ") + kAdminToken}},
                           R"({"group":"line-1"})", "application/json");
  ASSERT_TRUE(token);
  ASSERT_EQ(token->status, 201) << token->body;
  auto enrolled = client.Post("/v1/enroll", nlohmann::json{{"token", nlohmann::json::parse(token->body)["token"]},
                                                           {"name", "tls-cam"}}.dump(), "application/json");
  ASSERT_TRUE(enrolled);
  EXPECT_EQ(enrolled->status, 201) << enrolled->body;

  // Plain HTTP to the TLS port gets no answer.
  httplib::Client plain("127.0.0.1", server_->port());
  plain.set_read_timeout(2, 0);
  auto refused = plain.Get("/healthz");
  EXPECT_TRUE(!refused || refused->status != 200);
}

INSTANTIATE_TEST_SUITE_P(Databases, TlsTest, ::testing::Values("sqlite"), BackendName);

}  // namespace
}  // namespace outpost::fleet::testing
