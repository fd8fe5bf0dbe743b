// `outpost fleet serve` as an operator runs it: the built binary on a data directory (SQLite),
// driven over HTTP through a device's whole life (enrollment, a signed upload and a refused
// one, desired state, poll, download, telemetry), stopped with SIGTERM (exit 0) and started
// again on the same directory with everything still there; a download running at SIGTERM is
// sent whole. Then every way its command line can be wrong: one clear error line and a
// non-zero exit, never a server left running.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tests/cli/cli_expect.h"
#include "tests/fleet/server/serve_process.h"
#include "tests/io/test_models.h"
#include "tests/package/package_fixtures.h"
#include "tests/support/free_port.h"

namespace outpost::fleet::testing {
namespace {

using outpost::testing::ExpectError;

class ServeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = outpost::testing::MakeTempDir(std::string("fleet_serve_cli_") +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    WriteServerFiles(dir_, keys_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // The required options and a loopback port, with `changes` (option, value, ...) replacing
  // the option's value or added.
  std::vector<std::string> Args(const std::vector<std::string>& changes = {}) const {
    std::vector<std::string> args = {"--data", dir_ + "/data", "--admin-token-file", dir_ + "/admin-token",
                                     "--signing-key", dir_ + "/fleet.pub", "--listen", "127.0.0.1:0", "--threads", "4"};
    for (size_t i = 0; i + 1 < changes.size(); i += 2) {
      auto found = std::find(args.begin(), args.end(), changes[i]);
      if (found != args.end()) {
        *(found + 1) = changes[i + 1];
      } else {
        args.insert(args.end(), {changes[i], changes[i + 1]});
      }
    }
    return args;
  }

  // A run that must fail at start-up.
  outpost::testing::CliResult Fail(const std::vector<std::string>& args) {
    ServeProcess p;
    p.Spawn(args);
    return p.Finish(std::chrono::seconds(20));
  }

  std::string dir_;
  package::KeyPair keys_ = outpost::testing::TestSigningPair();
};

std::string Text(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

TEST_F(ServeCliTest, ServesADeviceStopsOnSigtermAndKeepsItsStateAcrossARestart) {
  ServeProcess server;
  server.Spawn(Args());
  ASSERT_TRUE(server.WaitUntilListening()) << server.error();
  EXPECT_EQ(server.Send("GET", "/healthz", "").status, 200);

  // Enrollment.
  Reply token = server.Admin("POST", "/v1/enrollment-tokens", {{"group", "line-1"}, {"tags", {"camera"}}});
  ASSERT_EQ(token.status, 201) << token.body;
  Reply enrolled = server.Send("POST", "/v1/enroll", "", nlohmann::json{{"token", token.json["token"]}, {"name", "cam-1"}}.dump());
  ASSERT_EQ(enrolled.status, 201) << enrolled.body;
  const std::string device = enrolled.json["device_id"], credential = enrolled.json["credential"];

  // Uploads: the fleet key's packages are registered, another key's is refused and leaves nothing.
  const std::vector<uint8_t> v1 = SignedPackage("1.0.0", keys_.secret), v2 = SignedPackage("1.1.0", keys_.secret, 8192);
  Reply up1 = server.Send("POST", "/v1/models", kAdminToken, Text(v1), "application/octet-stream");
  ASSERT_EQ(up1.status, 201) << up1.body;
  const package::KeyPair stranger = outpost::testing::TestSigningPair(9);
  Reply refused = server.Send("POST", "/v1/models", kAdminToken, Text(SignedPackage("1.1.0", stranger.secret)),
                              "application/octet-stream");
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.json.value("error", "").find("signature"), std::string::npos) << refused.body;
  EXPECT_EQ(server.Admin("GET", "/v1/models").json["models"].size(), 1u);
  Reply up2 = server.Send("POST", "/v1/models?parent=1.0.0", kAdminToken, Text(v2), "application/octet-stream");
  ASSERT_EQ(up2.status, 201) << up2.body;

  // Desired state, the device's poll and its download (whole, then resumed by a range).
  Reply first_poll = server.Send("POST", "/v1/device/poll", credential, R"({"model":"big_add","version":"1.0.0"})");
  ASSERT_EQ(first_poll.status, 200) << first_poll.body;
  EXPECT_TRUE(first_poll.json["desired"].is_null()) << first_poll.body;
  Reply desired = server.Admin("PUT", "/v1/devices/" + device + "/desired", {{"model", "big_add"}, {"version", "1.1.0"}});
  ASSERT_EQ(desired.status, 200) << desired.body;
  Reply offer = server.Send("POST", "/v1/device/poll", credential, R"({"model":"big_add","version":"1.0.0"})");
  ASSERT_EQ(offer.status, 200) << offer.body;
  ASSERT_TRUE(offer.json["desired"].is_object()) << offer.body;
  EXPECT_EQ(offer.json["desired"]["version"], "1.1.0");
  EXPECT_EQ(offer.json["desired"]["digest"], up2.json["digest"]);
  const std::string url = offer.json["desired"]["url"];
  Reply whole = server.Send("GET", url, credential);
  ASSERT_EQ(whole.status, 200);
  EXPECT_TRUE(whole.body == Text(v2));
  Reply rest = server.Send("GET", url, credential, "", "", {{"Range", "bytes=1000-"}});
  ASSERT_EQ(rest.status, 206);
  EXPECT_TRUE(rest.body == Text(v2).substr(1000));

  // Telemetry, and a retry that stores nothing twice.
  nlohmann::json batch = {{"records", nlohmann::json::array()}};
  for (int seq = 1; seq <= 3; ++seq) batch["records"].push_back(TelemetryJson(seq, WallClockMs(), "1.1.0"));
  Reply sent = server.Send("POST", "/v1/device/telemetry", credential, batch.dump());
  ASSERT_EQ(sent.status, 200) << sent.body;
  EXPECT_EQ(sent.json["inserted"], 3);
  Reply again = server.Send("POST", "/v1/device/telemetry", credential, batch.dump());
  EXPECT_EQ(again.json["duplicates"], 3) << again.body;

  // SIGTERM: a clean stop, exit 0, nothing but the stop notice on stderr.
  server.Signal(SIGTERM);
  ASSERT_TRUE(server.WaitForExit()) << "the server did not stop on SIGTERM; stderr:\n" << server.stderr_text();
  EXPECT_EQ(server.exit_signal(), 0);
  EXPECT_EQ(server.exit_code(), 0) << server.stderr_text();
  EXPECT_EQ(server.stderr_text(), "outpost: stopping the fleet server (signal 15)\n");
  EXPECT_EQ(server.Send("GET", "/healthz", "").status, 0) << "still answering after it exited";

  // The same data directory again: devices, registry, desired state, telemetry all there.
  ServeProcess restarted;
  restarted.Spawn(Args());
  ASSERT_TRUE(restarted.WaitUntilListening()) << restarted.error();
  Reply devices = restarted.Admin("GET", "/v1/devices");
  ASSERT_EQ(devices.status, 200) << devices.body;
  ASSERT_EQ(devices.json["total"], 1);
  EXPECT_EQ(devices.json["devices"][0]["id"], device);
  EXPECT_EQ(devices.json["devices"][0]["name"], "cam-1");
  EXPECT_EQ(restarted.Admin("GET", "/v1/models").json["models"].size(), 2u);
  EXPECT_EQ(restarted.Admin("GET", "/v1/devices/" + device).json["desired"]["version"], "1.1.0");
  Reply offered_again = restarted.Send("POST", "/v1/device/poll", credential, R"({"model":"big_add","version":"1.0.0"})");
  ASSERT_EQ(offered_again.status, 200) << "the credential no longer works: " << offered_again.body;
  EXPECT_EQ(offered_again.json["desired"]["digest"], up2.json["digest"]);
  EXPECT_TRUE(restarted.Send("GET", url, credential).body == Text(v2));
  Reply retried = restarted.Send("POST", "/v1/device/telemetry", credential, batch.dump());
  EXPECT_EQ(retried.json["inserted"], 0) << retried.body;
  EXPECT_EQ(retried.json["duplicates"], 3) << retried.body;
  Reply next = restarted.Send("POST", "/v1/device/telemetry", credential,
                              nlohmann::json{{"records", {TelemetryJson(4, WallClockMs(), "1.1.0")}}}.dump());
  EXPECT_EQ(next.json["inserted"], 1) << next.body;
  // The refused upload left no file: the two registered packages are all there is.
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_ + "/data/artifacts")) ++files;
  EXPECT_EQ(files, 2);

  restarted.Signal(SIGINT);
  ASSERT_TRUE(restarted.WaitForExit()) << restarted.stderr_text();
  EXPECT_EQ(restarted.exit_code(), 0) << restarted.stderr_text();
  Expected<std::unique_ptr<FleetStore>> store = FleetStore::Open("sqlite:" + dir_ + "/data/fleet.db", 1);
  ASSERT_TRUE(store.ok()) << store.message();
  EXPECT_EQ((*store)->CountTelemetry(device).value(), 4);
}

TEST_F(ServeCliTest, SigtermLetsADownloadInProgressFinish) {
  ServeProcess server;
  server.Spawn(Args());
  ASSERT_TRUE(server.WaitUntilListening()) << server.error();
  const std::vector<uint8_t> big = SignedPackage("1.0.0", keys_.secret, 8 << 20);
  Reply up = server.Send("POST", "/v1/models", kAdminToken, Text(big), "application/octet-stream");
  ASSERT_EQ(up.status, 201) << up.body;

  // A slow reader (small receive buffer, reads a little, then stops): the server is blocked
  // in the middle of the response when the signal arrives.
  const int sock = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  const int window = 4096;
  setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &window, sizeof(window));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(server.port()));
  ASSERT_EQ(connect(sock, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  const std::string request = "GET " + up.json["url"].get<std::string>() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                              "Authorization: Bearer " + kAdminToken + "\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(send(sock, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string response;
  char buf[1 << 16];
  while (response.size() < 100'000) {
    const ssize_t n = recv(sock, buf, sizeof(buf), 0);
    ASSERT_GT(n, 0);
    response.append(buf, static_cast<size_t>(n));
  }
  server.Signal(SIGTERM);
  ASSERT_TRUE(WaitFor([&] { return server.stderr_text().find("stopping") != std::string::npos; }));
  // While it drains, a new request is turned away with a clear answer (load balancers take
  // the 503 from /healthz as "out of rotation").
  Reply late = server.Send("GET", "/healthz", "");
  EXPECT_EQ(late.status, 503) << late.body;
  EXPECT_NE(late.json.value("error", "").find("stopping"), std::string::npos) << late.body;
  for (ssize_t n; (n = recv(sock, buf, sizeof(buf), 0)) > 0;) response.append(buf, static_cast<size_t>(n));
  close(sock);
  const size_t body = response.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response.substr(0, body);
  EXPECT_EQ(response.size() - body - 4, big.size()) << "the download was cut short by the stop";
  EXPECT_TRUE(response.compare(body + 4, std::string::npos, Text(big)) == 0);
  ASSERT_TRUE(server.WaitForExit()) << server.stderr_text();
  EXPECT_EQ(server.exit_code(), 0) << server.stderr_text();
}

TEST_F(ServeCliTest, AdminTokenFileProblemsAreOneClearError) {
  ExpectError(Fail(Args({"--admin-token-file", dir_ + "/missing.token"})),
              "cannot read the admin token file " + dir_ + "/missing.token");
  // A directory opens but does not read: still "cannot read", not a misleading length complaint.
  std::filesystem::create_directory(dir_ + "/token-dir");
  ExpectError(Fail(Args({"--admin-token-file", dir_ + "/token-dir"})), "cannot read the admin token file");
  std::ofstream(dir_ + "/short.token") << "tooshort\n";
  ExpectError(Fail(Args({"--admin-token-file", dir_ + "/short.token"})), "at least 16 characters");
  std::ofstream(dir_ + "/spaces.token") << "0123456789abcdef 0123456789abcdef\n";
  ExpectError(Fail(Args({"--admin-token-file", dir_ + "/spaces.token"})), "one line without spaces");
  // Not given at all: a usage error (exit 2) naming the option.
  ExpectError(Fail({"--data", dir_ + "/data", "--signing-key", dir_ + "/fleet.pub"}), "--admin-token-file", 2);
}

TEST_F(ServeCliTest, SigningKeyProblemsAreOneClearError) {
  ExpectError(Fail(Args({"--signing-key", dir_ + "/missing.pub"})), dir_ + "/missing.pub");
  // The secret half by mistake: refused, the fleet needs only the public key.
  ASSERT_TRUE(package::WriteKeyFile(dir_ + "/fleet.key", keys_.secret).ok());
  ExpectError(Fail(Args({"--signing-key", dir_ + "/fleet.key"})), dir_ + "/fleet.key");
  // The rollback-order key is the other way round: a secret key, and the public one is refused.
  ASSERT_TRUE(package::WriteKeyFile(dir_ + "/order.pub", keys_.public_key).ok());
  ExpectError(Fail(Args({"--rollback-key", dir_ + "/order.pub"})), dir_ + "/order.pub");
  ExpectError(Fail(Args({"--rollback-key", dir_ + "/fleet.key", "--rollback-order-ttl-s", "5"})),
              "rollback orders must stay valid at least 60 s");
}

TEST_F(ServeCliTest, BadListenAddressesAreOneClearError) {
  for (const char* listen : {"8080", "127.0.0.1:", ":8080", "127.0.0.1:http", "127.0.0.1:65536", "127.0.0.1:99999999999"}) {
    SCOPED_TRACE(listen);
    ExpectError(Fail(Args({"--listen", listen})), "--listen", 2);
  }
  // Well-formed, but nothing to bind: an unknown host name and an address not on this machine.
  const outpost::testing::CliResult unknown = Fail(Args({"--listen", "no-such-host.invalid:8080"}));
  ExpectError(unknown, "cannot listen on no-such-host.invalid:8080");
  EXPECT_NE(unknown.err.find("resolve"), std::string::npos) << unknown.err;
  const outpost::testing::CliResult foreign = Fail(Args({"--listen", "192.0.2.1:8080"}));
  ExpectError(foreign, "cannot listen on 192.0.2.1:8080");
  EXPECT_NE(foreign.err.find("not available"), std::string::npos) << foreign.err;
}

TEST_F(ServeCliTest, APortInUseIsOneClearError) {
  // Held by a listening socket of this test for the whole run.
  const int holder = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(holder, 1), 0);
  socklen_t len = sizeof(a);
  getsockname(holder, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string port = std::to_string(ntohs(a.sin_port));
  const outpost::testing::CliResult r = Fail(Args({"--listen", "127.0.0.1:" + port}));
  close(holder);
  ExpectError(r, "cannot listen on 127.0.0.1:" + port);
  EXPECT_NE(r.err.find("in use"), std::string::npos) << r.err;

  // Held by another fleet server: the second one is refused too (it must not share the port
  // and take part of the first one's connections), and the first keeps serving.
  ServeProcess first;
  first.Spawn(Args());
  ASSERT_TRUE(first.WaitUntilListening()) << first.error();
  const std::string taken = "127.0.0.1:" + std::to_string(first.port());
  const outpost::testing::CliResult second = Fail(Args({"--listen", taken}));
  ExpectError(second, "cannot listen on " + taken + ": the port is already in use");
  EXPECT_EQ(first.Send("GET", "/healthz", "").status, 200);
}

TEST_F(ServeCliTest, BadDatabaseUrlsAreOneClearError) {
  const outpost::testing::CliResult mysql = Fail(Args({"--db", "mysql://fleet:secret@db/fleet"}));
  ExpectError(mysql, "unsupported database URL scheme 'mysql'");
  EXPECT_EQ(mysql.err.find("secret"), std::string::npos) << "the password was printed: " << mysql.err;
  ExpectError(Fail(Args({"--db", dir_ + "/fleet.db"})), "unsupported database URL (expected sqlite:PATH");
  ExpectError(Fail(Args({"--db", "sqlite:" + dir_ + "/no/such/dir/fleet.db"})), dir_ + "/no/such/dir/fleet.db");
  // Nothing listens on the port: libpq's several-line complaint comes out as one line.
  const std::string nobody = "postgresql://fleet@127.0.0.1:" + std::to_string(outpost::testing::FreeLoopbackPort()) + "/fleet";
  const outpost::testing::CliResult refused = Fail(Args({"--db", nobody}));
  ExpectError(refused, "127.0.0.1");
  EXPECT_NE(refused.err.find("refused"), std::string::npos) << refused.err;
}

TEST_F(ServeCliTest, TlsProblemsAreOneClearError) {
  std::ofstream(dir_ + "/cert.pem") << "not a certificate\n";
  ExpectError(Fail(Args({"--tls-cert", dir_ + "/cert.pem"})), "--tls-cert and --tls-key go together", 2);
  ExpectError(Fail(Args({"--tls-key", dir_ + "/cert.pem"})), "--tls-cert and --tls-key go together", 2);
  ExpectError(Fail(Args({"--tls-cert", dir_ + "/cert.pem", "--tls-key", dir_ + "/missing.pem"})),
              "cannot load the TLS certificate " + dir_ + "/cert.pem");
}

TEST_F(ServeCliTest, OutOfRangeNumbersAreOneClearError) {
  ExpectError(Fail(Args({"--threads", "0"})), "thread");
  ExpectError(Fail(Args({"--tick-ms", "-5"})), "tick");
  ExpectError(Fail(Args({"--max-package-mib", "0"})), "--max-package-mib", 2);
  ExpectError(Fail(Args({"--alert-webhook", "ftp://ops.example/hook"})), "webhook");
}

}  // namespace
}  // namespace outpost::fleet::testing
