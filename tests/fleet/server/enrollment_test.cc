// Enrollment: a token shown once and stored only as its hash, used up after its uses, refused
// after it expires; the device gets the token's group and tags and a credential shown once.
#include "tests/fleet/server/server_fixture.h"

namespace outpost::fleet::testing {
namespace {

using EnrollmentTest = FleetServerTest;

TEST_P(EnrollmentTest, ATokenEnrollsDevicesWithItsGroupAndTagsUntilUsedUp) {
  Reply t = Admin("POST", "/v1/enrollment-tokens",
                  {{"group", "line-1"}, {"tags", {"camera", "north"}}, {"expires_in_s", 3600}, {"uses", 2}});
  ASSERT_EQ(t.status, 201) << t.body;
  const std::string token = t.json["token"];
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(t.json["expires_ms"], now_ms_.load() + 3600 * 1000);

  std::vector<std::string> ids;
  for (const char* name : {"cam-1", "cam-2"}) {
    Reply r = Send("POST", "/v1/enroll", "", nlohmann::json{{"token", token}, {"name", name}}.dump());
    ASSERT_EQ(r.status, 201) << r.body;
    const std::string id = r.json["device_id"];
    EXPECT_TRUE(id.size() == 18 && id.rfind("d-", 0) == 0) << id;
    EXPECT_EQ(r.json["credential"].get<std::string>().size(), 64u);
    ids.push_back(id);
  }
  EXPECT_NE(ids[0], ids[1]);
  Reply third = Send("POST", "/v1/enroll", "", nlohmann::json{{"token", token}, {"name", "cam-3"}}.dump());
  EXPECT_EQ(third.status, 401);
  EXPECT_NE(third.json["error"].get<std::string>().find("used up"), std::string::npos) << third.body;

  Reply list = Admin("GET", "/v1/devices");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json["total"], 2);
  for (const auto& d : list.json["devices"]) {
    EXPECT_EQ(d["group"], "line-1");
    EXPECT_EQ(d["tags"], nlohmann::json({"camera", "north"}));
    EXPECT_FALSE(d.contains("credential_hash"));
    EXPECT_EQ(d.dump().find(token), std::string::npos);
  }
  // Neither the token nor its use count is anywhere but as a hash in the store.
  EXPECT_EQ(list.body.find("credential"), std::string::npos);
}

TEST_P(EnrollmentTest, AnExpiredTokenIsRefused) {
  const std::string token = NewEnrollmentToken({{"group", "line-1"}, {"expires_in_s", 60}, {"uses", 5}});
  now_ms_ += 61 * 1000;
  Reply r = Send("POST", "/v1/enroll", "", nlohmann::json{{"token", token}, {"name", "late"}}.dump());
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.json["error"].get<std::string>().find("expired"), std::string::npos) << r.body;
  EXPECT_EQ(Admin("GET", "/v1/devices").json["total"], 0);
}

TEST_P(EnrollmentTest, AnUnknownTokenIsRefusedAndTokensNeedTheAdmin) {
  Reply r = Send("POST", "/v1/enroll", "", nlohmann::json{{"token", std::string(64, 'a')}, {"name", "x"}}.dump());
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Send("POST", "/v1/enrollment-tokens", "", "{}").status, 401);
  const EnrolledDevice d = Enroll();
  EXPECT_EQ(Send("POST", "/v1/enrollment-tokens", d.credential, "{}").status, 403);
  EXPECT_EQ(Admin("GET", "/v1/devices").json["total"], 1);
}

TEST_P(EnrollmentTest, TheCredentialIdentifiesTheDevice) {
  const EnrolledDevice d = Enroll("cam-17");
  Reply poll = Send("POST", "/v1/device/poll", d.credential, R"({"model":"big_add","version":"1.0.0"})");
  ASSERT_EQ(poll.status, 200) << poll.body;
  Reply got = Admin("GET", "/v1/devices/" + d.id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.json["name"], "cam-17");
  EXPECT_EQ(got.json["model"], "big_add");
  EXPECT_EQ(got.json["version"], "1.0.0");
  EXPECT_EQ(Send("POST", "/v1/device/poll", std::string(64, '0'), "{}").status, 401);
}

// The device's public key, sent at enrollment, is what the admin endpoints answer (so that
// packages can be sealed to it); a malformed one is refused before the token is used.
TEST_P(EnrollmentTest, ThePublicKeySentAtEnrollmentIsAnsweredToTheAdmin) {
  const std::string key = "hY3bC0cM0qvKdA7sRbxzVv+XW4pAZKQ9M1Lxmkkc0XY=";
  const std::string token = NewEnrollmentToken({{"group", "line-1"}, {"uses", 2}});
  for (const nlohmann::json& bad : {nlohmann::json(""), nlohmann::json(key.substr(0, 40) + "===="),
                                    nlohmann::json(key + "AAAA"), nlohmann::json(key.substr(0, 42) + "Z="),
                                    nlohmann::json("hY3bC0cM0qvKdA7sRbxzVv+XW4pAZKQ9M1Lxmkkc0X*="),
                                    nlohmann::json(7), nlohmann::json(nullptr)}) {
    SCOPED_TRACE(bad.dump());
    Reply r = Send("POST", "/v1/enroll", "", nlohmann::json{{"token", token}, {"name", "cam"}, {"public_key", bad}}.dump());
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.json["error"].get<std::string>().find("public_key"), std::string::npos) << r.body;
  }
  Reply with = Send("POST", "/v1/enroll", "",
                    nlohmann::json{{"token", token}, {"name", "cam-key"}, {"public_key", key}}.dump());
  ASSERT_EQ(with.status, 201) << with.body;
  Reply without = Send("POST", "/v1/enroll", "", nlohmann::json{{"token", token}, {"name", "cam-old"}}.dump());
  ASSERT_EQ(without.status, 201) << without.body;  // both uses were left: the refusals took none

  Reply got = Admin("GET", "/v1/devices/" + with.json["device_id"].get<std::string>());
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json["public_key"], key);
  Reply list = Admin("GET", "/v1/devices");
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list.json["devices"].size(), 2u);
  for (const auto& d : list.json["devices"]) {
    ASSERT_TRUE(d.contains("public_key")) << d.dump();
    if (d["name"] == "cam-key")
      EXPECT_EQ(d["public_key"], key);
    else
      EXPECT_TRUE(d["public_key"].is_null()) << d.dump();
  }
}

FLEET_SERVER_SUITE(EnrollmentTest);

}  // namespace
}  // namespace outpost::fleet::testing
