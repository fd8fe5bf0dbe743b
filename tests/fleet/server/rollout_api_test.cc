// Rollouts and alerts through the HTTP API: a staged rollout started by an operator advances
// when its canary is healthy, halts and rolls back when it is not, and can be paused, resumed
// and aborted; alert rules open alerts from device telemetry and deliver them to a webhook.
#include <mutex>

#include "tests/fleet/server/device_fleet.h"
#include "tests/support/loopback_http_server.h"

namespace outpost::fleet::testing {
namespace {

// Two stages (20%, then everyone), each held a minute, judged on at least 2 records.
const nlohmann::json kPlan = nlohmann::json::parse(R"({
  "stages": [{"percent": 20, "hold_s": 60}, {"percent": 100, "hold_s": 60}],
  "gates": {"min_records": 2}, "max_wait_s": 600})");

using RolloutApiTest = DeviceFleetTest;

TEST_P(RolloutApiTest, AHealthyVersionGoesThroughItsStages) {
  const std::vector<EnrolledDevice> devices = Fleet(10);
  Reply started = Admin("POST", "/v1/rollouts", {{"model", "big_add"}, {"version", "1.1.0"}, {"plan", kPlan}});
  ASSERT_EQ(started.status, 201) << started.body;
  const std::string id = started.json["id"];
  EXPECT_EQ(started.json["state"], "running");
  EXPECT_EQ(started.json["baseline_version"], "1.0.0");
  EXPECT_EQ(started.json["stages"], 2);
  EXPECT_EQ(started.json["members"], 2);  // 20% of 10
  EXPECT_EQ(started.json["eligible"], 10);
  EXPECT_EQ(DesiredOn(devices, "1.1.0"), 2);

  // A second rollout of the same model and group while this one runs is a conflict.
  EXPECT_EQ(Admin("POST", "/v1/rollouts", {{"model", "big_add"}, {"version", "1.1.0"}}).status, 409);

  for (int round = 0; round < 3; ++round) {
    Advance(20);
    Report(devices, 0);
  }
  Advance(5);
  ASSERT_TRUE(server_->Tick().ok());
  nlohmann::json r = Rollout(id);
  EXPECT_EQ(r["stage"], 1) << r.dump();
  EXPECT_EQ(r["members"], 10);
  EXPECT_EQ(DesiredOn(devices, "1.1.0"), 10);
  // The list shows the same progress without the stage's health.
  const nlohmann::json listed = Admin("GET", "/v1/rollouts").json["rollouts"][0];
  EXPECT_EQ(listed["members"], 10);
  EXPECT_EQ(listed["eligible"], 10);
  EXPECT_FALSE(listed.contains("status"));

  for (int round = 0; round < 3; ++round) {
    Advance(20);
    Report(devices, 0);
  }
  Advance(5);
  ASSERT_TRUE(server_->Tick().ok());
  r = Rollout(id);
  EXPECT_EQ(r["state"], "completed") << r.dump();
  EXPECT_EQ(r["status"]["gate"]["verdict"], "pass") << r.dump();

  Reply active = Admin("GET", "/v1/rollouts?active=1");
  ASSERT_EQ(active.status, 200);
  EXPECT_TRUE(active.json["rollouts"].empty());
  EXPECT_EQ(Admin("GET", "/v1/rollouts").json["rollouts"].size(), 1u);
}

TEST_P(RolloutApiTest, AFailingCanaryIsHaltedAndRolledBack) {
  const std::vector<EnrolledDevice> devices = Fleet(10);
  Reply started = Admin("POST", "/v1/rollouts", {{"model", "big_add"}, {"version", "1.1.0"}, {"plan", kPlan}});
  ASSERT_EQ(started.status, 201) << started.body;
  const std::string id = started.json["id"];
  for (int round = 0; round < 3; ++round) {
    Advance(20);
    Report(devices, 30);  // 30% of the new version's inferences fail
  }
  Advance(5);
  ASSERT_TRUE(server_->Tick().ok());
  const nlohmann::json r = Rollout(id);
  EXPECT_EQ(r["state"], "halted") << r.dump();
  EXPECT_NE(r["reason"].get<std::string>().find("error rate"), std::string::npos) << r.dump();
  EXPECT_EQ(DesiredOn(devices, "1.1.0"), 0);
  EXPECT_EQ(DesiredOn(devices, "1.0.0"), 2);  // the canary was sent back
}

TEST_P(RolloutApiTest, AnOperatorPausesResumesAndAborts) {
  const std::vector<EnrolledDevice> devices = Fleet(5);
  Reply started = Admin("POST", "/v1/rollouts", {{"model", "big_add"}, {"version", "1.1.0"}, {"plan", kPlan}});
  ASSERT_EQ(started.status, 201) << started.body;
  const std::string id = started.json["id"];

  Reply paused = Admin("POST", "/v1/rollouts/" + id + "/pause", {{"reason", "line maintenance"}});
  ASSERT_EQ(paused.status, 200) << paused.body;
  EXPECT_EQ(paused.json["state"], "paused");
  EXPECT_EQ(paused.json["reason"], "paused: line maintenance");
  EXPECT_EQ(Admin("POST", "/v1/rollouts/" + id + "/pause", {{"reason", "again"}}).status, 409);
  Reply resumed = Admin("POST", "/v1/rollouts/" + id + "/resume");
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_EQ(resumed.json["state"], "running");
  Reply aborted = Admin("POST", "/v1/rollouts/" + id + "/abort", {{"reason", "wrong model"}});
  ASSERT_EQ(aborted.status, 200) << aborted.body;
  EXPECT_EQ(aborted.json["state"], "aborted");
  EXPECT_EQ(DesiredOn(devices, "1.1.0"), 0);

  // Refusals change nothing.
  const std::string before = StateSnapshot();
  EXPECT_EQ(Admin("POST", "/v1/rollouts/" + id + "/resume").status, 409);
  EXPECT_EQ(Admin("POST", "/v1/rollouts/r-0000000000000000/pause").status, 404);
  EXPECT_EQ(Admin("POST", "/v1/rollouts/not-an-id/pause").status, 400);
  EXPECT_EQ(Admin("POST", "/v1/rollouts/" + id + "/pause", {{"reason", ""}}).status, 400);
  EXPECT_EQ(Admin("POST", "/v1/rollouts/" + id + "/pause", {{"why", "x"}}).status, 400);
  EXPECT_EQ(Admin("POST", "/v1/rollouts", {{"model", "big_add"}, {"version", "9.9.9"}}).status, 422);
  EXPECT_EQ(Admin("POST", "/v1/rollouts", {{"model", "big_add"}, {"version", "1.1.0"}, {"plan", {{"stages", 3}}}}).status,
            400);
  EXPECT_EQ(Admin("POST", "/v1/rollouts", {{"model", "big_add"}}).status, 400);
  EXPECT_EQ(Admin("POST", "/v1/rollouts", {{"model", "x'; DROP TABLE rollouts;--"}, {"version", "1.1.0"}}).status, 400);
  EXPECT_EQ(StateSnapshot(), before);
}

// A webhook receiver on loopback, started before the server so that its URL is an option.
class AlertApiTest : public RolloutApiTest {
 protected:
  AlertApiTest() {
    receiver_.server().Post("/alerts", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      received_.push_back(nlohmann::json::parse(req.body, nullptr, false));
      res.status = 200;
    });
    receiver_.Start();
  }
  void Adjust(FleetServerOptions& o) override { o.alert_webhook_url = receiver_.url("/alerts"); }
  std::vector<nlohmann::json> Received() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

  outpost::testing::LoopbackHttpServer receiver_;
  std::mutex mu_;
  std::vector<nlohmann::json> received_;
};

TEST_P(AlertApiTest, ARuleOpensAnAlertThatReachesTheWebhook) {
  const std::vector<EnrolledDevice> devices = Fleet(3);
  Reply rule = Admin("POST", "/v1/alert-rules",
                     {{"name", "failing inferences"}, {"metric", "error_rate"}, {"op", ">"}, {"threshold", 0.05},
                      {"model", "big_add"}, {"version", "1.0.0"}, {"window_s", 600}});
  ASSERT_EQ(rule.status, 201) << rule.body;
  const std::string rule_id = rule.json["id"];
  EXPECT_EQ(rule.json["name"], "failing inferences");
  Reply rules = Admin("GET", "/v1/alert-rules");
  ASSERT_EQ(rules.json["rules"].size(), 1u);
  EXPECT_EQ(rules.json["rules"][0]["rule"]["metric"], "error_rate");
  EXPECT_EQ(Admin("POST", "/v1/alert-rules", {{"name", "x"}, {"metric", "mood"}, {"op", ">"}, {"threshold", 1}}).status,
            400);

  // Healthy telemetry: no alert.
  Advance(10);
  Report(devices, 0);
  ASSERT_TRUE(server_->Tick().ok());
  EXPECT_TRUE(Admin("GET", "/v1/alerts?open=1").json["alerts"].empty());

  // 1.0.0 starts failing: one alert, delivered once however often the server ticks.
  for (const EnrolledDevice& d : devices) {
    const nlohmann::json record = {{"seq", ++seq_[d.id]}, {"time_ms", now_ms_.load()}, {"model", "big_add"},
                                   {"version", "1.0.0"},   {"inferences", 100},        {"errors", 40}};
    ASSERT_EQ(Send("POST", "/v1/device/telemetry", d.credential, nlohmann::json{{"records", {record}}}.dump()).status, 200);
  }
  Advance(1);
  ASSERT_TRUE(server_->Tick().ok());
  ASSERT_TRUE(server_->Tick().ok());
  Reply open = Admin("GET", "/v1/alerts?open=1");
  ASSERT_EQ(open.status, 200);
  ASSERT_EQ(open.json["alerts"].size(), 1u) << open.body;
  const nlohmann::json alert = open.json["alerts"][0];
  EXPECT_EQ(alert["rule"], "failing inferences");
  EXPECT_EQ(alert["subject"], "big_add@1.0.0");
  EXPECT_EQ(alert["delivered"], true);
  EXPECT_EQ(open.json["webhook"], true);
  const std::vector<nlohmann::json> got = Received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["id"], alert["id"]) << got[0].dump();

  // Deleting the rule resolves its alert.
  EXPECT_EQ(Admin("DELETE", "/v1/alert-rules/" + rule_id).status, 200);
  EXPECT_EQ(Admin("DELETE", "/v1/alert-rules/" + rule_id).status, 404);
  ASSERT_TRUE(server_->Tick().ok());
  EXPECT_TRUE(Admin("GET", "/v1/alerts?open=1").json["alerts"].empty());
  EXPECT_EQ(Admin("GET", "/v1/alerts").json["alerts"].size(), 1u);
}

FLEET_SERVER_SUITE(RolloutApiTest);
FLEET_SERVER_SUITE(AlertApiTest);

}  // namespace
}  // namespace outpost::fleet::testing
