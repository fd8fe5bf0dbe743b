// Two `outpost fleet serve` processes on one PostgreSQL database and one data directory, as a
// deployment behind a load balancer runs them: started at the same moment (both create the
// schema), then used interchangeably. A device enrolled through one polls through the other;
// telemetry sent to both at once, with retries to both, is stored exactly once; a package
// uploaded to one downloads from the other; a staged rollout started through one is moved along
// by both servers' background ticks, each stage exactly once; and when one server is killed
// the other carries on alone.
#include <signal.h>

#include <array>
#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "tests/fleet/server/serve_process.h"
#include "tests/fleet/store/postgres_fixture.h"
#include "tests/io/test_models.h"
#include "tests/package/package_fixtures.h"

namespace outpost::fleet::testing {
namespace {

std::string Bytes(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

class TwoServersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = outpost::testing::MakeTempDir(std::string("fleet_two_servers_") +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    WriteServerFiles(dir_, keys_);
    Expected<std::string> url = CreateTemporaryPostgresDatabase();
    ASSERT_TRUE(url.ok()) << url.message();
    db_url_ = *url;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::vector<std::string> Args() const {
    return {"--data",    dir_ + "/data", "--admin-token-file", dir_ + "/admin-token", "--signing-key",
            dir_ + "/fleet.pub", "--db", db_url_, "--listen", "127.0.0.1:0", "--threads", "4",
            "--tick-ms", "20"};
  }

  // Both processes are spawned before either is waited for: their start-ups overlap.
  void StartBoth(ServeProcess& a, ServeProcess& b) {
    a.Spawn(Args());
    b.Spawn(Args());
    ASSERT_TRUE(a.WaitUntilListening()) << a.error();
    ASSERT_TRUE(b.WaitUntilListening()) << b.error();
  }

  EnrolledDevice Enroll(const ServeProcess& token_from, const ServeProcess& enroll_at, const std::string& name) {
    Reply token = token_from.Admin("POST", "/v1/enrollment-tokens", {{"group", "line-1"}});
    EXPECT_EQ(token.status, 201) << token.body;
    Reply r = enroll_at.Send("POST", "/v1/enroll", "", nlohmann::json{{"token", token.json["token"]}, {"name", name}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return {r.json.value("device_id", ""), r.json.value("credential", "")};
  }

  // What the device should run ("" when nothing is desired), after reporting `version`.
  std::string Poll(const ServeProcess& at, const EnrolledDevice& d, const std::string& version) {
    Reply r = at.Send("POST", "/v1/device/poll", d.credential,
                      nlohmann::json{{"model", "big_add"}, {"version", version}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json["desired"].is_object() ? r.json["desired"]["version"].get<std::string>() : "";
  }

  std::string dir_, db_url_;
  package::KeyPair keys_ = outpost::testing::TestSigningPair();
};

// The servers' own complaints (failed background ticks, store errors) on stderr.
void ExpectQuietStderr(const ServeProcess& p, const char* which) {
  const std::string err = p.stderr_text();
  EXPECT_EQ(err.find("fleet server:"), std::string::npos) << "server " << which << ":\n" << err;
  EXPECT_EQ(err.find("error"), std::string::npos) << "server " << which << ":\n" << err;
}

TEST_F(TwoServersTest, StartingTogetherOnAFreshDatabaseSucceedsAndBothStopCleanly) {
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    if (round > 0) {
      Expected<std::string> url = CreateTemporaryPostgresDatabase();
      ASSERT_TRUE(url.ok()) << url.message();
      db_url_ = *url;
    }
    ServeProcess a, b;
    StartBoth(a, b);
    if (HasFatalFailure()) return;
    EXPECT_EQ(a.Send("GET", "/healthz", "").status, 200);
    EXPECT_EQ(b.Send("GET", "/healthz", "").status, 200);
    // One schema, recorded once.
    Expected<std::unique_ptr<FleetStore>> store = FleetStore::Open(db_url_, 1);
    ASSERT_TRUE(store.ok()) << store.message();
    Expected<SqlResult> versions = (*store)->db().Execute("SELECT COUNT(*) FROM schema_version");
    ASSERT_TRUE(versions.ok()) << versions.message();
    EXPECT_EQ(versions->rows.at(0).integer(0), 1);
    a.Signal(SIGTERM);
    b.Signal(SIGTERM);
    ASSERT_TRUE(a.WaitForExit());
    ASSERT_TRUE(b.WaitForExit());
    EXPECT_EQ(a.exit_code(), 0) << a.stderr_text();
    EXPECT_EQ(b.exit_code(), 0) << b.stderr_text();
  }
}

TEST_F(TwoServersTest, BothServeOneFleetAndEitherCarriesOnAlone) {
  ServeProcess a, b;
  StartBoth(a, b);
  if (HasFatalFailure()) return;
  const std::array<const ServeProcess*, 2> servers = {&a, &b};

  // The registry: uploaded to A, listed and downloaded from B.
  const std::vector<uint8_t> v1 = SignedPackage("1.0.0", keys_.secret), v2 = SignedPackage("1.1.0", keys_.secret, 8192);
  ASSERT_EQ(a.Send("POST", "/v1/models", kAdminToken, Bytes(v1), "application/octet-stream").status, 201);
  Reply up2 = a.Send("POST", "/v1/models?parent=1.0.0", kAdminToken, Bytes(v2), "application/octet-stream");
  ASSERT_EQ(up2.status, 201) << up2.body;
  const std::string v2_url = up2.json["url"];
  Reply listed = b.Admin("GET", "/v1/models");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.json["models"].size(), 2u);
  // The same version uploaded to B at once is a conflict, not a second entry.
  EXPECT_EQ(b.Send("POST", "/v1/models", kAdminToken, Bytes(v1), "application/octet-stream").status, 409);
  EXPECT_TRUE(b.Send("GET", v2_url, kAdminToken).body == Bytes(v2));

  // Eight devices: token from one server, enrollment and polls through both.
  std::vector<EnrolledDevice> fleet;
  for (int i = 0; i < 8; ++i) {
    const ServeProcess& first = *servers[i % 2];
    const ServeProcess& second = *servers[(i + 1) % 2];
    fleet.push_back(Enroll(first, second, "cam-" + std::to_string(i)));
    EXPECT_EQ(Poll(first, fleet.back(), "1.0.0"), "");
  }
  ASSERT_EQ(a.Admin("GET", "/v1/devices").json["total"], 8);

  // Telemetry: every batch goes to both servers at the same moment, then once more to each
  // (a device retrying after a lost answer, to whichever server the balancer picks).
  constexpr int kBatches = 3, kPerBatch = 20;
  std::atomic<int64_t> inserted{0}, duplicates{0};
  std::atomic<int> failures{0};
  const int64_t t0 = WallClockMs() - 3'600'000;  // an hour ago: outside any rollout window below
  auto send = [&](const ServeProcess& at, const EnrolledDevice& d, const std::string& body) {
    Reply r = at.Send("POST", "/v1/device/telemetry", d.credential, body);
    if (r.status != 200) {
      ++failures;
      return;
    }
    inserted += r.json["inserted"].get<int64_t>();
    duplicates += r.json["duplicates"].get<int64_t>();
  };
  std::vector<std::thread> devices;
  for (const EnrolledDevice& d : fleet) {
    devices.emplace_back([&, d] {
      for (int batch = 0; batch < kBatches; ++batch) {
        nlohmann::json body = {{"records", nlohmann::json::array()}};
        for (int i = 1; i <= kPerBatch; ++i)
          body["records"].push_back(TelemetryJson(batch * kPerBatch + i, t0 + batch * kPerBatch + i, "1.0.0"));
        const std::string text = body.dump();
        std::thread to_b([&] { send(b, d, text); });
        send(a, d, text);
        to_b.join();
        send(b, d, text);
        send(a, d, text);
      }
    });
  }
  for (std::thread& t : devices) t.join();
  const int64_t unique = static_cast<int64_t>(fleet.size()) * kBatches * kPerBatch;
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(inserted.load(), unique);
  EXPECT_EQ(duplicates.load(), 3 * unique);
  Expected<std::unique_ptr<FleetStore>> store = FleetStore::Open(db_url_, 1);
  ASSERT_TRUE(store.ok()) << store.message();
  EXPECT_EQ((*store)->CountTelemetry("").value(), unique);
  for (const EnrolledDevice& d : fleet) EXPECT_EQ((*store)->CountTelemetry(d.id).value(), kBatches * kPerBatch);

  // A staged rollout started through A: 25% (2 devices), 50% (4), 100% (8), no hold; a stage
  // passes once its canary sent 2 records of 1.1.0 since the stage began.
  const nlohmann::json plan = {{"stages", {{{"percent", 25}, {"hold_s", 0}}, {{"percent", 50}, {"hold_s", 0}},
                                           {{"percent", 100}, {"hold_s", 0}}}},
                               {"gates", {{"min_records", 2}}}};
  Reply started = a.Admin("POST", "/v1/rollouts", {{"model", "big_add"}, {"version", "1.1.0"}, {"group", "line-1"}, {"plan", plan}});
  ASSERT_EQ(started.status, 201) << started.body;
  const std::string rollout = started.json["id"];
  EXPECT_EQ(started.json["members"], 2);
  std::map<std::string, int64_t> seq;  // next sequence number per device
  std::map<std::string, std::string> running;  // the version each device runs
  for (const EnrolledDevice& d : fleet) seq[d.id] = kBatches * kPerBatch + 1, running[d.id] = "1.0.0";
  int turn = 0;
  auto next_server = [&]() -> const ServeProcess& {
    const ServeProcess* s = servers[turn++ % 2];
    return s->running() ? *s : b;
  };

  const int expected_members[] = {2, 4, 8};
  for (int stage = 0; stage < 3; ++stage) {
    SCOPED_TRACE("stage " + std::to_string(stage));
    Reply now = next_server().Admin("GET", "/v1/rollouts/" + rollout);
    ASSERT_EQ(now.status, 200) << now.body;
    ASSERT_EQ(now.json["state"], "running") << now.body;
    ASSERT_EQ(now.json["stage"], stage) << now.body;
    EXPECT_EQ(now.json["members"], expected_members[stage]) << now.body;
    const int64_t stage_started = now.json["stage_started_ms"];

    // Before the last stage A is killed: B alone finishes the rollout.
    if (stage == 2) {
      a.Signal(SIGKILL);
      ASSERT_TRUE(a.WaitForExit());
      EXPECT_EQ(a.exit_signal(), SIGKILL);
    }

    // The cohort, as the devices see it: polls through either server offer 1.1.0 to exactly
    // the stage's members. They update and report on the new version, stamped with the
    // stage's start, so these records count for this stage only (the next starts later).
    std::vector<const EnrolledDevice*> cohort;
    for (const EnrolledDevice& d : fleet)
      if (Poll(next_server(), d, running[d.id]) == "1.1.0") cohort.push_back(&d);
    ASSERT_EQ(static_cast<int>(cohort.size()), expected_members[stage]);
    ASSERT_TRUE(WaitFor([&] { return WallClockMs() > stage_started; }));
    for (const EnrolledDevice* d : cohort) {
      running[d->id] = "1.1.0";
      EXPECT_EQ(Poll(next_server(), *d, "1.1.0"), "1.1.0");
      const std::string body =
          nlohmann::json{{"records", {TelemetryJson(seq[d->id]++, stage_started, "1.1.0")}}}.dump();
      for (const ServeProcess* s : servers) {  // the same record to both: counted once
        if (s->running()) {
          EXPECT_EQ(s->Send("POST", "/v1/device/telemetry", d->credential, body).status, 200);
        }
      }
    }

    const std::string want_state = stage == 2 ? "completed" : "running";
    const int want_stage = stage == 2 ? 2 : stage + 1;
    nlohmann::json seen;
    ASSERT_TRUE(WaitFor([&] {
      seen = next_server().Admin("GET", "/v1/rollouts/" + rollout).json;
      return seen.is_object() && (seen["stage"] != stage || seen["state"] != "running");
    })) << "stage " << stage << " never passed: " << seen.dump();
    EXPECT_EQ(seen["state"], want_state) << seen.dump();
    EXPECT_EQ(seen["stage"], want_stage) << seen.dump();
    if (stage < 2) {
      // The next stage has no records of its own yet: it must hold, however many ticks both
      // servers make, and start only once (a second start would move its clock). Nothing to
      // wait for here, so both servers get a few dozen tick periods.
      EXPECT_FALSE(WaitFor(
          [&] {
            const nlohmann::json r = next_server().Admin("GET", "/v1/rollouts/" + rollout).json;
            return r["stage"] != want_stage || r["state"] != "running" ||
                   r["stage_started_ms"] != seen["stage_started_ms"];
          },
          std::chrono::milliseconds(600)))
          << "a stage advanced without telemetry of its own";
    }
  }

  // The stage history in the store: every device joined once, in the stage that took it in.
  std::optional<Rollout> done = (*store)->FindRollout(rollout).value();
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->state, RolloutState::kCompleted);
  EXPECT_EQ(done->stage, 2);
  EXPECT_EQ(done->reason.rfind("stage 2 (100%) passed", 0), 0u) << done->reason;
  std::map<int64_t, int> per_stage;
  std::set<std::string> joined;
  const std::vector<RolloutMember> members = (*store)->ListRolloutMembers(rollout).value();
  for (const RolloutMember& m : members) {
    ++per_stage[m.stage];
    EXPECT_TRUE(joined.insert(m.device_id).second) << m.device_id << " joined twice";
    EXPECT_EQ(m.previous_version, "1.0.0");
  }
  EXPECT_EQ(per_stage, (std::map<int64_t, int>{{0, 2}, {1, 2}, {2, 4}}));
  for (const EnrolledDevice& d : fleet) {
    std::optional<DesiredState> desired = (*store)->GetDesiredState(d.id).value();
    ASSERT_TRUE(desired.has_value());
    EXPECT_EQ(desired->version, "1.1.0");
    EXPECT_EQ(desired->rollout_id, rollout);
  }

  // B alone serves everything: enrollment, polls, telemetry, uploads and downloads.
  EXPECT_EQ(a.Send("GET", "/healthz", "").status, 0);
  const EnrolledDevice late = Enroll(b, b, "cam-late");
  EXPECT_EQ(Poll(b, late, "1.0.0"), "");
  Reply record = b.Send("POST", "/v1/device/telemetry", late.credential,
                        nlohmann::json{{"records", {TelemetryJson(1, WallClockMs(), "1.0.0")}}}.dump());
  EXPECT_EQ(record.json["inserted"], 1) << record.body;
  const std::vector<uint8_t> v3 = SignedPackage("1.2.0", keys_.secret);
  Reply up3 = b.Send("POST", "/v1/models?parent=1.1.0", kAdminToken, Bytes(v3), "application/octet-stream");
  ASSERT_EQ(up3.status, 201) << up3.body;
  EXPECT_TRUE(b.Send("GET", up3.json["url"].get<std::string>(), late.credential).body == Bytes(v3));
  EXPECT_TRUE(b.Send("GET", v2_url, late.credential).body == Bytes(v2));
  EXPECT_EQ(b.Admin("GET", "/v1/devices").json["total"], 9);
  EXPECT_EQ((*store)->CountTelemetry("").value(), unique + 2 + 4 + 8 + 1) << "the rollout's records, each once";

  b.Signal(SIGTERM);
  ASSERT_TRUE(b.WaitForExit());
  EXPECT_EQ(b.exit_code(), 0) << b.stderr_text();
  ExpectQuietStderr(a, "A");
  ExpectQuietStderr(b, "B");
}

}  // namespace
}  // namespace outpost::fleet::testing
