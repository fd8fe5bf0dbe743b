// Desired state and poll, and telemetry batches: a retried batch inserts nothing twice and a
// batch with one malformed record is refused whole.
#include "tests/fleet/server/server_fixture.h"

namespace outpost::fleet::testing {
namespace {

using DeviceApiTest = FleetServerTest;

nlohmann::json Record(int64_t seq) {
  return {{"seq", seq},           {"time_ms", 1'800'000'000'000 + seq}, {"model", "big_add"}, {"version", "1.0.0"},
          {"inferences", 100},    {"errors", 1},                        {"latency_p50_ms", 3.1},
          {"latency_p99_ms", 7.9}, {"agreement", 0.98},                 {"drift_psi", 0.02},
          {"temperature_c", 51.0}, {"rss_bytes", 123456}};
}

TEST_P(DeviceApiTest, DesiredStateReachesThePollingDevice) {
  const EnrolledDevice d = Enroll();
  Reply none = Send("POST", "/v1/device/poll", d.credential, R"({"model":"big_add","version":"1.0.0","status":{"uptime_s":5}})");
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_TRUE(none.json["desired"].is_null());
  EXPECT_EQ(Admin("GET", "/v1/devices/" + d.id).json["status"]["uptime_s"], 5);

  // Only a registered version can be desired.
  EXPECT_EQ(Admin("PUT", "/v1/devices/" + d.id + "/desired", {{"model", "big_add"}, {"version", "1.1.0"}}).status, 422);
  Reply up = Upload(Package("1.1.0"));
  ASSERT_EQ(up.status, 201);
  Reply set = Admin("PUT", "/v1/devices/" + d.id + "/desired", {{"model", "big_add"}, {"version", "1.1.0"}});
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(Admin("PUT", "/v1/devices/d-0000000000000000/desired", {{"model", "big_add"}, {"version", "1.1.0"}}).status, 404);

  Reply poll = Send("POST", "/v1/device/poll", d.credential, R"({"model":"big_add","version":"1.0.0"})");
  ASSERT_EQ(poll.status, 200) << poll.body;
  const nlohmann::json& want = poll.json["desired"];
  EXPECT_EQ(want["model"], "big_add");
  EXPECT_EQ(want["version"], "1.1.0");
  EXPECT_EQ(want["digest"], up.json["digest"]);
  EXPECT_EQ(want["size"], up.json["size"]);
  EXPECT_EQ(want["url"], "/v1/artifacts/" + up.json["digest"].get<std::string>());
  EXPECT_FALSE(want.contains("delta"));  // 1.0.0 is not in the registry: nothing to diff from
}

TEST_P(DeviceApiTest, LabelsCanBeChangedAndFiltered) {
  const EnrolledDevice a = Enroll("a", "line-1");
  const EnrolledDevice b = Enroll("b", "line-2");
  Reply p = Admin("PATCH", "/v1/devices/" + a.id, {{"tags", {"camera", "beta"}}});
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(p.json["group"], "line-1");
  EXPECT_EQ(p.json["tags"], nlohmann::json({"camera", "beta"}));
  Reply beta = Admin("GET", "/v1/devices?tag=beta");
  ASSERT_EQ(beta.status, 200);
  ASSERT_EQ(beta.json["total"], 1);
  EXPECT_EQ(beta.json["devices"][0]["id"], a.id);
  Reply line2 = Admin("GET", "/v1/devices?group=line-2&limit=10&offset=0");
  ASSERT_EQ(line2.json["total"], 1);
  EXPECT_EQ(line2.json["devices"][0]["id"], b.id);
  EXPECT_EQ(Admin("GET", "/v1/devices?limit=0").status, 400);
  EXPECT_EQ(Admin("GET", "/v1/devices?limit=abc").status, 400);
  EXPECT_EQ(Admin("GET", "/v1/devices?owner=me").status, 400);
  EXPECT_EQ(Admin("GET", "/v1/devices/d-0000000000000000").status, 404);
  EXPECT_EQ(Admin("GET", "/v1/devices/../models").status, 404);
  EXPECT_EQ(Admin("GET", "/v1/devices/not-an-id").status, 400);
}

TEST_P(DeviceApiTest, ATelemetryBatchIsStoredOnceAndRetriesCountAsDuplicates) {
  const EnrolledDevice d = Enroll();
  nlohmann::json batch = {{"records", nlohmann::json::array()}};
  for (int seq = 1; seq <= 50; ++seq) batch["records"].push_back(Record(seq));
  Reply first = Send("POST", "/v1/device/telemetry", d.credential, batch.dump());
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.json, nlohmann::json({{"inserted", 50}, {"duplicates", 0}}));
  Reply again = Send("POST", "/v1/device/telemetry", d.credential, batch.dump());
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json, nlohmann::json({{"inserted", 0}, {"duplicates", 50}}));
  EXPECT_EQ(store_->CountTelemetry(d.id).value(), 50);
  EXPECT_EQ(store_->LastTelemetrySeq(d.id).value(), 50);
}

TEST_P(DeviceApiTest, OneMalformedRecordRefusesTheWholeBatch) {
  const EnrolledDevice d = Enroll();
  const std::string before = StateSnapshot();
  std::vector<nlohmann::json> bad;
  auto with = [](nlohmann::json r, const char* key, nlohmann::json v) {
    r[key] = std::move(v);
    return r;
  };
  bad.push_back(with(Record(3), "seq", "three"));
  bad.push_back(with(Record(3), "seq", 0));
  bad.push_back(with(Record(3), "agreement", 1.5));
  bad.push_back(with(Record(3), "inferences", -1));
  bad.push_back(with(Record(3), "version", "1.0"));
  bad.push_back(with(Record(3), "model", "../../etc"));
  bad.push_back(with(Record(3), "latency_p99_ms", "fast"));
  bad.push_back(with(Record(3), "colour", "blue"));
  nlohmann::json no_seq = Record(3);
  no_seq.erase("seq");
  bad.push_back(no_seq);
  bad.push_back(nlohmann::json::array());
  for (const nlohmann::json& record : bad) {
    SCOPED_TRACE(record.dump());
    nlohmann::json batch = {{"records", {Record(1), Record(2), record}}};
    Reply r = Send("POST", "/v1/device/telemetry", d.credential, batch.dump());
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.json["error"].get<std::string>().find("record 2"), std::string::npos) << r.body;
  }
  EXPECT_EQ(Send("POST", "/v1/device/telemetry", d.credential, R"({"records":{}})").status, 400);
  EXPECT_EQ(store_->CountTelemetry(d.id).value(), 0);
  EXPECT_EQ(StateSnapshot(), before);
}

TEST_P(DeviceApiTest, ABatchOverTheRecordLimitIs413) {
  const EnrolledDevice d = Enroll();
  nlohmann::json batch = {{"records", nlohmann::json::array()}};
  for (int seq = 1; seq <= 1001; ++seq) batch["records"].push_back({{"seq", seq}, {"time_ms", 1}, {"model", "m"}, {"version", "1.0.0"}});
  Reply r = Send("POST", "/v1/device/telemetry", d.credential, batch.dump());
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(store_->CountTelemetry(d.id).value(), 0);
}

FLEET_SERVER_SUITE(DeviceApiTest);

}  // namespace
}  // namespace outpost::fleet::testing
