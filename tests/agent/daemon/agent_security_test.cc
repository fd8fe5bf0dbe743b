// The agent's security at the daemon level (docs/agent.md, "Security"), with `outpost agent`
// as the device runs it:
// - over HTTPS against `outpost fleet serve --tls-cert/--tls-key`: an agent given the wrong CA
//   cannot enroll (one error naming the certificate problem, no credential written); with the
//   right CA it enrolls (sending its public key), then installs a package encrypted for it with
//   `outpost pack --encrypt-for` and the key the server answers for the device, runs it and
//   reports; a package encrypted for another device is refused and the model keeps running.
// - one agent going through the refusals in turn: a package tampered with on the server, one
//   signed with a key the device does not trust, a replayed older version, a truncated
//   download, a full disk while staging. Each is in the log and in the telemetry `events`, the
//   previous model keeps answering, and a later good update still goes through.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <thread>

#include "agent/daemon/agent_config.h"
#include "fleet/store/sql_database.h"
#include "package/codec.h"
#include "package/keys.h"
#include "package/pack.h"
#include "tests/agent/daemon/agent_process.h"
#include "tests/agent/update/agent_fixture.h"
#include "tests/cli/cli_runner.h"
#include "tests/fleet/server/serve_process.h"
#include "tests/fleet/server/server_fixture.h"
#include "tests/io/test_models.h"
#include "tests/package/package_fixtures.h"

namespace outpost::agent {
namespace {

namespace fs = std::filesystem;

using testing::AgentProcess;

// A sensor feed of four values per frame at 200 Hz (the tiny classifier's input) and the
// pipeline file that runs it.
std::string WriteSensorPipeline(const std::string& work) {
  fs::create_directories(work);
  std::ofstream csv(work + "/rows.csv");
  for (int i = 0; i < 20000; ++i)
    csv << (i % 7) * 0.1 << "," << (i % 5) * 0.2 << "," << (i % 3) * 0.3 << "," << (i % 11) * 0.05 << "\n";
  std::ofstream(work + "/pipeline.json")
      << R"({"source": {"type": "sensor", "path": "rows.csv", "window": 1, "rate_hz": 200},
             "model": "model.opm", "postprocess": {"type": "classification"}})";
  return work + "/pipeline.json";
}

struct Record {
  int64_t seq = 0;
  std::string version;
  nlohmann::json body;
};

// The telemetry the server stored for the device, oldest first.
std::vector<Record> StoredRecords(const std::string& store_url, const std::string& device) {
  std::vector<Record> out;
  auto db = fleet::OpenSqlDatabase(store_url, 1);
  if (!db.ok()) return out;
  auto rows = (*db)->Execute("SELECT seq, version, body_json FROM telemetry WHERE device_id = ? ORDER BY seq", {device});
  if (!rows.ok()) return out;
  for (const auto& row : rows->rows) out.push_back({row.integer(0), row.text(1), nlohmann::json::parse(row.text(2))});
  return out;
}

// The first stored event starting with `prefix` ("" when none).
std::string FindEvent(const std::vector<Record>& records, const std::string& prefix, int64_t* seq = nullptr) {
  for (const Record& r : records)
    if (r.body.contains("events"))
      for (const auto& e : r.body["events"])
        if (e.get<std::string>().rfind(prefix, 0) == 0) {
          if (seq) *seq = r.seq;
          return e.get<std::string>();
        }
  return "";
}

// An event starting with `prefix` was reported, and a later record shows `version` still
// answering frames.
bool ReportedThenStillRunning(const std::vector<Record>& records, const std::string& prefix, const std::string& version) {
  int64_t seq = 0;
  if (FindEvent(records, prefix, &seq).empty()) return false;
  for (const Record& r : records)
    if (r.seq > seq && r.version == version && r.body.value("inferences", 0) > 0 && r.body.value("errors", 1) == 0)
      return true;
  return false;
}

bool RunsVersion(const std::vector<Record>& records, const std::string& version) {
  for (const Record& r : records)
    if (r.version == version && r.body.value("inferences", 0) > 0) return true;
  return false;
}

std::string AllEvents(const std::vector<Record>& records) {
  std::string out;
  for (const Record& r : records)
    if (r.body.contains("events"))
      for (const auto& e : r.body["events"]) out += "  #" + std::to_string(r.seq) + " " + e.get<std::string>() + "\n";
  return out;
}

// --- HTTPS and packages encrypted for the device -----------------------------------------------

TEST(AgentSecurityProcessTest, EnrollsOverHttpsAndInstallsOnlyPackagesEncryptedForIt) {
  const std::string dir = outpost::testing::MakeTempDir("agent_https");
  const package::KeyPair keys = outpost::testing::TestSigningPair();
  fleet::testing::WriteServerFiles(dir, keys);
  ASSERT_TRUE(package::WriteKeyFile(dir + "/fleet.key", keys.secret).ok());
  ASSERT_TRUE(fleet::testing::MakeLoopbackCertificate(dir + "/cert.pem", dir + "/cert.key"));
  ASSERT_TRUE(fleet::testing::MakeLoopbackCertificate(dir + "/other.pem", dir + "/other.key"));
  fleet::testing::ServeProcess server;
  server.Spawn({"--data", dir + "/data", "--admin-token-file", dir + "/admin-token", "--signing-key",
                dir + "/fleet.pub", "--listen", "127.0.0.1:0", "--threads", "4", "--tls-cert", dir + "/cert.pem",
                "--tls-key", dir + "/cert.key"});
  ASSERT_TRUE(server.WaitUntilListening()) << server.error();
  const std::string url = server.url();
  ASSERT_EQ(url, "https://127.0.0.1:" + std::to_string(server.port()));
  httplib::Client admin(url);
  admin.set_ca_cert_path((dir + "/cert.pem").c_str());
  admin.enable_server_certificate_verification(true);
  auto send = [&](const std::string& method, const std::string& path, const std::string& body,
                  const std::string& type = "application/json") {
    return fleet::testing::SendRequest(admin, method, path, fleet::testing::kAdminToken, body, type);
  };
  auto new_token = [&] {
    fleet::testing::Reply t = send("POST", "/v1/enrollment-tokens", R"({"tags":["camera"]})");
    EXPECT_EQ(t.status, 201) << t.body;
    return t.json.value("token", "");
  };
  const std::string pipeline = WriteSensorPipeline(dir + "/work");
  const std::string device_dir = dir + "/device";
  auto enroll = [&](const std::string& ca) {
    return outpost::testing::RunOutpost(
        {"agent", "enroll", "--dir", device_dir, "--server", url, "--ca-file", ca, "--token", new_token(), "--model",
         testing::kModelName, "--signing-key", dir + "/fleet.pub", "--pipeline", pipeline, "--name", "cam-tls",
         "--poll-ms", "250", "--report-ms", "400", "--upload-ms", "250", "--health-window-ms", "1000",
         "--health-min-inferences", "30"});
  };

  // A CA the server's certificate does not chain to: one error naming the certificate problem,
  // and no credential or configuration is written.
  outpost::testing::CliResult wrong = enroll(dir + "/other.pem");
  EXPECT_EQ(wrong.exit_code, 1) << wrong.err;
  EXPECT_EQ(wrong.err_lines().size(), 1u) << wrong.err;
  EXPECT_NE(wrong.err.find("the server certificate does not verify with the CA file"), std::string::npos) << wrong.err;
  std::cout << "wrong CA: " << wrong.err;
  EXPECT_FALSE(fs::exists(device_dir + "/credential"));
  EXPECT_FALSE(fs::exists(device_dir + "/agent.json"));
  EXPECT_EQ(send("GET", "/v1/devices", "").json["total"], 0);

  outpost::testing::CliResult enrolled = enroll(dir + "/cert.pem");
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.err;
  Expected<AgentConfig> config = LoadAgentConfig(device_dir);
  ASSERT_TRUE(config.ok()) << config.message();
  const std::string device = config->device_id;

  // The operator reads the device's key back from the server and packs for it.
  fleet::testing::Reply got = send("GET", "/v1/devices/" + device, "");
  ASSERT_EQ(got.status, 200) << got.body;
  ASSERT_TRUE(got.json["public_key"].is_string()) << got.body;
  std::ofstream(dir + "/cam-tls.pub") << package::KeyTypeLine(package::KeyType::kDevicePublic) << "\n"
                                      << got.json["public_key"].get<std::string>() << "\n";
  ASSERT_TRUE(package::WriteKeyFile(dir + "/stranger.pub", package::GenerateDeviceKeyPair().public_key).ok());
  outpost::testing::WriteBytes(dir + "/detector.opm", outpost::testing::TinyClassifierOpm());
  auto pack_and_upload = [&](const std::string& version, const std::string& for_key) {
    const std::string out = dir + "/detector-" + version + ".opk";
    outpost::testing::CliResult packed =
        outpost::testing::RunOutpost({"pack", dir + "/detector.opm", "--key", dir + "/fleet.key", "--name",
                                      testing::kModelName, "--version", version, "-o", out, "--encrypt-for", for_key});
    ASSERT_EQ(packed.exit_code, 0) << packed.err;
    const std::vector<uint8_t> bytes = outpost::testing::ReadBytes(out);
    fleet::testing::Reply up = send("POST", "/v1/models", std::string(bytes.begin(), bytes.end()), "application/octet-stream");
    ASSERT_EQ(up.status, 201) << up.body;
    fleet::testing::Reply desired = send("PUT", "/v1/devices/" + device + "/desired",
                                         nlohmann::json{{"model", testing::kModelName}, {"version", version}}.dump());
    ASSERT_EQ(desired.status, 200) << desired.body;
  };

  pack_and_upload("1.0.0", dir + "/cam-tls.pub");
  AgentProcess agent;
  ASSERT_TRUE(agent.Spawn({OUTPOST_BIN, "agent", "run", "--dir", device_dir, "--max-seconds", "90"}, dir + "/agent.log"));
  const std::string store = "sqlite:" + dir + "/data/fleet.db";
  // Downloaded, decrypted, run and reported, all over TLS.
  ASSERT_TRUE(testing::AwaitCondition([&] { return RunsVersion(StoredRecords(store, device), "1.0.0"); }, std::chrono::seconds(40)))
      << agent.Log();

  // Encrypted for another device: this one cannot open it, refuses it and keeps running 1.0.0.
  pack_and_upload("1.1.0", dir + "/stranger.pub");
  ASSERT_TRUE(testing::AwaitCondition([&] { return ReportedThenStillRunning(StoredRecords(store, device), "refused 1.1.0: ", "1.0.0"); },
                         std::chrono::seconds(40)))
      << agent.Log() << AllEvents(StoredRecords(store, device));
  const std::string refusal = FindEvent(StoredRecords(store, device), "refused 1.1.0: ");
  EXPECT_NE(refusal.find("sealed"), std::string::npos) << refusal;
  EXPECT_EQ(agent.Stop(SIGTERM), 0);
  const std::string log = agent.Log();
  EXPECT_NE(log.find(refusal), std::string::npos) << log;
  EXPECT_EQ(log.find("update_error"), std::string::npos) << log;
  std::cout << "refusal: " << refusal << "\n";
  server.Signal(SIGTERM);
  EXPECT_TRUE(server.WaitForExit());
}

// --- the refusals, one agent going through them in turn ----------------------------------------

class AgentRefusalsTest : public fleet::testing::FleetServerTest {
 protected:
  std::string ArtifactPath(const nlohmann::json& entry) {
    return dir_ + "/data/artifacts/" + entry["digest"].get<std::string>();
  }
  nlohmann::json Register(const std::vector<uint8_t>& package) {
    fleet::testing::Reply r = Upload(package);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json;
  }
  void SetDesired(const std::string& device, const std::string& version) {
    fleet::testing::Reply r =
        Admin("PUT", "/v1/devices/" + device + "/desired", {{"model", testing::kModelName}, {"version", version}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
};

TEST_P(AgentRefusalsTest, EachRefusalIsLoggedAndReportedAndTheModelKeepsRunning) {
  const std::string pipeline = WriteSensorPipeline(dir_ + "/work");
  const std::string device_dir = dir_ + "/device";
  outpost::testing::CliResult enrolled = outpost::testing::RunOutpost(
      {"agent", "enroll", "--dir", device_dir, "--server", server_->url(), "--token", NewEnrollmentToken(), "--model",
       testing::kModelName, "--signing-key", dir_ + "/fleet.pub", "--pipeline", pipeline, "--name", "cam-refusals",
       "--poll-ms", "200", "--report-ms", "300", "--upload-ms", "200", "--health-window-ms", "800",
       "--health-min-inferences", "30"});
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.err;
  {
    // The tiny model answers in microseconds, where a busy machine's scheduling noise alone
    // can triple a p99: the health window here judges errors only, so that the good updates
    // this test makes are never rolled back on latency.
    std::ifstream in(device_dir + "/agent.json");
    nlohmann::json j = nlohmann::json::parse(in);
    j["health"]["max_p99_ratio"] = 1000.0;
    std::ofstream(device_dir + "/agent.json") << j.dump(2) << "\n";
  }
  Expected<AgentConfig> config = LoadAgentConfig(device_dir);
  ASSERT_TRUE(config.ok()) << config.message();
  ASSERT_EQ(config->health.max_p99_ratio, 1000.0);
  const std::string device = config->device_id;
  Expected<package::Key> device_public = package::ReadKeyFile(device_dir + "/device.pub", {package::KeyType::kDevicePublic});
  ASSERT_TRUE(device_public.ok()) << device_public.message();
  auto records = [&] { return StoredRecords(store_url_, device); };

  // The device directory on a small filesystem of its own: a tmpfs in a mount namespace where
  // the machine allows one, else a limit on the size of the files the agent writes.
  constexpr uint64_t kTmpfsBytes = 24u << 20;
  constexpr rlim_t kMaxFileBytes = 3u << 20;
  // (OUTPOST_TEST_FSIZE_LIMIT set: the fallback even where a tmpfs could be mounted.)
  fs::create_directories(dir_ + "/probe");
  const bool tmpfs = std::getenv("OUTPOST_TEST_FSIZE_LIMIT") == nullptr &&
                     std::system(("unshare -rm sh -c 'mount -t tmpfs -o size=1m tmpfs " + dir_ +
                                  "/probe' >/dev/null 2>&1").c_str()) == 0;
  std::cout << "full disk: " << (tmpfs ? "a 24 MiB tmpfs in a mount namespace (unshare -rm)" : "RLIMIT_FSIZE 3 MiB")
            << "\n";
  AgentProcess agent;
  const std::string run = std::string(OUTPOST_BIN) + " agent run --dir " + device_dir + " --max-seconds 100";
  if (tmpfs) {
    fs::copy(device_dir, dir_ + "/seed", fs::copy_options::recursive);
    ASSERT_TRUE(agent.Spawn({"unshare", "-rm", "sh", "-c",
                             "mount -t tmpfs -o size=" + std::to_string(kTmpfsBytes) + ",mode=0700 tmpfs " +
                                 device_dir + " && cp -a " + dir_ + "/seed/. " + device_dir + "/ && exec " + run},
                            dir_ + "/agent.log"));
  } else {
    ASSERT_TRUE(agent.Spawn({OUTPOST_BIN, "agent", "run", "--dir", device_dir, "--max-seconds", "100"},
                            dir_ + "/agent.log", kMaxFileBytes));
  }
  // The device directory as the agent sees it.
  const std::string seen_dir = tmpfs ? "/proc/" + std::to_string(agent.pid()) + "/root" + device_dir : device_dir;

  // 1.0.0 installs and runs.
  Register(testing::DetectorPackage({.version = "1.0.0"}, keys_.secret));
  SetDesired(device, "1.0.0");
  ASSERT_TRUE(testing::AwaitCondition([&] { return agent.Log().find("committed 1.0.0") != std::string::npos && RunsVersion(records(), "1.0.0"); },
                         std::chrono::seconds(30)))
      << agent.Log();

  // Tampered with on the server after the upload: one byte of the stored package flipped.
  {
    const nlohmann::json entry = Register(testing::DetectorPackage({.version = "1.1.0"}, keys_.secret));
    std::vector<uint8_t> bytes = outpost::testing::ReadBytes(ArtifactPath(entry));
    bytes[bytes.size() / 2] ^= 0x20;
    outpost::testing::WriteBytes(ArtifactPath(entry), bytes);
    SetDesired(device, "1.1.0");
    ASSERT_TRUE(testing::AwaitCondition([&] { return ReportedThenStillRunning(records(), "refused 1.1.0: ", "1.0.0"); },
                           std::chrono::seconds(20)))
        << agent.Log() << AllEvents(records());
    std::cout << "tampered: " << FindEvent(records(), "refused 1.1.0: ") << "\n";
  }

  // Signed with a key this device does not trust: a second server on the same store and files
  // holds another fleet key and registers it; the device's server offers it like any version.
  {
    const package::KeyPair other = outpost::testing::TestSigningPair(9);
    ASSERT_TRUE(package::WriteKeyFile(dir_ + "/other.pub", other.public_key).ok());
    fleet::FleetServerOptions o;
    o.data_dir = dir_ + "/data";
    o.store_url = store_url_;
    o.admin_token_file = dir_ + "/admin-token";
    o.signing_public_key_file = dir_ + "/other.pub";
    o.max_package_bytes = 4 << 20;
    o.threads = 2;
    o.store_connections = 2;
    o.clock = [this] { return now_ms_.load(); };
    o.tick_ms = 0;
    Expected<std::unique_ptr<fleet::FleetServer>> second = fleet::FleetServer::Create(o);
    ASSERT_TRUE(second.ok()) << second.message();
    ASSERT_TRUE((*second)->Start().ok());
    httplib::Client c("127.0.0.1", (*second)->port());
    const std::vector<uint8_t> p = testing::DetectorPackage({.version = "1.2.0"}, other.secret);
    fleet::testing::Reply up = fleet::testing::SendRequest(c, "POST", "/v1/models", fleet::testing::kAdminToken,
                                                           std::string(p.begin(), p.end()), "application/octet-stream");
    ASSERT_EQ(up.status, 201) << up.body;
    (*second)->Stop();
    SetDesired(device, "1.2.0");
    ASSERT_TRUE(testing::AwaitCondition([&] { return ReportedThenStillRunning(records(), "refused 1.2.0: package: signature check failed", "1.0.0"); },
                           std::chrono::seconds(20)))
        << agent.Log() << AllEvents(records());
  }

  // A replayed older version: genuinely signed, but its counter is below the committed one and
  // no rollback order allows it.
  Register(testing::DetectorPackage({.version = "0.9.0"}, keys_.secret));
  SetDesired(device, "0.9.0");
  ASSERT_TRUE(testing::AwaitCondition([&] { return ReportedThenStillRunning(records(), "refused 0.9.0: package: version 0.9.0 has counter", "1.0.0"); },
                         std::chrono::seconds(20)))
      << agent.Log() << AllEvents(records());
  EXPECT_NE(FindEvent(records(), "refused 0.9.0: ").find("refused as a downgrade or replay"), std::string::npos);

  // A truncated download: the server holds only half of the package, so every transfer ends
  // early. Reported, the model keeps running; once the file is whole again the download
  // resumes and the update goes through.
  {
    const std::vector<uint8_t> full = testing::DetectorPackage({.version = "1.4.0"}, keys_.secret);
    const nlohmann::json entry = Register(full);
    outpost::testing::WriteBytes(ArtifactPath(entry), std::vector<uint8_t>(full.begin(), full.begin() + full.size() / 2));
    SetDesired(device, "1.4.0");
    ASSERT_TRUE(testing::AwaitCondition([&] { return ReportedThenStillRunning(records(), "update_error 1.4.0: fleet: download of", "1.0.0"); },
                           std::chrono::seconds(20)))
        << agent.Log() << AllEvents(records());
    const std::string truncated = FindEvent(records(), "update_error 1.4.0: ");
    EXPECT_NE(truncated.find("truncated"), std::string::npos) << truncated;
    EXPECT_NE(agent.Log().find("update check: fleet: download of"), std::string::npos);
    std::cout << "truncated: " << truncated << "\n";
    outpost::testing::WriteBytes(ArtifactPath(entry), full);
    ASSERT_TRUE(testing::AwaitCondition([&] { return agent.Log().find("committed 1.4.0") != std::string::npos && RunsVersion(records(), "1.4.0"); },
                           std::chrono::seconds(20)))
        << agent.Log() << AllEvents(records());
  }

  // A full disk while staging: a package encrypted for the device (no delta: the whole package
  // is downloaded) with a large model. It fits on the disk, but unpacking it into the inactive
  // slot does not. (Under the file size limit it is larger than the limit: the download's own
  // write fails, and its partial file is removed.)
  {
    package::PackOptions o;
    o.name = testing::kModelName;
    o.version = "1.5.0";
    o.created = "2026-01-02T03:04:05Z";
    o.devices = {*device_public};
    Expected<std::vector<uint8_t>> big =
        package::PackModel(outpost::testing::BigAddModelOpm(tmpfs ? (2u << 20) : (3u << 20) + 4096), keys_.secret, o);
    ASSERT_TRUE(big.ok()) << big.message();
    Register(*big);
    if (tmpfs) {
      // Leave free only the package's size and a little more: the download fits, staging not.
      struct statvfs vfs {};
      ASSERT_EQ(::statvfs(seen_dir.c_str(), &vfs), 0) << seen_dir;
      const uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
      const uint64_t keep = big->size() + (256u << 10);
      ASSERT_GT(free_bytes, keep);
      std::ofstream fill(seen_dir + "/filler", std::ios::binary);
      const std::vector<char> block(1 << 16, 0);
      for (uint64_t left = free_bytes - keep; left > 0;) {
        const uint64_t n = std::min<uint64_t>(left, block.size());
        fill.write(block.data(), static_cast<std::streamsize>(n));
        left -= n;
      }
      fill.close();
      ASSERT_TRUE(fill) << "cannot fill " << seen_dir;
    }
    SetDesired(device, "1.5.0");
    const std::string disk_message = tmpfs ? "No space left on device" : "File too large";
    ASSERT_TRUE(testing::AwaitCondition([&] { return agent.Log().find("refused 1.5.0: ") != std::string::npos; }, std::chrono::seconds(20)))
        << agent.Log();
    const std::string log = agent.Log();
    const std::string line = log.substr(log.find("refused 1.5.0: "), log.find('\n', log.find("refused 1.5.0: ")) - log.find("refused 1.5.0: "));
    EXPECT_NE(line.find(disk_message), std::string::npos) << line;
    std::cout << "full disk: " << line << "\n";
    // Space comes back: the refusal reaches the server, and the model never stopped.
    if (tmpfs) fs::remove(seen_dir + "/filler");
    ASSERT_TRUE(testing::AwaitCondition([&] { return ReportedThenStillRunning(records(), "refused 1.5.0: ", "1.4.0"); },
                           std::chrono::seconds(20)))
        << agent.Log() << AllEvents(records());
    EXPECT_NE(FindEvent(records(), "refused 1.5.0: ").find(disk_message), std::string::npos) << AllEvents(records());
  }

  // A later update that fits goes through.
  Register(testing::DetectorPackage({.version = "1.6.0"}, keys_.secret));
  SetDesired(device, "1.6.0");
  ASSERT_TRUE(testing::AwaitCondition([&] { return agent.Log().find("committed 1.6.0") != std::string::npos && RunsVersion(records(), "1.6.0"); },
                         std::chrono::seconds(20)))
      << agent.Log() << AllEvents(records());

  EXPECT_EQ(agent.Stop(SIGTERM), 0);
  const std::string log = agent.Log();
  for (const char* refused : {"refused 1.1.0: ", "refused 1.2.0: ", "refused 0.9.0: ", "refused 1.5.0: "})
    EXPECT_NE(log.find(refused), std::string::npos) << refused << "\n" << log;
  // No record shows another version than the ones that were committed: nothing refused ran.
  for (const Record& r : records())
    EXPECT_TRUE(r.version == "1.0.0" || r.version == "1.4.0" || r.version == "1.6.0") << r.version;
}

INSTANTIATE_TEST_SUITE_P(Databases, AgentRefusalsTest, ::testing::Values("sqlite"), fleet::testing::BackendName);

}  // namespace
}  // namespace outpost::agent
