// The rollout controller over SQLite with a simulated fleet: devices follow their desired
// state and send telemetry every simulated minute; the test decides how healthy each version is.
#include "fleet/rollout/rollout_controller.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <thread>

#include "tests/fleet/rollout/fleet_simulation.h"
#include "tests/fleet/store/postgres_fixture.h"

namespace outpost::fleet {
namespace {

using testing::Behaviour;
using testing::SimulatedFleet;

using testing::kMinute;
using testing::kT0;

// The default stages (1/10/50/100%) held 5 minutes each, 10 records to judge.
const char* kFastPlan =
    R"({"stages": [{"percent": 1, "hold_s": 300}, {"percent": 10, "hold_s": 300},
                                      {"percent": 50, "hold_s": 300}, {"percent": 100, "hold_s": 300}],
                           "gates": {"min_records": 10}, "max_wait_s": 1800})";

Behaviour AllHealthy(const Device&) { return {}; }

class RolloutControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fleet.AddModel("m", "1.0.0");
    fleet.AddModel("m", "1.1.0");
    devices = fleet.AddDevices(200, "line-1", "m", "1.0.0", kT0);
  }

  Rollout Find(const std::string& id) {
    std::optional<Rollout> r = SimulatedFleet::Check(fleet.store().FindRollout(id));
    EXPECT_TRUE(r);
    return r.value_or(Rollout{});
  }
  int64_t Members(const std::string& id) {
    return static_cast<int64_t>(SimulatedFleet::Check(fleet.store().ListRolloutMembers(id)).size());
  }

  // Runs simulated minutes until the rollout leaves kRunning or `minutes` pass; returns the
  // last tick's time.
  int64_t Run(RolloutController& controller, const std::string& id, int64_t from_ms, int minutes,
              const std::function<Behaviour(const Device&)>& behaviour) {
    int64_t now = from_ms;
    for (int i = 0; i < minutes; ++i) {
      now += kMinute;
      fleet.FollowDesiredState(now - kMinute / 2);
      fleet.Report(now - kMinute / 4, behaviour);
      Expected<RolloutTickReport> report = controller.Tick(now);
      EXPECT_TRUE(report) << report.message();
      if (report) {
        EXPECT_TRUE(report->errors.empty()) << report->errors.front();
      }
      if (Find(id).state != RolloutState::kRunning) break;
    }
    return now;
  }

  SimulatedFleet fleet;
  std::vector<std::string> devices;
};

TEST_F(RolloutControllerTest, HealthyVersionGoesThroughEveryStageToCompleted) {
  RolloutController controller(fleet.store());
  Expected<Rollout> started = controller.Start("m", "1.1.0", "line-1", kFastPlan, kT0);
  ASSERT_TRUE(started) << started.message();
  EXPECT_EQ(started->baseline_version, "1.0.0");
  EXPECT_EQ(Members(started->id), 2);  // 1% of 200, assigned at once

  std::vector<std::pair<int64_t, int64_t>> stages;  // (stage, members) each time the stage changes
  int64_t now = kT0;
  for (int i = 0; i < 200 && Find(started->id).state == RolloutState::kRunning; ++i) {
    now = Run(controller, started->id, now, 1, AllHealthy);
    const Rollout r = Find(started->id);
    if (stages.empty() || stages.back().first != r.stage)
      stages.emplace_back(r.stage, Members(r.id));
  }
  const Rollout done = Find(started->id);
  ASSERT_EQ(done.state, RolloutState::kCompleted) << done.reason;
  const std::vector<std::pair<int64_t, int64_t>> expected{{0, 2}, {1, 20}, {2, 100}, {3, 200}};
  EXPECT_EQ(stages, expected);
  EXPECT_NE(done.reason.find("stage 3 (100%) passed"), std::string::npos) << done.reason;
  for (const auto& [id, version] : fleet.Desired(devices)) EXPECT_EQ(version, "1.1.0") << id;
  // No stage passed before its hold: 4 stages of 5 minutes at least.
  EXPECT_GE(now - kT0, 4 * 5 * kMinute);
}

TEST_F(RolloutControllerTest, HighCanaryErrorRateHaltsAtStageZeroAndRollsBack) {
  RolloutController controller(fleet.store());
  Expected<Rollout> started = controller.Start("m", "1.1.0", "line-1", kFastPlan, kT0);
  ASSERT_TRUE(started) << started.message();
  Run(controller, started->id, kT0, 60, [](const Device& d) {
    Behaviour b;
    if (d.version == "1.1.0") b.errors = 10;  // 10% errors
    return b;
  });
  const Rollout r = Find(started->id);
  ASSERT_EQ(r.state, RolloutState::kHalted);
  EXPECT_EQ(r.stage, 0);
  EXPECT_NE(r.reason.find("stage 0 (1%) failed: error rate 10.00% > 2.00%"), std::string::npos)
      << r.reason;
  EXPECT_NE(r.reason.find("rolled back"), std::string::npos) << r.reason;
  const auto members = SimulatedFleet::Check(fleet.store().ListRolloutMembers(r.id));
  ASSERT_EQ(members.size(), 2u);
  for (const RolloutMember& m : members) {
    EXPECT_EQ(m.previous_version, "1.0.0");
    EXPECT_EQ(fleet.Desired({m.device_id})[m.device_id], "1.0.0");
  }
  // Nobody else was touched, and a halted rollout is not ticked further.
  int64_t with_desired = 0;
  for (const auto& [id, version] : fleet.Desired(devices)) with_desired += !version.empty();
  EXPECT_EQ(with_desired, 2);
  Expected<RolloutTickReport> again = controller.Tick(kT0 + 120 * kMinute);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->rollouts, 0);
}

TEST_F(RolloutControllerTest, LatencyRegressionHalts) {
  RolloutController controller(fleet.store());
  Expected<Rollout> started = controller.Start("m", "1.1.0", "line-1", kFastPlan, kT0);
  ASSERT_TRUE(started) << started.message();
  Run(controller, started->id, kT0, 60, [](const Device& d) {
    Behaviour b;
    b.latency_p99_ms = d.version == "1.1.0" ? 20 : 10;
    return b;
  });
  const Rollout r = Find(started->id);
  ASSERT_EQ(r.state, RolloutState::kHalted);
  EXPECT_NE(r.reason.find("p99 latency ratio 2.00 (20.0 ms vs baseline 10.0 ms) > 1.25"),
            std::string::npos)
      << r.reason;
}

TEST_F(RolloutControllerTest, MissingAgreementIsNotAppliedButLowAgreementHalts) {
  RolloutController controller(fleet.store());
  Expected<Rollout> started = controller.Start("m", "1.1.0", "line-1", kFastPlan, kT0);
  ASSERT_TRUE(started) << started.message();
  // No shadow agreement reported: stage 0 passes, saying the gate was not applied.
  int64_t now = kT0;
  while (Find(started->id).stage == 0 && now < kT0 + 60 * kMinute)
    now = Run(controller, started->id, now, 1, AllHealthy);
  Rollout r = Find(started->id);
  ASSERT_EQ(r.state, RolloutState::kRunning);
  ASSERT_EQ(r.stage, 1);
  EXPECT_NE(r.reason.find("agreement gate not applied: the canary reports no shadow agreement"),
            std::string::npos)
      << r.reason;
  // From now on the canary reports 80% agreement: stage 1 halts on it.
  Run(controller, started->id, now, 60, [](const Device& d) {
    Behaviour b;
    if (d.version == "1.1.0") b.agreement = 0.8;
    return b;
  });
  r = Find(started->id);
  ASSERT_EQ(r.state, RolloutState::kHalted);
  EXPECT_EQ(r.stage, 1);
  EXPECT_NE(r.reason.find("shadow agreement 80.00% < 95.00%"), std::string::npos) << r.reason;
  for (const auto& [id, version] : fleet.Desired(devices)) EXPECT_NE(version, "1.1.0") << id;
}

TEST_F(RolloutControllerTest, SilentCanaryWaitsThenHaltsAfterMaxWait) {
  RolloutController controller(fleet.store());
  // on_failure "halt": the cohort stays on the new version.
  Expected<Rollout> started = controller.Start(
      "m", "1.1.0", "line-1",
      R"({"stages": [{"percent": 10, "hold_s": 300}, {"percent": 100}], "max_wait_s": 600, "on_failure": "halt"})",
      kT0);
  ASSERT_TRUE(started) << started.message();
  auto silent_canary = [](const Device& d) {
    Behaviour b;
    b.silent = d.version == "1.1.0";
    return b;
  };
  // Hold (5 min) plus max_wait (10 min): still waiting at 14 minutes, halted by 15.
  int64_t now = Run(controller, started->id, kT0, 14, silent_canary);
  Rollout r = Find(started->id);
  EXPECT_EQ(r.state, RolloutState::kRunning);
  Expected<StageStatus> status = controller.Status(r, now);
  ASSERT_TRUE(status) << status.message();
  EXPECT_EQ(status->gate.verdict, GateVerdict::kWait);
  EXPECT_EQ(status->members, 20);
  EXPECT_GT(status->baseline.records, 0);
  Run(controller, started->id, now, 1, silent_canary);
  r = Find(started->id);
  ASSERT_EQ(r.state, RolloutState::kHalted);
  EXPECT_NE(
      r.reason.find("too little telemetry within max_wait_s 600 s: canary has 0 telemetry records"),
      std::string::npos)
      << r.reason;
  EXPECT_EQ(r.reason.find("rolled back"), std::string::npos) << r.reason;
  int64_t on_new = 0;
  for (const auto& [id, version] : fleet.Desired(devices)) on_new += version == "1.1.0";
  EXPECT_EQ(on_new, 20);
}

TEST_F(RolloutControllerTest, PauseResumeAndAbortByHand) {
  RolloutController controller(fleet.store());
  Expected<Rollout> started = controller.Start("m", "1.1.0", "line-1", kFastPlan, kT0);
  ASSERT_TRUE(started) << started.message();
  Expected<Rollout> paused =
      controller.Pause(started->id, "line stopped for maintenance", kT0 + kMinute);
  ASSERT_TRUE(paused) << paused.message();
  EXPECT_EQ(paused->state, RolloutState::kPaused);
  EXPECT_EQ(paused->reason, "paused: line stopped for maintenance");
  EXPECT_FALSE(controller.Pause(started->id, "again", kT0 + kMinute));
  // AllHealthy telemetry every 10 minutes for an hour: a paused rollout does not move.
  for (int i = 1; i <= 6; ++i) {
    fleet.FollowDesiredState(kT0 + i * 10 * kMinute - 1000);
    fleet.Report(kT0 + i * 10 * kMinute - 500, AllHealthy);
    ASSERT_TRUE(controller.Tick(kT0 + i * 10 * kMinute));
  }
  EXPECT_EQ(Find(started->id).state, RolloutState::kPaused);
  EXPECT_EQ(Find(started->id).stage, 0);

  Expected<Rollout> resumed =
      controller.Resume(started->id, "maintenance done", kT0 + 60 * kMinute);
  ASSERT_TRUE(resumed) << resumed.message();
  EXPECT_EQ(resumed->state, RolloutState::kRunning);
  EXPECT_EQ(resumed->stage_started_ms, kT0);  // the stage's clock kept running
  ASSERT_TRUE(controller.Tick(kT0 + 60 * kMinute));
  EXPECT_EQ(Find(started->id).stage, 1);  // an hour of healthy data: passes at once

  Expected<Rollout> aborted =
      controller.Abort(started->id, "wrong model uploaded", kT0 + 61 * kMinute);
  ASSERT_TRUE(aborted) << aborted.message();
  EXPECT_EQ(aborted->state, RolloutState::kAborted);
  EXPECT_NE(aborted->reason.find("aborted: wrong model uploaded"), std::string::npos);
  EXPECT_EQ(Members(started->id), 20);
  for (const auto& [id, version] : fleet.Desired(devices)) EXPECT_NE(version, "1.1.0") << id;
  Expected<Rollout> again = controller.Abort(started->id, "again", kT0 + 62 * kMinute);
  ASSERT_FALSE(again);
  EXPECT_NE(again.message().find("is aborted"), std::string::npos) << again.message();
  EXPECT_FALSE(controller.Resume(started->id, "", kT0 + 62 * kMinute));
  EXPECT_FALSE(controller.Pause("r-0000000000000000", "", kT0));
}

TEST_F(RolloutControllerTest, StartRefusals) {
  RolloutController controller(fleet.store());
  Expected<Rollout> r = controller.Start("m", "2.0.0", "line-1", "", kT0);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("not in the registry"), std::string::npos) << r.message();
  r = controller.Start("m", "1.1.0", "line-9", "", kT0);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("no device in group 'line-9'"), std::string::npos) << r.message();
  r = controller.Start("m", "1.1.0", "line-1", R"({"stages": [{"percent": 50}]})", kT0);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("must reach 100"), std::string::npos) << r.message();
  ASSERT_TRUE(controller.Start("m", "1.1.0", "line-1", "", kT0));
  r = controller.Start("m", "1.1.0", "line-1", "", kT0);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("already running in group 'line-1'"), std::string::npos)
      << r.message();
}

TEST_F(RolloutControllerTest, BaselineIsTheVersionMostDevicesRun) {
  fleet.AddModel("m", "0.9.0");
  fleet.AddDevices(300, "line-2", "m", "0.9.0", kT0);
  fleet.AddDevices(5, "line-2", "other", "0.9.0", kT0);
  RolloutController controller(fleet.store());
  Expected<Rollout> r = controller.Start("m", "1.1.0", "", "", kT0);  // the whole fleet
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r->baseline_version, "0.9.0");
  EXPECT_EQ(Members(r->id), 5);  // 1% of the 500 devices running m
  Expected<StageStatus> status = controller.Status(*r, kT0);
  ASSERT_TRUE(status) << status.message();
  EXPECT_EQ(status->eligible, 500);
}

// Two server processes: two stores on one database, two controllers ticking at the same
// moments from two threads. Each stage is passed by exactly one of them.
void TwoControllersAdvanceEachStageOnce(const std::string& url) {
  SimulatedFleet fleet(url);
  Expected<std::unique_ptr<FleetStore>> other = FleetStore::Open(url);
  ASSERT_TRUE(other) << other.message();
  fleet.AddModel("m", "1.0.0");
  fleet.AddModel("m", "1.1.0");
  fleet.AddDevices(100, "", "m", "1.0.0", kT0);
  RolloutController a(fleet.store()), b(**other);
  Expected<Rollout> started = a.Start("m", "1.1.0", "", kFastPlan, kT0);
  ASSERT_TRUE(started) << started.message();

  RolloutTickReport total;
  int64_t last_stage = 0;
  for (int i = 1; i <= 200; ++i) {
    const int64_t now = kT0 + i * kMinute;
    fleet.FollowDesiredState(now - kMinute / 2);
    fleet.Report(now - kMinute / 4, AllHealthy);
    Expected<RolloutTickReport> ra = Error("not run"), rb = Error("not run");
    std::thread ta([&] { ra = a.Tick(now); });
    std::thread tb([&] { rb = b.Tick(now); });
    ta.join();
    tb.join();
    ASSERT_TRUE(ra) << ra.message();
    ASSERT_TRUE(rb) << rb.message();
    for (const RolloutTickReport* r : {&*ra, &*rb}) {
      EXPECT_TRUE(r->errors.empty()) << r->errors.front();
      total.advanced += r->advanced;
      total.completed += r->completed;
      total.halted += r->halted;
      total.members_added += r->members_added;
    }
    std::optional<Rollout> r = SimulatedFleet::Check(fleet.store().FindRollout(started->id));
    ASSERT_TRUE(r);
    EXPECT_LE(r->stage - last_stage, 1) << "a stage was skipped at minute " << i;
    last_stage = r->stage;
    if (r->state != RolloutState::kRunning) break;
  }
  std::optional<Rollout> r = SimulatedFleet::Check(fleet.store().FindRollout(started->id));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, RolloutState::kCompleted) << r->reason;
  EXPECT_EQ(total.advanced, 3);
  EXPECT_EQ(total.completed, 1);
  EXPECT_EQ(total.halted, 0);
  EXPECT_EQ(total.members_added, 100 - 1);  // Start assigned the first one
  EXPECT_EQ(SimulatedFleet::Check(fleet.store().ListRolloutMembers(started->id)).size(), 100u);
}

TEST(RolloutControllerConcurrency, TwoControllersAdvanceEachStageOnceOnSqlite) {
  const std::string path =
      ::testing::TempDir() + "rollout_concurrency_" + std::to_string(::getpid()) + ".db";
  std::remove(path.c_str());
  TwoControllersAdvanceEachStageOnce("sqlite:" + path);
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}

TEST(RolloutControllerConcurrency, TwoControllersAdvanceEachStageOnceOnPostgres) {
  Expected<std::string> url = testing::CreateTemporaryPostgresDatabase();
  ASSERT_TRUE(url) << url.message();
  TwoControllersAdvanceEachStageOnce(*url);
}

}  // namespace
}  // namespace outpost::fleet
