// Alert evaluation over SQLite with a simulated fleet, and webhook delivery to a real HTTP
// server on loopback.
#include "fleet/rollout/alert_evaluator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "tests/fleet/rollout/fleet_simulation.h"
#include "tests/support/loopback_http_server.h"

namespace outpost::fleet {
namespace {

using testing::Behaviour;
using testing::SimulatedFleet;

using testing::kMinute;
using testing::kT0;

// An HTTP server on 127.0.0.1 that answers 500 to its first `failures` requests, 200 after.
class Receiver {
 public:
  explicit Receiver(int failures = 0) : failures_(failures) {
    http_.server().Post("/alerts", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      ++requests_;
      if (requests_ <= failures_) {
        res.status = 500;
        return;
      }
      accepted_.push_back(nlohmann::json::parse(req.body));
      res.status = 200;
    });
    http_.Start();
  }
  ~Receiver() { http_.Stop(); }
  std::string url() const { return http_.url("/alerts"); }
  int requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<nlohmann::json> accepted() {
    std::lock_guard<std::mutex> lock(mu_);
    return accepted_;
  }

 private:
  outpost::testing::LoopbackHttpServer http_;
  std::mutex mu_;
  int failures_;
  int requests_ = 0;
  std::vector<nlohmann::json> accepted_;
};

class AlertEvaluatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fleet.AddModel("m", "1.0.0");
    fleet.AddModel("m", "1.1.0");
    devices = fleet.AddDevices(10, "line-1", "m", "1.1.0", kT0);
  }

  std::string AddRule(const std::string& rule_json) {
    Expected<AlertRuleSpec> spec = ParseAlertRule(rule_json);
    EXPECT_TRUE(spec) << spec.message();
    AlertRule rule;
    rule.id = "a-" + std::to_string(1000000000000000 + ++rules_);
    rule.name = spec ? spec->name : "";
    rule.rule_json = rule_json;
    rule.created_ms = kT0;
    SimulatedFleet::Check(fleet.store().AddAlertRule(rule));
    return rule.id;
  }

  std::vector<Alert> Open() { return SimulatedFleet::Check(fleet.store().ListAlerts(true)); }
  std::vector<Alert> All() { return SimulatedFleet::Check(fleet.store().ListAlerts(false)); }

  AlertTickReport Tick(AlertEvaluator& evaluator, int64_t now) {
    Expected<AlertTickReport> report = evaluator.Tick(now);
    EXPECT_TRUE(report) << report.message();
    return report ? *report : AlertTickReport{};
  }

  SimulatedFleet fleet;
  std::vector<std::string> devices;
  int rules_ = 0;
};

// A default Behaviour with one field changed.
template <typename T, typename V>
Behaviour With(T Behaviour::*field, V value) {
  Behaviour b;
  b.*field = value;
  return b;
}

struct MetricCase {
  const char* rule;
  Behaviour bad, good;
};

TEST_F(AlertEvaluatorTest, EachTelemetryMetricFiresAndClears) {
  Behaviour hot;
  hot.temperature_c = 85;
  Behaviour cool;
  cool.temperature_c = 60;
  const MetricCase cases[] = {
      {R"({"name":"low agreement","metric":"agreement","op":"<","threshold":0.9,"model":"m","version":"1.1.0"})",
       With(&Behaviour::agreement, 0.8), With(&Behaviour::agreement, 0.97)},
      {R"({"name":"errors","metric":"error_rate","op":">","threshold":0.05,"model":"m","version":"1.1.0"})",
       With(&Behaviour::errors, 10), With(&Behaviour::errors, 1)},
      {R"({"name":"drift","metric":"drift_psi","op":">=","threshold":0.2,"model":"m","version":"1.1.0"})",
       With(&Behaviour::drift_psi, 0.3), With(&Behaviour::drift_psi, 0.1)},
      {R"({"name":"slow","metric":"latency_p99_ms","op":">","threshold":50,"model":"m","version":"1.1.0"})",
       With(&Behaviour::latency_p99_ms, 80), With(&Behaviour::latency_p99_ms, 20)},
      {R"({"name":"hot","metric":"temperature_c","op":">","threshold":70,"model":"m","version":"1.1.0"})",
       hot, cool},
  };
  int64_t now = kT0;
  RolloutController controller(fleet.store());
  AlertEvaluator evaluator(fleet.store(), controller, "");
  for (const MetricCase& c : cases) {
    SCOPED_TRACE(c.rule);
    const std::string rule = AddRule(c.rule);
    // Bad for one window: the alert opens on the version.
    now += 20 * kMinute;  // past the previous case's telemetry (10-minute window)
    fleet.Report(now - kMinute, [&](const Device&) { return c.bad; });
    AlertTickReport report = Tick(evaluator, now);
    EXPECT_EQ(report.opened, 1);
    std::vector<Alert> open = Open();
    ASSERT_EQ(open.size(), 1u);
    EXPECT_EQ(open[0].rule_id, rule);
    EXPECT_EQ(open[0].subject, "m@1.1.0");
    EXPECT_NE(open[0].message.find("m@1.1.0"), std::string::npos) << open[0].message;
    // Good for the next window: it resolves.
    now += 20 * kMinute;
    fleet.Report(now - kMinute, [&](const Device&) { return c.good; });
    report = Tick(evaluator, now);
    EXPECT_EQ(report.resolved, 1);
    EXPECT_EQ(report.opened, 0);
    EXPECT_TRUE(Open().empty());
    ASSERT_TRUE(SimulatedFleet::Check(fleet.store().DeleteAlertRule(rule)));
  }
}

TEST_F(AlertEvaluatorTest, OfflineDeviceFiresPerDeviceAndClearsWhenSeen) {
  AddRule(R"({"name":"offline","metric":"offline_minutes","op":">","threshold":30})");
  RolloutController controller(fleet.store());
  AlertEvaluator evaluator(fleet.store(), controller, "");
  EXPECT_EQ(Tick(evaluator, kT0 + 10 * kMinute).opened, 0);
  // Everyone but devices[3] checks in at 35 minutes; at 40 minutes it has been gone 40.
  for (size_t i = 0; i < devices.size(); ++i)
    if (i != 3)
      SimulatedFleet::Check(
          fleet.store().RecordDeviceReport(devices[i], "m", "1.1.0", "{}", kT0 + 35 * kMinute));
  AlertTickReport report = Tick(evaluator, kT0 + 40 * kMinute);
  EXPECT_EQ(report.opened, 1);
  std::vector<Alert> open = Open();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].subject, devices[3]);
  EXPECT_NE(open[0].message.find("offline_minutes 40 > 30"), std::string::npos) << open[0].message;
  EXPECT_NEAR(open[0].value, 40, 1e-9);
  SimulatedFleet::Check(
      fleet.store().RecordDeviceReport(devices[3], "m", "1.1.0", "{}", kT0 + 41 * kMinute));
  report = Tick(evaluator, kT0 + 42 * kMinute);
  EXPECT_EQ(report.resolved, 1);
  EXPECT_TRUE(Open().empty());
}

TEST_F(AlertEvaluatorTest, TooFewRecordsNeitherOpensNorResolves) {
  AddRule(
      R"({"name":"errors","metric":"error_rate","op":">","threshold":0.05,"model":"m","version":"1.1.0",
              "min_records":20})");
  RolloutController controller(fleet.store());
  AlertEvaluator evaluator(fleet.store(), controller, "");
  fleet.Report(kT0 - kMinute,
               [](const Device&) { return With(&Behaviour::errors, 50); });  // 10 records
  EXPECT_EQ(Tick(evaluator, kT0).opened, 0);
  fleet.Report(kT0 - kMinute / 2,
               [](const Device&) { return With(&Behaviour::errors, 50); });  // 20 records
  EXPECT_EQ(Tick(evaluator, kT0).opened, 1);
  // An hour later with no telemetry: no verdict, the alert stays open.
  EXPECT_EQ(Tick(evaluator, kT0 + 60 * kMinute).resolved, 0);
  EXPECT_EQ(Open().size(), 1u);
}

TEST_F(AlertEvaluatorTest, DeletingARuleResolvesItsOpenAlerts) {
  const std::string rule = AddRule(
      R"({"name":"errors","metric":"error_rate","op":">","threshold":0.05,"model":"m","version":"1.1.0"})");
  RolloutController controller(fleet.store());
  AlertEvaluator evaluator(fleet.store(), controller, "");
  fleet.Report(kT0 - kMinute, [](const Device&) { return With(&Behaviour::errors, 10); });
  EXPECT_EQ(Tick(evaluator, kT0).opened, 1);
  ASSERT_TRUE(SimulatedFleet::Check(fleet.store().DeleteAlertRule(rule)));
  EXPECT_EQ(Tick(evaluator, kT0 + 1000).resolved, 1);
  EXPECT_TRUE(Open().empty());
}

TEST_F(AlertEvaluatorTest, WithoutAVersionEachVersionIsItsOwnSubject) {
  AddRule(R"({"name":"errors","metric":"error_rate","op":">","threshold":0.05,"model":"m"})");
  fleet.AddDevices(5, "line-1", "m", "1.0.0", kT0);
  RolloutController controller(fleet.store());
  AlertEvaluator evaluator(fleet.store(), controller, "");
  fleet.Report(kT0 - kMinute, [](const Device& d) {
    return With(&Behaviour::errors, d.version == "1.0.0" ? 20 : 0);
  });
  EXPECT_EQ(Tick(evaluator, kT0).opened, 1);
  std::vector<Alert> open = Open();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].subject, "m@1.0.0");
}

TEST_F(AlertEvaluatorTest, TwoTicksOneAlert) {
  AddRule(
      R"({"name":"errors","metric":"error_rate","op":">","threshold":0.05,"model":"m","version":"1.1.0"})");
  RolloutController controller(fleet.store());
  AlertEvaluator first(fleet.store(), controller, ""), second(fleet.store(), controller, "");
  fleet.Report(kT0 - kMinute, [](const Device&) { return With(&Behaviour::errors, 10); });
  EXPECT_EQ(Tick(first, kT0).opened, 1);
  EXPECT_EQ(Tick(first, kT0 + 1000).opened, 0);
  EXPECT_EQ(Tick(second, kT0 + 2000).opened, 0);  // another server process: still one alert
  EXPECT_EQ(All().size(), 1u);
}

TEST_F(AlertEvaluatorTest, DeliversNewAlertsToTheWebhook) {
  Receiver receiver;
  AddRule(
      R"({"name":"errors","metric":"error_rate","op":">","threshold":0.05,"model":"m","version":"1.1.0"})");
  RolloutController controller(fleet.store());
  AlertEvaluator evaluator(fleet.store(), controller, receiver.url());
  fleet.Report(kT0 - kMinute, [](const Device&) { return With(&Behaviour::errors, 10); });
  AlertTickReport report = Tick(evaluator, kT0);
  EXPECT_EQ(report.opened, 1);
  EXPECT_EQ(report.delivered, 1);
  EXPECT_EQ(report.undelivered, 0);
  const std::vector<nlohmann::json> got = receiver.accepted();
  ASSERT_EQ(got.size(), 1u);
  const std::vector<Alert> all = All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all[0].delivered);
  EXPECT_EQ(got[0]["id"], all[0].id);
  EXPECT_EQ(got[0]["rule"], "errors");
  EXPECT_EQ(got[0]["subject"], "m@1.1.0");
  EXPECT_EQ(got[0]["state"], "open");
  EXPECT_NEAR(got[0]["value"].get<double>(), 0.1, 1e-9);
  EXPECT_NE(got[0]["message"].get<std::string>().find(
                "errors: m@1.1.0 error_rate 0.1 > 0.05 (10 records from 10 devices over 600 s)"),
            std::string::npos)
      << got[0].dump();
  // Delivered once: the next tick posts nothing.
  Tick(evaluator, kT0 + 1000);
  EXPECT_EQ(receiver.requests(), 1);
}

TEST_F(AlertEvaluatorTest, AFailingReceiverGetsTheAlertOnALaterTick) {
  Receiver receiver(3);  // 500 to the first three requests
  AddRule(
      R"({"name":"errors","metric":"error_rate","op":">","threshold":0.05,"model":"m","version":"1.1.0"})");
  RolloutController controller(fleet.store());
  AlertEvaluator evaluator(fleet.store(), controller, receiver.url(),
                           WebhookPolicy{.timeout_ms = 2000, .attempts = 2, .backoff_ms = 1});
  fleet.Report(kT0 - kMinute, [](const Device&) { return With(&Behaviour::errors, 10); });
  AlertTickReport report = Tick(evaluator, kT0);
  EXPECT_EQ(report.opened, 1);
  EXPECT_EQ(report.delivered, 0);
  EXPECT_EQ(report.undelivered, 1);
  ASSERT_FALSE(report.errors.empty());
  EXPECT_NE(report.errors[0].find("answered HTTP 500"), std::string::npos) << report.errors[0];
  EXPECT_EQ(receiver.requests(), 2);
  EXPECT_FALSE(All().at(0).delivered);

  report = Tick(evaluator, kT0 + kMinute);  // third request fails, fourth succeeds
  EXPECT_EQ(report.opened, 0);
  EXPECT_EQ(report.delivered, 1);
  EXPECT_EQ(receiver.requests(), 4);
  ASSERT_EQ(receiver.accepted().size(), 1u);
  EXPECT_EQ(receiver.accepted()[0]["id"], All().at(0).id);
  EXPECT_TRUE(All().at(0).delivered);
}

TEST_F(AlertEvaluatorTest, AnUnreachableWebhookLosesNothing) {
  std::string url;
  {
    Receiver gone;
    url = gone.url();
  }  // nothing listens on its port any more
  AddRule(
      R"({"name":"errors","metric":"error_rate","op":">","threshold":0.05,"model":"m","version":"1.1.0"})");
  RolloutController controller(fleet.store());
  AlertEvaluator evaluator(fleet.store(), controller, url,
                           WebhookPolicy{.timeout_ms = 500, .attempts = 1, .backoff_ms = 1});
  fleet.Report(kT0 - kMinute, [](const Device&) { return With(&Behaviour::errors, 10); });
  AlertTickReport report = Tick(evaluator, kT0);
  EXPECT_EQ(report.undelivered, 1);
  EXPECT_FALSE(All().at(0).delivered);
}

TEST_F(AlertEvaluatorTest, AnAlertActionStartsARollout) {
  Receiver receiver;
  AddRule(
      R"({"name":"low agreement","metric":"agreement","op":"<","threshold":0.9,"model":"m","version":"1.1.0",
              "then_rollout":{"model":"m","version":"1.0.0","plan":{"stages":[{"percent":100,"hold_s":0}]}}})");
  RolloutController controller(fleet.store());
  AlertEvaluator evaluator(fleet.store(), controller, receiver.url());
  fleet.Report(kT0 - kMinute, [](const Device&) { return With(&Behaviour::agreement, 0.7); });
  AlertTickReport report = Tick(evaluator, kT0);
  EXPECT_TRUE(report.errors.empty()) << report.errors.front();
  EXPECT_EQ(report.opened, 1);
  ASSERT_EQ(report.rollouts_started.size(), 1u);
  std::optional<Rollout> r =
      SimulatedFleet::Check(fleet.store().FindRollout(report.rollouts_started[0]));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->version, "1.0.0");
  EXPECT_EQ(r->baseline_version, "1.1.0");
  EXPECT_EQ(r->state, RolloutState::kRunning);
  for (const auto& [id, version] : fleet.Desired(devices)) EXPECT_EQ(version, "1.0.0") << id;
  ASSERT_EQ(receiver.accepted().size(), 1u);
  EXPECT_EQ(receiver.accepted()[0]["action"], "started rollout " + r->id + " of m 1.0.0");
  // Still firing on the next tick: no second alert, no second rollout.
  fleet.Report(kT0 + kMinute / 2, [](const Device&) { return With(&Behaviour::agreement, 0.7); });
  report = Tick(evaluator, kT0 + kMinute);
  EXPECT_EQ(report.opened, 0);
  EXPECT_TRUE(report.rollouts_started.empty());
  EXPECT_EQ(SimulatedFleet::Check(fleet.store().ListRollouts(false)).size(), 1u);
}

TEST_F(AlertEvaluatorTest, AnActionSupersedesARolloutOfAnotherVersion) {
  fleet.AddModel("m", "1.2.0");
  RolloutController controller(fleet.store());
  Expected<Rollout> running = controller.Start("m", "1.2.0", "line-1", "", kT0 - 10 * kMinute);
  ASSERT_TRUE(running) << running.message();
  AddRule(
      R"({"name":"errors","metric":"error_rate","op":">","threshold":0.05,"model":"m","version":"1.1.0",
              "then_rollout":{"model":"m","version":"1.0.0","group":"line-1"}})");
  AlertEvaluator evaluator(fleet.store(), controller, "");
  fleet.Report(kT0 - kMinute, [](const Device&) { return With(&Behaviour::errors, 10); });
  AlertTickReport report = Tick(evaluator, kT0);
  EXPECT_TRUE(report.errors.empty()) << report.errors.front();
  ASSERT_EQ(report.rollouts_started.size(), 1u);
  std::optional<Rollout> old = SimulatedFleet::Check(fleet.store().FindRollout(running->id));
  ASSERT_TRUE(old);
  EXPECT_EQ(old->state, RolloutState::kAborted);
  EXPECT_NE(old->reason.find("superseded by alert 'errors'"), std::string::npos) << old->reason;
}

TEST_F(AlertEvaluatorTest, AnUnreadableRuleIsReportedAndTheOthersRun) {
  AlertRule bad;
  bad.id = "a-bad";
  bad.name = "bad";
  bad.rule_json = R"({"name":"bad","metric":"nonsense","op":"<","threshold":1})";
  SimulatedFleet::Check(fleet.store().AddAlertRule(bad));
  AddRule(
      R"({"name":"errors","metric":"error_rate","op":">","threshold":0.05,"model":"m","version":"1.1.0"})");
  RolloutController controller(fleet.store());
  AlertEvaluator evaluator(fleet.store(), controller, "");
  fleet.Report(kT0 - kMinute, [](const Device&) { return With(&Behaviour::errors, 10); });
  AlertTickReport report = Tick(evaluator, kT0);
  EXPECT_EQ(report.opened, 1);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_NE(report.errors[0].find("unknown metric \"nonsense\""), std::string::npos)
      << report.errors[0];
}

}  // namespace
}  // namespace outpost::fleet
