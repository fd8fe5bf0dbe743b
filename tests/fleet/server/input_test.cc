// Input validation: oversized bodies 413, malformed JSON and unknown or mistyped fields 400,
// unknown routes and methods a JSON 404; injection strings are stored verbatim; and no refused
// request changes any state.
#include "tests/fleet/server/server_fixture.h"

namespace outpost::fleet::testing {
namespace {

using InputTest = FleetServerTest;

TEST_P(InputTest, RefusedRequestsAnswerJsonErrorsAndChangeNothing) {
  const EnrolledDevice d = Enroll();
  ASSERT_EQ(Upload(Package("1.0.0")).status, 201);
  const std::string before = StateSnapshot();
  const std::string token = d.credential;
  const std::string big(2 << 20, ' ');  // 2 MiB against the fixture's 256 KiB limit
  struct Case {
    std::string method, path, credential, body;
    int status;
  };
  const std::vector<Case> cases = {
      {"POST", "/v1/enrollment-tokens", kAdminToken, "{" + big + "}", 413},
      {"POST", "/v1/device/poll", token, "{\"model\":\"" + std::string(300 * 1024, 'm') + "\"}", 413},
      {"POST", "/v1/enrollment-tokens", kAdminToken, "{\"group\":", 400},
      {"POST", "/v1/enrollment-tokens", kAdminToken, "[1,2]", 400},
      {"POST", "/v1/enrollment-tokens", kAdminToken, R"({"group":"g","admin":true})", 400},
      {"POST", "/v1/enrollment-tokens", kAdminToken, R"({"group":7})", 400},
      {"POST", "/v1/enrollment-tokens", kAdminToken, R"({"uses":"10"})", 400},
      {"POST", "/v1/enrollment-tokens", kAdminToken, R"({"uses":0})", 400},
      {"POST", "/v1/enrollment-tokens", kAdminToken, R"({"expires_in_s":1.5})", 400},
      {"POST", "/v1/enrollment-tokens", kAdminToken, R"({"group":"a b"})", 400},
      {"POST", "/v1/enrollment-tokens", kAdminToken, R"({"tags":"camera"})", 400},
      {"PATCH", "/v1/devices/" + d.id, kAdminToken, R"({"group":"line-2","extra":1})", 400},
      {"PATCH", "/v1/devices/" + d.id, kAdminToken, R"({"tags":[1]})", 400},
      {"PATCH", "/v1/devices/" + d.id, kAdminToken, R"({"group":"x'; DROP TABLE devices; --"})", 400},
      {"PUT", "/v1/devices/" + d.id + "/desired", kAdminToken, R"({"model":"big_add"})", 400},
      {"PUT", "/v1/devices/" + d.id + "/desired", kAdminToken, R"({"model":"big_add","version":"9.9.9"})", 422},
      {"PUT", "/v1/devices/" + d.id + "/desired", kAdminToken, R"({"model":"big add","version":"1.0.0"})", 400},
      {"POST", "/v1/device/poll", token, R"({"model":"big_add"})", 400},
      {"POST", "/v1/device/poll", token, R"({"status":"fine"})", 400},
      {"POST", "/v1/device/poll", token, "not json", 400},
      // Deep nesting would overflow the stack of the recursive JSON writer; a number beyond a
      // double; a query key that is not UTF-8 still gets a JSON error reply.
      {"POST", "/v1/device/poll", token, "{\"status\":{\"a\":" + std::string(50000, '[') + std::string(50000, ']') + "}}", 400},
      {"POST", "/v1/device/poll", token, R"({"status":{"a":1e999}})", 400},
      {"POST", "/v1/models?%FF%FE=1", kAdminToken, "", 400},
      {"GET", "/v1/devices?%FF=1", kAdminToken, "", 400},
      {"POST", "/v1/enroll", "", R"({"token":"x","name":"a","group":"admins"})", 400},
      {"POST", "/v1/enroll", "", R"({"token":"x"})", 400},
      {"POST", "/v1/enroll", "", R"({"token":"x","name":"tab\there"})", 400},
      {"DELETE", "/v1/devices/" + d.id, kAdminToken, "", 404},
      {"GET", "/v1/enroll", "", "", 404},
      {"GET", "/v1/nothing-here", kAdminToken, "", 404},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.path + " " + c.body.substr(0, 80));
    Reply r = Send(c.method, c.path, c.credential, c.body);
    EXPECT_EQ(r.status, c.status) << r.body;
    ASSERT_TRUE(r.json.is_object()) << r.body;
    EXPECT_TRUE(r.json["error"].is_string()) << r.body;
    EXPECT_FALSE(r.json["error"].get<std::string>().empty());
  }
  EXPECT_EQ(StateSnapshot(), before);
}

TEST_P(InputTest, InjectionStringsInNamesAreStoredVerbatim) {
  const std::vector<std::string> names = {
      "x'); DROP TABLE devices; --", "Robert\"; DELETE FROM models; --", "<script>alert(1)</script>",
      "${jndi:ldap://x}", "cam \u00e9\u4e2d\u6587 %00 %s %n", "..\\..\\etc\\passwd"};
  std::vector<std::string> ids;
  for (const std::string& name : names) {
    const EnrolledDevice d = Enroll(name);
    ASSERT_FALSE(d.id.empty()) << name;
    ids.push_back(d.id);
  }
  for (size_t i = 0; i < names.size(); ++i) {
    Reply r = Admin("GET", "/v1/devices/" + ids[i]);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json["name"], names[i]);
  }
  EXPECT_EQ(Admin("GET", "/v1/devices").json["total"], static_cast<int>(names.size()));
}

TEST_P(InputTest, HealthNeedsNoCredential) {
  Reply r = Send("GET", "/healthz", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json, nlohmann::json({{"ok", true}}));
}

FLEET_SERVER_SUITE(InputTest);

}  // namespace
}  // namespace outpost::fleet::testing
