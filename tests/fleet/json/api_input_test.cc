// The API's input parsers as pure functions: each request body (and the upload query) accepted
// into its struct with the documented defaults, or refused with a message naming the field.
// The HTTP status of each refusal is pinned by tests/fleet/server/input_test.cc.
#include "fleet/server/api_input.h"

#include <gtest/gtest.h>

namespace outpost::fleet {
namespace {

template <typename T>
std::string InputRefusal(const Expected<T>& result) {
  EXPECT_FALSE(result.ok());
  return result.message();
}

TEST(ApiInput, EnrollRequest) {
  Expected<EnrollRequest> r = ParseEnrollRequest(R"({"token":"t","name":"cam 17"})");
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->token, "t");
  EXPECT_EQ(r->name, "cam 17");
  EXPECT_EQ(InputRefusal(ParseEnrollRequest(R"({"token":"t"})")), "request body: 'name' is required");
  EXPECT_EQ(InputRefusal(ParseEnrollRequest(R"({"token":"t","name":"tab\there"})")),
            "request body: 'name' must be 1-128 bytes of UTF-8 without control characters");
  EXPECT_EQ(InputRefusal(ParseEnrollRequest(R"({"token":"t","name":"n","group":"admins"})")),
            "request body: unknown field 'group' (allowed: token, name, public_key)");
  // The device's X25519 public key: optional, exactly canonical base64 of 32 bytes.
  EXPECT_EQ(r->public_key, "");
  const std::string key = "hY3bC0cM0qvKdA7sRbxzVv+XW4pAZKQ9M1Lxmkkc0XY=";
  Expected<EnrollRequest> with = ParseEnrollRequest(R"({"token":"t","name":"n","public_key":")" + key + "\"}");
  ASSERT_TRUE(with.ok()) << with.message();
  EXPECT_EQ(with->public_key, key);
  for (const std::string& bad : {std::string(""), key.substr(0, 43), key.substr(0, 42) + "Z=", key + "AAAA",
                                std::string(44, '=')})
    EXPECT_EQ(InputRefusal(ParseEnrollRequest(R"({"token":"t","name":"n","public_key":")" + bad + "\"}")),
              "request body: 'public_key' must be a 32-byte X25519 public key in base64 (44 characters)")
        << bad;
  EXPECT_EQ(InputRefusal(ParseEnrollRequest(R"({"token":"t","name":"n","public_key":7})")),
            "request body: 'public_key' must be a string, got 7");
}

TEST(ApiInput, PollReport) {
  Expected<PollReport> r = ParsePollReport(R"({"model":"m","version":"1.0.0","status":{"up":1}})");
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->status_json, R"({"up":1})");
  Expected<PollReport> empty = ParsePollReport("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->model, "");
  EXPECT_EQ(empty->status_json, "{}");
  EXPECT_EQ(InputRefusal(ParsePollReport(R"({"model":"m"})")), "request body: 'model' and 'version' go together");
  EXPECT_EQ(InputRefusal(ParsePollReport(R"({"status":"fine"})")), "request body: 'status' must be an object, got \"fine\"");
  EXPECT_EQ(InputRefusal(ParsePollReport("not json")), "request body: not valid JSON (syntax error at byte 2)");
}

TEST(ApiInput, TelemetryBatch) {
  const std::string record = R"({"seq":3,"time_ms":5,"model":"m","version":"1.0.0","inferences":10,"errors":1,
                                  "agreement":null,"temperature_c":40.5})";
  Expected<std::vector<TelemetryRecord>> r = ParseTelemetryBatch(R"({"records":[)" + record + "]}", 10);
  ASSERT_TRUE(r.ok()) << r.message();
  ASSERT_EQ(r->size(), 1u);
  const TelemetryRecord& t = r->front();
  EXPECT_EQ(t.seq, 3);
  EXPECT_EQ(t.errors, 1);
  EXPECT_EQ(t.agreement, std::nullopt);
  EXPECT_EQ(t.temperature_c, 40.5);
  EXPECT_EQ(t.device_id, "");
  EXPECT_EQ(nlohmann::json::parse(t.body_json), nlohmann::json::parse(record));

  const auto refusal = [](const std::string& fields) {
    return InputRefusal(ParseTelemetryBatch(R"({"records":[{"seq":1,"time_ms":1,"model":"m","version":"1.0.0"},
                                              {"time_ms":1,"model":"m","version":"1.0.0",)" + fields + "}]}",
                                            10));
  };
  EXPECT_EQ(refusal(R"("seq":0)"), "record 1: 'seq' must be at least 1, got 0");
  EXPECT_EQ(refusal(R"("seq":1.5)"), "record 1: 'seq' must be a whole number, got 1.5");
  EXPECT_EQ(refusal(R"("seq":1,"inferences":1,"errors":2)"), "record 1: 'errors' exceeds 'inferences'");
  EXPECT_EQ(refusal(R"("seq":1,"agreement":1.5)"), "record 1: 'agreement' must be in 0..1, got 1.5");
  EXPECT_EQ(refusal(R"("seq":1,"temperature_c":300)"), "record 1: 'temperature_c' must be in -100..200, got 300");
  EXPECT_EQ(refusal(R"("seq":1,"colour":"blue")").rfind("record 1: unknown field 'colour'", 0), 0u);

  std::string many = R"({"records":[)";
  for (int i = 1; i <= 3; ++i) many += std::string(i > 1 ? "," : "") + "{\"colour\":1}";
  EXPECT_EQ(InputRefusal(ParseTelemetryBatch(many + "]}", 2)), TooManyRecordsMessage(2));
  EXPECT_EQ(InputRefusal(ParseTelemetryBatch(R"({"records":{}})", 2)), "request body: 'records' must be an array, got {}");
}

TEST(ApiInput, TelemetryAgentFields) {
  const std::string record = R"({"seq":4,"time_ms":5,"model":"m","version":"1.0.0","inferences":5,
      "latency_histogram":{"bounds_ms":[0.5,1,2.5],"counts":[1,2,0,2]},"arena_bytes":4096,
      "input_drift_psi":0.3,"dropped_records":220,"throttled":true,"throttle_ratio":1.9,"temperature_c":61.5,
      "events":["refused 1.2.0: package: signature does not verify","committed 1.1.0"]})";
  Expected<std::vector<TelemetryRecord>> r = ParseTelemetryBatch(R"({"records":[)" + record + "]}", 10);
  ASSERT_TRUE(r.ok()) << r.message();
  // Kept as sent: the store has no column for them, the record's body holds them.
  EXPECT_EQ(nlohmann::json::parse(r->front().body_json), nlohmann::json::parse(record));

  const auto refusal = [](const std::string& fields) {
    return InputRefusal(ParseTelemetryBatch(
        R"({"records":[{"seq":1,"time_ms":1,"model":"m","version":"1.0.0",)" + fields + "}]}", 10));
  };
  EXPECT_EQ(refusal(R"("latency_histogram":{"bounds_ms":[1,1],"counts":[0,0,0]})"),
            "record 0: latency_histogram: 'bounds_ms' must be positive and strictly increasing, got 1");
  EXPECT_EQ(refusal(R"("latency_histogram":{"bounds_ms":[2,1],"counts":[0,0,0]})"),
            "record 0: latency_histogram: 'bounds_ms' must be positive and strictly increasing, got 1");
  EXPECT_EQ(refusal(R"("latency_histogram":{"bounds_ms":[0,1],"counts":[0,0,0]})"),
            "record 0: latency_histogram: 'bounds_ms' must be positive and strictly increasing, got 0");
  EXPECT_EQ(refusal(R"("latency_histogram":{"bounds_ms":["1"],"counts":[0,0]})"),
            "record 0: latency_histogram: 'bounds_ms' must be positive and strictly increasing, got \"1\"");
  EXPECT_EQ(refusal(R"("latency_histogram":{"bounds_ms":[],"counts":[0]})"),
            "record 0: latency_histogram: 'bounds_ms' must hold 1-64 bounds");
  EXPECT_EQ(refusal(R"("latency_histogram":{"bounds_ms":[1,2],"counts":[0,0]})"),
            "record 0: latency_histogram: 'counts' must hold one more entry than 'bounds_ms'");
  EXPECT_EQ(refusal(R"("latency_histogram":{"bounds_ms":[1],"counts":[0,-1]})"),
            "record 0: latency_histogram: 'counts' must be non-negative whole numbers, got -1");
  EXPECT_EQ(refusal(R"("latency_histogram":{"bounds_ms":[1],"counts":[0,18446744073709551615]})"),
            "record 0: latency_histogram: 'counts' must be non-negative whole numbers, got 18446744073709551615");
  EXPECT_EQ(refusal(R"("latency_histogram":{"bounds_ms":[1],"counts":[0,1.5]})"),
            "record 0: latency_histogram: 'counts' must be non-negative whole numbers, got 1.5");
  EXPECT_EQ(refusal(R"("latency_histogram":{"bounds_ms":[1],"counts":[0,1],"sum":3})").rfind(
                "record 0: latency_histogram: unknown field 'sum'", 0),
            0u);
  EXPECT_EQ(refusal(R"("latency_histogram":[1,2])"), "record 0: 'latency_histogram' must be an object, got [1,2]");
  std::string many_bounds;
  for (int i = 1; i <= 65; ++i) many_bounds += (i > 1 ? "," : "") + std::to_string(i);
  EXPECT_EQ(refusal(R"("latency_histogram":{"bounds_ms":[)" + many_bounds + R"(],"counts":[]})"),
            "record 0: latency_histogram: 'bounds_ms' must hold 1-64 bounds");
  EXPECT_EQ(refusal(R"("dropped_records":-1)"), "record 0: 'dropped_records' must be at least 0, got -1");
  EXPECT_EQ(refusal(R"("arena_bytes":"big")"), "record 0: 'arena_bytes' must be a whole number, got \"big\"");
  EXPECT_EQ(refusal(R"("input_drift_psi":-0.1)"), "record 0: 'input_drift_psi' must be at least 0, got -0.1");
  EXPECT_EQ(refusal(R"("throttled":1)"), "record 0: 'throttled' must be true or false, got 1");
  EXPECT_EQ(refusal(R"("throttle_ratio":-2)"), "record 0: 'throttle_ratio' must be at least 0, got -2");
  EXPECT_EQ(refusal(R"("events":[""])"), "record 0: 'events' must each be 1-1024 bytes");
  EXPECT_EQ(refusal(R"("events":[")" + std::string(1025, 'x') + R"("])"), "record 0: 'events' must each be 1-1024 bytes");
  std::string many_events;
  for (int i = 1; i <= 17; ++i) many_events += std::string(i > 1 ? "," : "") + "\"e\"";
  EXPECT_EQ(refusal(R"("events":[)" + many_events + "]"), "record 0: 'events' must hold at most 16 events");
  EXPECT_EQ(refusal(R"("events":[1])").rfind("record 0: 'events'", 0), 0u);
}

TEST(ApiInput, EnrollmentTokenRequest) {
  Expected<EnrollmentTokenRequest> defaults = ParseEnrollmentTokenRequest("{}");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->expires_in_s, 3600);
  EXPECT_EQ(defaults->uses, 1);
  EXPECT_EQ(InputRefusal(ParseEnrollmentTokenRequest(R"({"uses":0})")), "request body: 'uses' must be in 1..1000000, got 0");
  EXPECT_EQ(InputRefusal(ParseEnrollmentTokenRequest(R"({"group":"a b"})")),
            "request body: 'group' must be 1-64 of A-Z a-z 0-9 . _ : -");
  nlohmann::json tags = nlohmann::json::array();
  for (int i = 0; i < 33; ++i) tags.push_back("t" + std::to_string(i));
  EXPECT_EQ(InputRefusal(ParseEnrollmentTokenRequest(nlohmann::json{{"tags", tags}}.dump())),
            "request body: 'tags' must hold at most 32 tags");
}

TEST(ApiInput, DevicePatchKeepsWhatIsLeftOut) {
  Expected<DevicePatch> p = ParseDevicePatch(R"({"tags":["a"]})");
  ASSERT_TRUE(p.ok()) << p.message();
  EXPECT_EQ(p->group, std::nullopt);
  EXPECT_EQ(p->tags, std::vector<std::string>{"a"});
  EXPECT_EQ(InputRefusal(ParseDevicePatch(R"({"tags":[1]})")), "request body: 'tags' must be an array of strings, got 1");
}

TEST(ApiInput, DesiredStateAndRolloutRequests) {
  EXPECT_TRUE(ParseDesiredStateRequest(R"({"model":"m","version":"1.2.0"})").ok());
  EXPECT_EQ(InputRefusal(ParseDesiredStateRequest(R"({"model":"m","version":"1.0"})")),
            "request body: 'version' is not a semantic version");

  Expected<RolloutRequest> r = ParseRolloutRequest(R"({"model":"m","version":"2.0.0"})");
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_TRUE(r->plan.is_null());
  EXPECT_EQ(r->group, "");
  const std::string refused =
      InputRefusal(ParseRolloutRequest(R"({"model":"m","version":"2.0.0","plan":{"stages":[{"percent":101}]}})"));
  EXPECT_EQ(refused, "request body: 'plan' is refused: rollout plan: stage 0: 'percent' must be in 0..100, got 101");
}

TEST(ApiInput, RolloutChangeReason) {
  EXPECT_EQ(ParseRolloutChangeReason("").value(), "by hand");
  EXPECT_EQ(ParseRolloutChangeReason(R"({"reason":"canary"})").value(), "canary");
  EXPECT_EQ(InputRefusal(ParseRolloutChangeReason(nlohmann::json{{"reason", std::string(257, 'x')}}.dump())),
            "request body: 'reason' must be 1-256 bytes");
}

TEST(ApiInput, AlertRuleRequest) {
  Expected<AlertRuleSpec> r = ParseAlertRuleRequest(R"({"name":"hot","metric":"temperature_c","op":">","threshold":85,"model":"m"})");
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->threshold, 85);
  EXPECT_EQ(InputRefusal(ParseAlertRuleRequest("{")), "request body: not valid JSON (syntax error at byte 2)");
  EXPECT_EQ(InputRefusal(ParseAlertRuleRequest(R"({"name":"x","metric":"accuracy","op":"<","threshold":1})")),
            "alert rule: unknown metric \"accuracy\" (one of agreement, error_rate, drift_psi, latency_p99_ms, "
            "temperature_c, offline_minutes)");
}

TEST(ApiInput, UploadQuery) {
  EXPECT_EQ(ParseUploadQuery({}).value(), "");
  EXPECT_EQ(ParseUploadQuery({{"parent", "1.0.0"}}).value(), "1.0.0");
  EXPECT_EQ(InputRefusal(ParseUploadQuery({{"parent", "1.0"}})), "query parameter 'parent' is not a semantic version");
  // A key that is not UTF-8 is quoted with a replacement character, so the reply can be sent.
  const std::string refused = InputRefusal(ParseUploadQuery({{"\xff\xfe", "x"}}));
  EXPECT_EQ(refused.rfind("unknown query parameter \"", 0), 0u) << refused;
  EXPECT_NO_THROW((void)nlohmann::json(refused).dump());
}

}  // namespace
}  // namespace outpost::fleet
