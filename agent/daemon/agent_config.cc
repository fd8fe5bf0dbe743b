#include "agent/daemon/agent_config.h"

#include <fstream>
#include <sstream>

#include "common/json_nesting.h"
#include "pipeline/config/json_options.h"

namespace outpost::agent {
namespace {

constexpr char kWhere[] = "agent.json";

std::string ResolveInDir(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || dir.empty()) return path;
  return dir + "/" + path;
}

// A required non-empty string.
std::string RequiredString(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) throw Error(std::string(kWhere) + ": missing '" + key + "'");
  const std::string v = pipeline::ReadOr<std::string>(j, kWhere, key, "");
  if (v.empty()) throw Error(std::string(kWhere) + ": '" + key + "' must not be empty");
  return v;
}

std::string OptionalString(const nlohmann::json& j, const char* key) {
  return pipeline::ReadOr<std::string>(j, kWhere, key, "");
}

}  // namespace

Expected<AgentConfig> ParseAgentConfig(const nlohmann::json& j, const std::string& dir) {
  return Capture([&] {
    pipeline::CheckKeys(j, kWhere,
                        {"format", "server", "ca_file", "device_id", "name", "model", "tags",
                         "credential_file", "device_key", "signing_key", "rollback_key", "pipeline",
                         "periods_ms", "health", "buffer", "shadow"});
    const std::string format = RequiredString(j, "format");
    if (format != kAgentConfigFormat)
      throw Error(std::string(kWhere) + ": format '" + format + "' is not " + kAgentConfigFormat);
    AgentConfig c;
    c.dir = dir;
    c.server = RequiredString(j, "server");
    if (c.server.rfind("http://", 0) != 0 && c.server.rfind("https://", 0) != 0)
      throw Error(std::string(kWhere) + ": 'server' must start with http:// or https://, got '" + c.server + "'");
    c.ca_file = ResolveInDir(dir, OptionalString(j, "ca_file"));
    c.device_id = RequiredString(j, "device_id");
    c.name = OptionalString(j, "name");
    c.model = RequiredString(j, "model");
    c.tags = pipeline::ReadOr<std::vector<std::string>>(j, kWhere, "tags", {});
    c.credential_file = ResolveInDir(dir, RequiredString(j, "credential_file"));
    c.device_key = ResolveInDir(dir, RequiredString(j, "device_key"));
    c.signing_key = ResolveInDir(dir, RequiredString(j, "signing_key"));
    c.rollback_key = ResolveInDir(dir, OptionalString(j, "rollback_key"));
    c.pipeline = ResolveInDir(dir, RequiredString(j, "pipeline"));

    constexpr int64_t kDay = 24ll * 3600 * 1000;
    if (j.contains("periods_ms")) {
      const nlohmann::json& p = j["periods_ms"];
      const std::string where = std::string(kWhere) + ": periods_ms";
      pipeline::CheckKeys(p, where, {"poll", "report", "upload"});
      c.periods.poll_ms = pipeline::ReadInRange<int64_t>(p, where, "poll", c.periods.poll_ms, 10, kDay);
      c.periods.report_ms = pipeline::ReadInRange<int64_t>(p, where, "report", c.periods.report_ms, 10, kDay);
      c.periods.upload_ms = pipeline::ReadInRange<int64_t>(p, where, "upload", c.periods.upload_ms, 10, kDay);
    }
    if (j.contains("health")) {
      const nlohmann::json& h = j["health"];
      const std::string where = std::string(kWhere) + ": health";
      pipeline::CheckKeys(h, where,
                          {"window_ms", "min_inferences", "max_error_rate_increase", "max_error_rate", "max_p99_ratio"});
      c.health.window_ms = pipeline::ReadInRange<int64_t>(h, where, "window_ms", c.health.window_ms, 0, kDay);
      c.health.min_inferences =
          pipeline::ReadInRange<int64_t>(h, where, "min_inferences", c.health.min_inferences, 0, 100'000'000);
      c.health.max_error_rate_increase = pipeline::ReadInRange<double>(
          h, where, "max_error_rate_increase", c.health.max_error_rate_increase, 0.0, 1.0);
      c.health.max_error_rate =
          pipeline::ReadInRange<double>(h, where, "max_error_rate", c.health.max_error_rate, 0.0, 1.0);
      c.health.max_p99_ratio =
          pipeline::ReadInRange<double>(h, where, "max_p99_ratio", c.health.max_p99_ratio, 1.0, 1000.0);
    }
    if (j.contains("buffer")) {
      const nlohmann::json& b = j["buffer"];
      const std::string where = std::string(kWhere) + ": buffer";
      pipeline::CheckKeys(b, where, {"max_records", "max_bytes"});
      c.buffer.max_records =
          pipeline::ReadInRange<int64_t>(b, where, "max_records", c.buffer.max_records, 1, 100'000'000);
      c.buffer.max_bytes =
          pipeline::ReadInRange<int64_t>(b, where, "max_bytes", c.buffer.max_bytes, 4096, 1ll << 40);
    }
    if (j.contains("shadow")) {
      const nlohmann::json& s = j["shadow"];
      const std::string where = std::string(kWhere) + ": shadow";
      pipeline::CheckKeys(s, where, {"rate"});
      c.shadow_rate = pipeline::ReadInRange<double>(s, where, "rate", c.shadow_rate, 0.0, 1.0);
    }
    return c;
  });
}

Expected<AgentConfig> LoadAgentConfig(const std::string& dir) {
  const std::string path = dir + "/" + kAgentConfigFile;
  std::ifstream in(path);
  if (!in) return Error(path + ": cannot read (run 'outpost agent enroll' first?)");
  std::stringstream text;
  text << in.rdbuf();
  const std::string body = text.str();
  if (!JsonNestingWithin(body, 16)) return Error(path + ": not valid JSON (nested too deeply)");
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return Error(path + ": not valid JSON");
  Expected<AgentConfig> c = ParseAgentConfig(j, dir);
  if (c) return c;
  std::string message = c.message();
  const std::string prefix = std::string(kWhere) + ": ";
  if (message.rfind(prefix, 0) == 0) message = message.substr(prefix.size());
  return Error(path + ": " + message);
}

}  // namespace outpost::agent
