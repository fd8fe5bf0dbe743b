// The fleet end to end: scripts/fleet_demo.sh runs a fleet server and two `outpost agent run`
// processes on loopback, rolls 1.1.0 out as a canary and halts the bad 1.2.0. The script checks
// its own steps; this test then reads what the run left behind (the server's SQLite database
// and the device directories), not what the script printed, and checks the outcome itself:
// both devices on 1.1.0, the canary updated by delta before the other device, the 1.2.0 rollout
// halted by its agreement gate with the canary rolled back and the other device never touching
// 1.2.0, and every device's telemetry arriving once, in order.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "fleet/store/sql_database.h"
#include "tests/cli/cli_runner.h"

namespace outpost::agent {
namespace {

nlohmann::json ReadJsonFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return nlohmann::json::parse(s.str(), nullptr, false);
}

struct DemoTelemetry {
  int64_t seq = 0;
  std::string version;
  nlohmann::json body;
};

class FleetDemoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/outpost-fleet-demo-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    work_ = pattern;
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(work_);  // kept for a look when it failed
  }

  // One column of text per row.
  std::vector<std::vector<std::string>> Query(const std::string& sql, const std::vector<std::string>& params = {}) {
    std::vector<std::vector<std::string>> out;
    std::vector<fleet::SqlValue> values(params.begin(), params.end());
    auto rows = db_->Execute(sql, values);
    EXPECT_TRUE(rows.ok()) << sql << ": " << rows.message();
    if (!rows.ok()) return out;
    for (const auto& row : rows->rows) {
      std::vector<std::string> r;
      for (size_t i = 0; i < row.cells.size(); ++i) r.push_back(row.text(i));
      out.push_back(r);
    }
    return out;
  }
  // The device's records in the order the server stored them.
  std::vector<DemoTelemetry> Telemetry(const std::string& device) {
    std::vector<DemoTelemetry> out;
    for (const auto& r : Query("SELECT seq, version, body_json FROM telemetry WHERE device_id = ? ORDER BY rowid", {device}))
      out.push_back({std::stoll(r[0]), r[1], nlohmann::json::parse(r[2])});
    return out;
  }
  static std::vector<std::string> Events(const std::vector<DemoTelemetry>& records) {
    std::vector<std::string> out;
    for (const DemoTelemetry& t : records)
      if (t.body.contains("events"))
        for (const auto& e : t.body["events"]) out.push_back(e.get<std::string>());
    return out;
  }

  std::string work_;
  std::unique_ptr<fleet::SqlDatabase> db_;
};

TEST_F(FleetDemoTest, CanaryByDeltaThenBadVersionHaltedAndRolledBack) {
  const outpost::testing::CliResult run = outpost::testing::RunProgram(
      {"/bin/bash", std::string(OUTPOST_SOURCE_DIR) + "/scripts/fleet_demo.sh", "--work", work_ + "/demo", "--json",
       work_ + "/summary.json", "--outpost", OUTPOST_BIN});
  std::cout << run.out;
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;

  // From the summary only the locations: every fact below comes from the run's own files.
  const nlohmann::json summary = ReadJsonFile(work_ + "/summary.json");
  ASSERT_TRUE(summary.is_object());
  std::map<std::string, std::string> dir_of;  // device id -> device directory
  for (const auto& d : summary["devices"]) dir_of[d["id"].get<std::string>()] = d["dir"].get<std::string>();
  ASSERT_EQ(dir_of.size(), 2u);
  auto db = fleet::OpenSqlDatabase("sqlite:" + summary["fleet_data"].get<std::string>() + "/fleet.db");
  ASSERT_TRUE(db.ok()) << db.message();
  db_ = std::move(*db);

  // Both devices run 1.1.0, by the server's record and by their own state.
  const auto devices = Query("SELECT id, version, model FROM devices ORDER BY id");
  ASSERT_EQ(devices.size(), 2u);
  for (const auto& d : devices) {
    EXPECT_EQ(d[1], "1.1.0") << d[0];
    EXPECT_EQ(d[2], "classifier");
    ASSERT_TRUE(dir_of.count(d[0])) << d[0];
    const nlohmann::json state = ReadJsonFile(dir_of[d[0]] + "/state.json");
    EXPECT_EQ(state.value("committed_version", ""), "1.1.0") << d[0];
    EXPECT_EQ(state.value("state", ""), "check") << d[0];
  }
  std::map<std::string, int64_t> counter;
  for (const auto& v : Query("SELECT version, counter FROM model_versions WHERE name = 'classifier'"))
    counter[v[0]] = std::stoll(v[1]);
  ASSERT_EQ(counter.size(), 3u);

  // The 1.1.0 rollout completed, one stage after the other: the canary joined in stage 0,
  // before the other device joined in stage 1.
  const auto r1 = Query("SELECT id, state, stage, baseline_version FROM rollouts WHERE version = '1.1.0'");
  ASSERT_EQ(r1.size(), 1u);
  EXPECT_EQ(r1[0][1], "completed");
  EXPECT_EQ(r1[0][2], "1");
  EXPECT_EQ(r1[0][3], "1.0.0");
  const auto m1 = Query("SELECT device_id, stage, assigned_ms, previous_version FROM rollout_members "
                        "WHERE rollout_id = ? ORDER BY stage",
                        {r1[0][0]});
  ASSERT_EQ(m1.size(), 2u);
  EXPECT_EQ(m1[0][1], "0");
  EXPECT_EQ(m1[1][1], "1");
  EXPECT_LT(std::stoll(m1[0][2]), std::stoll(m1[1][2]));
  EXPECT_EQ(m1[0][3], "1.0.0");
  EXPECT_EQ(m1[1][3], "1.0.0");
  const std::string canary = m1[0][0];
  const std::string other = m1[1][0];

  // The canary installed 1.1.0 from a delta, a small share of the package, and the server sent
  // it one.
  const std::vector<DemoTelemetry> canary_records = Telemetry(canary);
  const std::vector<std::string> canary_events = Events(canary_records);
  int64_t delta_bytes = -1;
  const std::string prefix = "downloaded 1.1.0: delta of ";
  for (const std::string& e : canary_events)
    if (e.rfind(prefix, 0) == 0 && e.ends_with(" bytes from 1.0.0")) delta_bytes = std::stoll(e.substr(prefix.size()));
  ASSERT_GT(delta_bytes, 0) << "no delta download of 1.1.0 in the canary's telemetry";
  const auto size_110 = Query("SELECT size FROM model_versions WHERE name = 'classifier' AND version = '1.1.0'");
  ASSERT_EQ(size_110.size(), 1u);
  EXPECT_LT(delta_bytes * 10, std::stoll(size_110[0][0]));
  EXPECT_FALSE(Query("SELECT bytes FROM transfers WHERE device_id = ? AND kind = 'delta'", {canary}).empty());
  std::cout << "delta 1.0.0 -> 1.1.0: " << delta_bytes << " bytes, package " << size_110[0][0] << " bytes\n";

  // The 1.2.0 rollout: halted in its first stage by the agreement gate, its only member (the
  // same canary, ranked first again by this rollout's hash or not) ordered back to 1.1.0.
  const auto r2 = Query("SELECT id, state, stage, reason FROM rollouts WHERE version = '1.2.0'");
  ASSERT_EQ(r2.size(), 1u);
  EXPECT_EQ(r2[0][1], "halted");
  EXPECT_EQ(r2[0][2], "0");
  EXPECT_NE(r2[0][3].find("shadow agreement"), std::string::npos) << r2[0][3];
  EXPECT_NE(r2[0][3].find("rolled back"), std::string::npos) << r2[0][3];
  const auto m2 = Query("SELECT device_id, stage, previous_version FROM rollout_members WHERE rollout_id = ?", {r2[0][0]});
  ASSERT_EQ(m2.size(), 1u);
  EXPECT_EQ(m2[0][1], "0");
  EXPECT_EQ(m2[0][2], "1.1.0");
  const std::string bad_canary = m2[0][0];
  const std::string bad_other = bad_canary == canary ? other : canary;
  const auto desired = Query("SELECT version FROM desired_state WHERE device_id = ?", {bad_canary});
  ASSERT_EQ(desired.size(), 1u);
  EXPECT_EQ(desired[0][0], "1.1.0");

  // That canary ran 1.2.0 (records with inferences, agreement with 1.1.0 near zero), and
  // afterwards 1.1.0 again; it had committed 1.2.0 on its own (its anti-rollback counter is
  // 1.2.0's), so only the server's signed rollback order let it go back below that counter.
  const std::vector<DemoTelemetry> bad_records = bad_canary == canary ? canary_records : Telemetry(bad_canary);
  bool ran_bad = false, back_after_bad = false;
  std::optional<double> bad_agreement;
  for (const DemoTelemetry& t : bad_records) {
    if (t.version == "1.2.0" && t.body.value("inferences", 0) > 0) ran_bad = true;
    if (t.version == "1.2.0" && t.body.contains("agreement")) bad_agreement = t.body["agreement"].get<double>();
    if (ran_bad && t.version == "1.1.0" && t.body.value("inferences", 0) > 0) back_after_bad = true;
  }
  EXPECT_TRUE(ran_bad);
  EXPECT_TRUE(back_after_bad);
  ASSERT_TRUE(bad_agreement.has_value());
  EXPECT_LT(*bad_agreement, 0.5);
  ASSERT_FALSE(bad_records.empty());
  EXPECT_EQ(bad_records.back().version, "1.1.0");
  const nlohmann::json bad_state = ReadJsonFile(dir_of[bad_canary] + "/state.json");
  EXPECT_EQ(bad_state.value("highest_committed_counter", int64_t{0}), counter["1.2.0"]);

  // The other device never ran, downloaded or was offered 1.2.0.
  const std::vector<DemoTelemetry> other_records = Telemetry(bad_other);
  for (const DemoTelemetry& t : other_records) EXPECT_NE(t.version, "1.2.0");
  for (const std::string& e : Events(other_records)) EXPECT_EQ(e.find("1.2.0"), std::string::npos) << e;
  const nlohmann::json other_state = ReadJsonFile(dir_of[bad_other] + "/state.json");
  EXPECT_EQ(other_state.value("highest_committed_counter", int64_t{0}), counter["1.1.0"]);

  // Each device's records arrived once and in order: seq 1, 2, 3, ... in the order stored, and
  // nothing was left in a device's buffer at the end.
  for (const auto& [device, dir] : dir_of) {
    const std::vector<DemoTelemetry> records = Telemetry(device);
    ASSERT_GT(records.size(), 10u) << device;
    for (size_t i = 0; i < records.size(); ++i) EXPECT_EQ(records[i].seq, static_cast<int64_t>(i + 1)) << device;
    std::ifstream out(dir + "/agent.out");
    std::stringstream s;
    s << out.rdbuf();
    EXPECT_NE(s.str().find(", 0 buffered"), std::string::npos) << device << ": " << s.str();
  }
}

}  // namespace
}  // namespace outpost::agent
