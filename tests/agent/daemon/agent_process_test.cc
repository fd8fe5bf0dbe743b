// `outpost agent enroll` and `outpost agent run` as the device would run them, against a real
// in-process fleet server: the agent installs 1.0.0, runs a sensor pipeline on it and its
// telemetry arrives at the server; then 1.1.0 is set desired and the agent switches to it,
// compares it with 1.0.0 in shadow mode during the health window, and commits it; 1.2.0, whose
// self-test fails, is refused with its reason in the telemetry while 1.1.0 keeps running; 1.3.0,
// which cannot take the device's frames, fails its health window and is rolled back.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <thread>

#include "agent/daemon/agent_config.h"
#include "fleet/store/sql_database.h"
#include "io/model_file.h"
#include "io/model_reference.h"
#include "package/keys.h"
#include "package/pack.h"
#include "tests/io/test_models.h"
#include "tests/agent/daemon/agent_process.h"
#include "tests/agent/update/agent_fixture.h"
#include "tests/cli/cli_runner.h"
#include "tests/fleet/server/server_fixture.h"

namespace outpost::agent {
namespace {

using testing::AgentProcess;
using testing::AwaitCondition;

// Row i of the sensor feed: four values per frame, the tiny classifier's input.
std::vector<float> SensorRow(int i) {
  return {static_cast<float>((i % 7) * 0.1), static_cast<float>((i % 5) * 0.2), static_cast<float>((i % 3) * 0.3),
          static_cast<float>((i % 11) * 0.05)};
}

class AgentRunProcessTest : public fleet::testing::FleetServerTest {
 protected:
  // The tiny classifier carrying a drift reference made from the feed's first 2,000 rows, so
  // that the agent reports drift figures for it.
  std::vector<uint8_t> ClassifierWithReference(const std::string& version, int features = 4) {
    if (reference_json_.empty()) {
      outpost::testing::WriteBytes(dir_ + "/plain.opm", outpost::testing::TinyClassifierOpm());
      Expected<io::LoadedModel> model = io::LoadedModel::Open(dir_ + "/plain.opm");
      EXPECT_TRUE(model.ok()) << model.message();
      if (!model.ok()) return {};
      std::vector<std::vector<float>> samples;
      for (int i = 0; i < 2000; ++i) samples.push_back(SensorRow(i));
      Expected<io::ModelReference> ref = io::BuildModelReference(*model, samples);
      EXPECT_TRUE(ref.ok()) << ref.message();
      if (!ref.ok()) return {};
      reference_json_ = io::ModelReferenceToJson(*ref);
    }
    outpost::testing::TinyModelOptions m;
    m.features = features;
    if (features == 4) m.reference_json = reference_json_;
    package::PackOptions o;
    o.name = testing::kModelName;
    o.version = version;
    o.created = "2026-01-02T03:04:05Z";
    Expected<std::vector<uint8_t>> p = package::PackModel(outpost::testing::TinyClassifierOpm(m), keys_.secret, o);
    EXPECT_TRUE(p.ok()) << p.message();
    return p.ok() ? *p : std::vector<uint8_t>{};
  }
  std::string reference_json_;

  struct Stored {
    std::string version;
    nlohmann::json body;
  };
  // The telemetry the server stored for the device, oldest first.
  std::vector<Stored> StoredTelemetry(const std::string& device) {
    auto db = fleet::OpenSqlDatabase(store_url_).value();
    auto rows = db->Execute("SELECT version, body_json FROM telemetry WHERE device_id = ? ORDER BY seq", {device});
    std::vector<Stored> out;
    if (!rows.ok()) return out;
    for (const auto& row : rows->rows) out.push_back({row.text(0), nlohmann::json::parse(row.text(1))});
    return out;
  }
  void Register(const std::string& version) {
    fleet::testing::Reply r = Upload(ClassifierWithReference(version));
    ASSERT_EQ(r.status, 201) << r.body;
  }
  void SetDesired(const std::string& device, const std::string& version) {
    fleet::testing::Reply r =
        Admin("PUT", "/v1/devices/" + device + "/desired", {{"model", testing::kModelName}, {"version", version}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  std::string CommittedVersion(const std::string& device_dir) {
    std::ifstream in(device_dir + "/state.json");
    std::stringstream s;
    s << in.rdbuf();
    const nlohmann::json j = nlohmann::json::parse(s.str(), nullptr, false);
    return j.is_object() ? j.value("committed_version", "") : "";
  }
};

TEST_P(AgentRunProcessTest, InstallsReportsUpdatesRefusesAndRollsBack) {
  const std::string work = dir_ + "/work";
  std::filesystem::create_directories(work);
  ASSERT_TRUE(package::WriteKeyFile(work + "/fleet.pub", keys_.public_key).ok());
  {
    // A live sensor feed of four values per frame (the tiny classifier's input) at 200 Hz.
    std::ofstream csv(work + "/rows.csv");
    for (int i = 0; i < 20000; ++i) {
      const std::vector<float> row = SensorRow(i);
      csv << row[0] << "," << row[1] << "," << row[2] << "," << row[3] << "\n";
    }
    std::ofstream(work + "/pipeline.json")
        << R"({"source": {"type": "sensor", "path": "rows.csv", "window": 1, "rate_hz": 200},
               "model": "model.opm", "postprocess": {"type": "classification"}})";
  }
  const std::string device_dir = dir_ + "/device";
  outpost::testing::CliResult enrolled = outpost::testing::RunOutpost(
      {"agent", "enroll", "--dir", device_dir, "--server", server_->url(), "--token", NewEnrollmentToken(),
       "--model", testing::kModelName, "--signing-key", work + "/fleet.pub", "--pipeline", work + "/pipeline.json",
       "--name", "cam-run", "--poll-ms", "250", "--report-ms", "400", "--upload-ms", "250", "--health-window-ms",
       "1500", "--health-min-inferences", "50"});
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.err;
  {
    // The rollback under test is the error-rate one. These models' p99 latency is about 0.05 ms,
    // so one scheduling delay on a loaded machine can exceed the default 1.5x latency criterion
    // and roll back the good update 1.1.0; that criterion has its own tests (update_engine_test).
    std::ifstream in(device_dir + "/" + kAgentConfigFile);
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    ASSERT_TRUE(j.is_object());
    j["health"]["max_p99_ratio"] = 1000.0;
    std::ofstream(device_dir + "/" + kAgentConfigFile) << j.dump(2);
  }
  Expected<AgentConfig> config = LoadAgentConfig(device_dir);
  ASSERT_TRUE(config.ok()) << config.message();
  ASSERT_EQ(config->health.max_p99_ratio, 1000.0);
  const std::string device = config->device_id;

  Register("1.0.0");
  SetDesired(device, "1.0.0");
  AgentProcess agent;
  ASSERT_TRUE(agent.Spawn({OUTPOST_BIN, "agent", "run", "--dir", device_dir, "--max-seconds", "120"}, dir_ + "/agent.log"));

  // 1.0.0 is installed and runs: its records arrive, with inferences and a p99 latency.
  auto has_records_of = [&](const std::string& version) {
    for (const Stored& s : StoredTelemetry(device))
      if (s.version == version && s.body.value("inferences", 0) > 0 && s.body.contains("latency_p99_ms") &&
          s.body.contains("latency_histogram"))
        return true;
    return false;
  };
  ASSERT_TRUE(AwaitCondition([&] { return has_records_of("1.0.0"); }, std::chrono::seconds(40))) << agent.Log();
  // Its records start during its health window; the commit follows.
  ASSERT_TRUE(AwaitCondition([&] { return CommittedVersion(device_dir) == "1.0.0"; }, std::chrono::seconds(20)))
      << agent.Log();

  // 1.1.0: downloaded (as a delta), switched to, compared with 1.0.0 during its health window,
  // committed; the records say so.
  Register("1.1.0");
  SetDesired(device, "1.1.0");
  ASSERT_TRUE(AwaitCondition([&] { return CommittedVersion(device_dir) == "1.1.0" && has_records_of("1.1.0"); },
                             std::chrono::seconds(40)))
      << agent.Log();

  // 1.2.0 fails its self-test: refused with the reason, reported, and 1.1.0 keeps running.
  fleet::testing::Reply bad = Upload(testing::DetectorPackage({.version = "1.2.0", .failing_self_test = true}, keys_.secret));
  ASSERT_EQ(bad.status, 201) << bad.body;
  SetDesired(device, "1.2.0");
  auto refused_then_running = [&] {
    bool refused = false;
    for (const Stored& s : StoredTelemetry(device)) {
      if (s.body.contains("events"))
        for (const auto& e : s.body["events"])
          if (e.get<std::string>().rfind("refused 1.2.0: self-test", 0) == 0) refused = true;
      if (refused && s.version == "1.1.0" && s.body.value("inferences", 0) > 0 && !s.body.contains("events"))
        return true;  // a later period: the same model still answering
    }
    return false;
  };
  ASSERT_TRUE(AwaitCondition(refused_then_running, std::chrono::seconds(40))) << agent.Log();
  EXPECT_EQ(CommittedVersion(device_dir), "1.1.0");

  // 1.3.0 passes its self-test but takes 8 values per frame and the feed has 4: in its health
  // window every frame fails, the engine rolls back and the pipeline runs 1.1.0 again.
  fleet::testing::Reply wide = Upload(ClassifierWithReference("1.3.0", 8));
  ASSERT_EQ(wide.status, 201) << wide.body;
  SetDesired(device, "1.3.0");
  auto rolled_back_then_running = [&] {
    bool rolled_back = false;
    for (const Stored& s : StoredTelemetry(device)) {
      if (s.body.contains("events"))
        for (const auto& e : s.body["events"])
          if (e.get<std::string>().rfind("rolled_back 1.3.0: health: error rate 1.000", 0) == 0) rolled_back = true;
      if (rolled_back && s.version == "1.1.0" && s.body.value("inferences", 0) > 0 && s.body.value("errors", 1) == 0)
        return true;
    }
    return false;
  };
  ASSERT_TRUE(AwaitCondition(rolled_back_then_running, std::chrono::seconds(40))) << agent.Log();
  EXPECT_EQ(CommittedVersion(device_dir), "1.1.0");

  const int exit_code = agent.Stop(SIGTERM);
  const std::string log = agent.Log();
  EXPECT_EQ(exit_code, 0) << log;
  std::cout << "the agent's log:\n" << log;
  EXPECT_NE(log.find("committed 1.1.0"), std::string::npos) << log;

  const std::vector<Stored> records = StoredTelemetry(device);
  bool committed_event = false;
  std::optional<double> agreement, drift_psi, input_drift_psi;
  int64_t last_seq = 0;
  for (const Stored& s : records) {
    EXPECT_GT(s.body.value("seq", int64_t{0}), last_seq);  // each once, in order
    last_seq = s.body.value("seq", int64_t{0});
    if (s.body.contains("events"))
      for (const auto& e : s.body["events"])
        if (e.get<std::string>() == "committed 1.1.0") committed_event = true;
    if (s.version == "1.1.0" && s.body.contains("agreement")) agreement = s.body["agreement"].get<double>();
    if (s.body.contains("drift_psi")) drift_psi = s.body["drift_psi"].get<double>();
    if (s.body.contains("input_drift_psi")) input_drift_psi = s.body["input_drift_psi"].get<double>();
    EXPECT_TRUE(s.body.contains("rss_bytes"));
    EXPECT_TRUE(s.body.contains("arena_bytes") || s.body.value("inferences", 0) == 0);
  }
  EXPECT_TRUE(committed_event);
  // 1.1.0 and 1.0.0 are the same classifier: shadow mode finds them agreeing on every frame.
  ASSERT_TRUE(agreement.has_value()) << log;
  EXPECT_DOUBLE_EQ(*agreement, 1.0);
  // The models carry a reference from the same feed: output and input drift are measured
  // (small windows of a few dozen frames: sampling noise, not a finding).
  ASSERT_TRUE(drift_psi.has_value()) << log;
  ASSERT_TRUE(input_drift_psi.has_value()) << log;
  EXPECT_GE(*drift_psi, 0.0);
  EXPECT_GE(*input_drift_psi, 0.0);
  // Only 1.3.0 carries no reference (its input is another shape), and the log says so once.
  const size_t no_drift = log.find("no drift figures");
  ASSERT_NE(no_drift, std::string::npos) << log;
  EXPECT_EQ(log.find("no drift figures", no_drift + 1), std::string::npos) << log;
  EXPECT_GT(no_drift, log.find("downloaded 1.3.0")) << log;
  EXPECT_LT(no_drift, log.find("running detector 1.3.0")) << log;
  std::cout << "last drift_psi " << *drift_psi << ", input_drift_psi " << *input_drift_psi << "\n";
  // On SIGTERM the last record was buffered and uploaded.
  EXPECT_NE(log.find(", 0 buffered"), std::string::npos) << log;
}

TEST(AgentCommand, UsageErrorsExit2WithOneLine) {
  auto expect_usage = [](const std::vector<std::string>& args, const std::string& message) {
    const outpost::testing::CliResult r = outpost::testing::RunOutpost(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  };
  expect_usage({"agent"}, "A subcommand is required");
  expect_usage({"agent", "run"}, "--dir is required");
  expect_usage({"agent", "run", "--dir", "/tmp", "--max-seconds", "-1"}, "--max-seconds must not be negative");
  expect_usage({"agent", "enroll", "--dir", "/tmp/d", "--server", "ftp://fleet", "--token", "t", "--model", "m",
                "--signing-key", "k.pub", "--pipeline", "p.json"},
               "--server must be an http:// or https:// URL");
  // Not enrolled: an error (exit 1) naming the file.
  const outpost::testing::CliResult r = outpost::testing::RunOutpost({"agent", "run", "--dir", "/nonexistent-device"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "outpost: error: /nonexistent-device/agent.json: cannot read (run 'outpost agent enroll' first?)\n");
}

INSTANTIATE_TEST_SUITE_P(Databases, AgentRunProcessTest, ::testing::Values("sqlite"), fleet::testing::BackendName);

}  // namespace
}  // namespace outpost::agent
