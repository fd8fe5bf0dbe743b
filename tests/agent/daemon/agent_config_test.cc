// agent.json: a valid file with its defaults and resolved paths, and one clear error per problem.
#include <gtest/gtest.h>

#include <fstream>

#include "agent/daemon/agent_config.h"
#include "tests/io/test_models.h"

namespace outpost::agent {
namespace {

nlohmann::json MinimalConfig() {
  return {{"format", "outpost-agent/1"},   {"server", "http://127.0.0.1:8080"},
          {"device_id", "d-0123456789abcdef"}, {"model", "detector"},
          {"credential_file", "credential"}, {"device_key", "device.key"},
          {"signing_key", "fleet.pub"},      {"pipeline", "/etc/outpost/pipeline.json"}};
}

std::string ConfigError(const nlohmann::json& j) {
  Expected<AgentConfig> c = ParseAgentConfig(j, "/dev/d");
  return c.ok() ? "(parsed)" : c.message();
}

TEST(AgentConfig, DefaultsAndResolvedPaths) {
  Expected<AgentConfig> c = ParseAgentConfig(MinimalConfig(), "/dev/d");
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_EQ(c->credential_file, "/dev/d/credential");
  EXPECT_EQ(c->device_key, "/dev/d/device.key");
  EXPECT_EQ(c->signing_key, "/dev/d/fleet.pub");
  EXPECT_EQ(c->pipeline, "/etc/outpost/pipeline.json");  // absolute: kept
  EXPECT_EQ(c->rollback_key, "");
  EXPECT_EQ(c->ca_file, "");
  EXPECT_EQ(c->periods.poll_ms, 60'000);
  EXPECT_EQ(c->periods.report_ms, 10'000);
  EXPECT_EQ(c->health.min_inferences, 100);
  EXPECT_EQ(c->buffer.max_records, 100'000);
  EXPECT_DOUBLE_EQ(c->shadow_rate, 0.25);

  nlohmann::json j = MinimalConfig();
  j["periods_ms"] = {{"poll", 500}, {"report", 250}};
  j["health"] = {{"window_ms", 1000}, {"min_inferences", 20}, {"max_p99_ratio", 2.0}};
  j["buffer"] = {{"max_records", 500}};
  j["shadow"] = {{"rate", 1.0}};
  j["tags"] = {"camera", "line-1"};
  j["ca_file"] = "ca.pem";
  c = ParseAgentConfig(j, "/dev/d");
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_EQ(c->periods.poll_ms, 500);
  EXPECT_EQ(c->periods.report_ms, 250);
  EXPECT_EQ(c->periods.upload_ms, 10'000);
  EXPECT_EQ(c->health.window_ms, 1000);
  EXPECT_EQ(c->health.min_inferences, 20);
  EXPECT_DOUBLE_EQ(c->health.max_p99_ratio, 2.0);
  EXPECT_EQ(c->buffer.max_records, 500);
  EXPECT_DOUBLE_EQ(c->shadow_rate, 1.0);
  EXPECT_EQ(c->tags, (std::vector<std::string>{"camera", "line-1"}));
  EXPECT_EQ(c->ca_file, "/dev/d/ca.pem");
}

TEST(AgentConfig, OneErrorPerProblem) {
  auto with = [](const char* key, const nlohmann::json& value) {
    nlohmann::json j = MinimalConfig();
    j[key] = value;
    return j;
  };
  auto without = [](const char* key) {
    nlohmann::json j = MinimalConfig();
    j.erase(key);
    return j;
  };
  EXPECT_EQ(ConfigError(nlohmann::json::array()), "agent.json: expected a JSON object");
  EXPECT_EQ(ConfigError(with("colour", "blue")), "agent.json: unknown option 'colour'");
  EXPECT_EQ(ConfigError(without("server")), "agent.json: missing 'server'");
  EXPECT_EQ(ConfigError(without("pipeline")), "agent.json: missing 'pipeline'");
  EXPECT_EQ(ConfigError(with("format", "outpost-agent/2")), "agent.json: format 'outpost-agent/2' is not outpost-agent/1");
  EXPECT_EQ(ConfigError(with("server", "ftp://fleet")),
            "agent.json: 'server' must start with http:// or https://, got 'ftp://fleet'");
  EXPECT_EQ(ConfigError(with("model", "")), "agent.json: 'model' must not be empty");
  EXPECT_EQ(ConfigError(with("model", 7)), "agent.json: option 'model' has the wrong type (7)");
  EXPECT_EQ(ConfigError(with("tags", "camera")), "agent.json: option 'tags' has the wrong type (\"camera\")");
  EXPECT_EQ(ConfigError(with("periods_ms", {{"pol", 5}})), "agent.json: periods_ms: unknown option 'pol'");
  EXPECT_EQ(ConfigError(with("periods_ms", {{"poll", 0}})),
            "agent.json: periods_ms: option 'poll' must be in [10, 86400000]");
  EXPECT_EQ(ConfigError(with("periods_ms", 5)), "agent.json: periods_ms: expected a JSON object");
  EXPECT_EQ(ConfigError(with("health", {{"max_error_rate", 2}})),
            "agent.json: health: option 'max_error_rate' must be in [0.000000, 1.000000]");
  EXPECT_EQ(ConfigError(with("health", {{"min_inferences", "many"}})),
            "agent.json: health: option 'min_inferences' has the wrong type (\"many\")");
  EXPECT_EQ(ConfigError(with("buffer", {{"max_records", 0}})),
            "agent.json: buffer: option 'max_records' must be in [1, 100000000]");
  EXPECT_EQ(ConfigError(with("shadow", {{"rate", -0.5}})),
            "agent.json: shadow: option 'rate' must be in [0.000000, 1.000000]");
}

TEST(AgentConfig, LoadNamesTheFile) {
  const std::string dir = outpost::testing::MakeTempDir("agent_config_load");
  Expected<AgentConfig> missing = LoadAgentConfig(dir);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.message(), dir + "/agent.json: cannot read (run 'outpost agent enroll' first?)");

  std::ofstream(dir + "/agent.json") << "{\"format\": ";
  Expected<AgentConfig> broken = LoadAgentConfig(dir);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.message(), dir + "/agent.json: not valid JSON");

  nlohmann::json j = MinimalConfig();
  j["periods_ms"] = {{"report", 1}};
  std::ofstream(dir + "/agent.json") << j.dump();
  Expected<AgentConfig> bad = LoadAgentConfig(dir);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.message(), dir + "/agent.json: periods_ms: option 'report' must be in [10, 86400000]");

  std::ofstream(dir + "/agent.json") << MinimalConfig().dump();
  Expected<AgentConfig> good = LoadAgentConfig(dir);
  ASSERT_TRUE(good.ok()) << good.message();
  EXPECT_EQ(good->dir, dir);
  EXPECT_EQ(good->credential_file, dir + "/credential");
}

}  // namespace
}  // namespace outpost::agent
