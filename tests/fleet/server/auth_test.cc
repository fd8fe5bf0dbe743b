// Every admin endpoint needs the admin token: none or a wrong one is 401, a device credential
// 403. Device endpoints act only on the calling device: device A can neither read nor change B.
#include "tests/fleet/server/server_fixture.h"

namespace outpost::fleet::testing {
namespace {

using AuthTest = FleetServerTest;

struct Endpoint {
  std::string method, path, body;
};

TEST_P(AuthTest, EveryAdminEndpointRefusesMissingWrongAndDeviceCredentials) {
  const EnrolledDevice a = Enroll("a");
  const EnrolledDevice b = Enroll("b");
  ASSERT_EQ(Upload(Package("1.0.0")).status, 201);
  const std::string before = StateSnapshot();
  const std::vector<Endpoint> admin = {
      {"POST", "/v1/enrollment-tokens", R"({"group":"x","uses":1})"},
      {"GET", "/v1/devices", ""},
      {"GET", "/v1/devices/" + b.id, ""},
      {"PATCH", "/v1/devices/" + b.id, R"({"group":"stolen"})"},
      {"PUT", "/v1/devices/" + b.id + "/desired", R"({"model":"big_add","version":"1.0.0"})"},
      {"PUT", "/v1/devices/" + a.id + "/desired", R"({"model":"big_add","version":"1.0.0"})"},
      {"POST", "/v1/models", "not a package"},
      {"GET", "/v1/models", ""},
      {"GET", "/v1/models/big_add/versions/1.0.0", ""},
      {"POST", "/v1/rollouts", R"({"model":"big_add","version":"1.0.0"})"},
      {"GET", "/v1/rollouts", ""},
      {"GET", "/v1/rollouts/r-0000000000000000", ""},
      {"POST", "/v1/rollouts/r-0000000000000000/abort", "{}"},
      {"POST", "/v1/alert-rules", R"({"name":"n","metric":"error_rate","op":">","threshold":0.5,"model":"big_add"})"},
      {"GET", "/v1/alert-rules", ""},
      {"DELETE", "/v1/alert-rules/a-0000000000000000", ""},
      {"GET", "/v1/alerts", ""},
      {"GET", "/v1/dashboard/summary", ""},
      {"GET", "/v1/dashboard/series?model=big_add", ""},
  };
  for (const Endpoint& e : admin) {
    SCOPED_TRACE(e.method + " " + e.path);
    EXPECT_EQ(Send(e.method, e.path, "", e.body).status, 401);
    EXPECT_EQ(Send(e.method, e.path, "not-the-token-at-all", e.body).status, 401);
    EXPECT_EQ(Send(e.method, e.path, std::string(kAdminToken) + "x", e.body).status, 401);
    Reply r = Send(e.method, e.path, a.credential, e.body);
    EXPECT_EQ(r.status, 403);
    EXPECT_TRUE(r.json.contains("error")) << r.body;
  }
  EXPECT_EQ(StateSnapshot(), before);
  // Artifacts: no credential, no bytes.
  const std::string digest = Admin("GET", "/v1/models").json["models"][0]["digest"];
  EXPECT_EQ(Send("GET", "/v1/artifacts/" + digest, "").status, 401);
  EXPECT_EQ(Send("GET", "/v1/artifacts/" + digest, std::string(64, 'f')).status, 401);
}

TEST_P(AuthTest, ADeviceOnlyEverActsOnItself) {
  const EnrolledDevice a = Enroll("a");
  const EnrolledDevice b = Enroll("b");
  ASSERT_EQ(Upload(Package("1.0.0")).status, 201);
  ASSERT_EQ(Upload(Package("1.1.0")).status, 201);
  ASSERT_EQ(Admin("PUT", "/v1/devices/" + b.id + "/desired", {{"model", "big_add"}, {"version", "1.1.0"}}).status, 200);
  const nlohmann::json b_before = Admin("GET", "/v1/devices/" + b.id).json;

  // A's telemetry and poll, also when they name B anywhere they can.
  Reply t = Send("POST", "/v1/device/telemetry", a.credential,
                 nlohmann::json{{"records", {{{"seq", 1}, {"time_ms", 1}, {"model", "big_add"}, {"version", "1.0.0"}}}}}.dump());
  ASSERT_EQ(t.status, 200) << t.body;
  Reply extra = Send("POST", "/v1/device/telemetry", a.credential,
                     nlohmann::json{{"records", {{{"seq", 2}, {"time_ms", 1}, {"model", "big_add"}, {"version", "1.0.0"},
                                                  {"device_id", b.id}}}}}.dump());
  EXPECT_EQ(extra.status, 400);
  EXPECT_EQ(Send("POST", "/v1/device/poll", a.credential, nlohmann::json{{"device_id", b.id}}.dump()).status, 400);
  Reply poll = Send("POST", "/v1/device/poll", a.credential, R"({"model":"big_add","version":"1.0.0"})");
  ASSERT_EQ(poll.status, 200);
  EXPECT_TRUE(poll.json["desired"].is_null()) << poll.body;  // B's desired state is not A's

  EXPECT_EQ(store_->CountTelemetry(a.id).value(), 1);
  EXPECT_EQ(store_->CountTelemetry(b.id).value(), 0);
  const nlohmann::json b_after = Admin("GET", "/v1/devices/" + b.id).json;
  EXPECT_EQ(b_after, b_before);
  EXPECT_EQ(b_after["desired"]["version"], "1.1.0");
  // The admin token is not a device.
  EXPECT_EQ(Send("POST", "/v1/device/poll", kAdminToken, "{}").status, 403);
}

FLEET_SERVER_SUITE(AuthTest);

}  // namespace
}  // namespace outpost::fleet::testing
