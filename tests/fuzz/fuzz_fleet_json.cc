// libFuzzer target: the fleet server's parsers of untrusted JSON (fleet/server/api_input.h,
// the rollout plan and alert rule readers behind them). The first byte chooses the parser
// ('a' + kind below), the rest is the request body (or query string). Beyond "no crash" each
// run checks: a refusal is a non-empty, short, valid UTF-8 message (it is sent as JSON); an
// acceptance holds values within the documented limits (docs/fleet-api.md, docs/rollouts.md);
// and the accepted value, written back as JSON, parses to the same value.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fleet/rollout/alert_rules.h"
#include "fleet/rollout/rollout_plan.h"
#include "fleet/server/api_input.h"
#include "fleet/server/validation.h"

namespace {

using namespace outpost;
using namespace outpost::fleet;
using nlohmann::json;

constexpr int64_t kMaxRecords = 8;  // small, so that the record limit is reached too
constexpr int64_t kMonthS = 30LL * 24 * 3600;

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (!(cond)) {                                                        \
      std::fprintf(stderr, "fuzz_fleet_json: check failed: %s\n", #cond); \
      std::abort();                                                       \
    }                                                                     \
  } while (0)

// A refusal: one short message the server can send as JSON.
template <typename T>
bool Accepted(const Expected<T>& result) {
  if (result.ok()) return true;
  const std::string m = result.message();
  CHECK(!m.empty());
  CHECK(m.size() <= 512);
  try {
    (void)json(m).dump();  // throws on invalid UTF-8
  } catch (const json::exception&) {
    CHECK(!"the message is not valid UTF-8");
  }
  return false;
}

template <typename T>
T Reparse(Expected<T> result) {
  CHECK(result.ok());
  return std::move(result).value();
}

bool IsGroupOrEmpty(const std::string& s) { return s.empty() || IsLabel(s); }
bool AreTags(const std::vector<std::string>& tags) {
  if (tags.size() > kMaxTags) return false;
  for (const std::string& t : tags) {
    if (!IsLabel(t)) return false;
  }
  return true;
}

void Enroll(const std::string& body) {
  Expected<EnrollRequest> r = ParseEnrollRequest(body);
  if (!Accepted(r)) return;
  CHECK(IsDeviceName(r->name));
  CHECK(r->public_key.empty() || IsDevicePublicKey(r->public_key));
  json j = {{"token", r->token}, {"name", r->name}};
  if (!r->public_key.empty()) j["public_key"] = r->public_key;
  const EnrollRequest again = Reparse(ParseEnrollRequest(j.dump()));
  CHECK(again.token == r->token && again.name == r->name && again.public_key == r->public_key);
}

void Poll(const std::string& body) {
  Expected<PollReport> r = ParsePollReport(body);
  if (!Accepted(r)) return;
  CHECK(r->model.empty() == r->version.empty());
  CHECK(r->model.empty() || (IsModelName(r->model) && IsVersion(r->version)));
  const json status = json::parse(r->status_json);
  CHECK(status.is_object());
  json j = {{"status", status}};
  if (!r->model.empty()) j["model"] = r->model, j["version"] = r->version;
  const PollReport again = Reparse(ParsePollReport(j.dump()));
  CHECK(again.model == r->model && again.version == r->version && again.status_json == r->status_json);
}

void CheckRecord(const TelemetryRecord& r) {
  CHECK(r.seq >= 1 && r.time_ms >= 0);
  CHECK(IsModelName(r.model) && IsVersion(r.version));
  CHECK(r.inferences >= 0 && r.errors >= 0 && r.errors <= r.inferences && r.rss_bytes >= 0);
  CHECK(std::isfinite(r.latency_p50_ms) && r.latency_p50_ms >= 0);
  CHECK(std::isfinite(r.latency_p99_ms) && r.latency_p99_ms >= 0);
  CHECK(!r.agreement || (*r.agreement >= 0 && *r.agreement <= 1));
  CHECK(!r.drift_psi || (std::isfinite(*r.drift_psi) && *r.drift_psi >= 0));
  CHECK(!r.temperature_c || (*r.temperature_c >= -100 && *r.temperature_c <= 200));
  CHECK(r.device_id.empty());
  // The agent's fields live only in body_json: an accepted histogram has increasing positive
  // bounds and one more count than bounds.
  const json body = json::parse(r.body_json);
  if (body.contains("latency_histogram")) {
    const json& bounds = body["latency_histogram"]["bounds_ms"];
    const json& counts = body["latency_histogram"]["counts"];
    CHECK(!bounds.empty() && bounds.size() <= 64 && counts.size() == bounds.size() + 1);
    for (size_t i = 0; i < bounds.size(); ++i) CHECK(bounds[i].get<double>() > (i == 0 ? 0.0 : bounds[i - 1].get<double>()));
    for (const json& c : counts) CHECK(c.is_number_integer() && c.get<int64_t>() >= 0);
  }
  if (body.contains("throttled")) CHECK(body["throttled"].is_boolean());
}

bool SameRecord(const TelemetryRecord& a, const TelemetryRecord& b) {
  return a.seq == b.seq && a.time_ms == b.time_ms && a.model == b.model && a.version == b.version &&
         a.inferences == b.inferences && a.errors == b.errors && a.latency_p50_ms == b.latency_p50_ms &&
         a.latency_p99_ms == b.latency_p99_ms && a.agreement == b.agreement && a.drift_psi == b.drift_psi &&
         a.temperature_c == b.temperature_c && a.rss_bytes == b.rss_bytes && a.body_json == b.body_json;
}

void Telemetry(const std::string& body) {
  Expected<std::vector<TelemetryRecord>> r = ParseTelemetryBatch(body, kMaxRecords);
  if (!Accepted(r)) return;
  CHECK(static_cast<int64_t>(r->size()) <= kMaxRecords);
  json records = json::array();
  for (const TelemetryRecord& record : *r) {
    CheckRecord(record);
    records.push_back(json::parse(record.body_json));
  }
  const std::vector<TelemetryRecord> again = Reparse(ParseTelemetryBatch(json{{"records", records}}.dump(), kMaxRecords));
  CHECK(again.size() == r->size());
  for (size_t i = 0; i < again.size(); ++i) CHECK(SameRecord(again[i], (*r)[i]));
}

void EnrollmentToken(const std::string& body) {
  Expected<EnrollmentTokenRequest> r = ParseEnrollmentTokenRequest(body);
  if (!Accepted(r)) return;
  CHECK(IsGroupOrEmpty(r->group) && AreTags(r->tags));
  CHECK(r->expires_in_s >= 1 && r->expires_in_s <= kMaxTokenLifetimeS);
  CHECK(r->uses >= 1 && r->uses <= kMaxTokenUses);
  const json j = {{"group", r->group}, {"tags", r->tags}, {"expires_in_s", r->expires_in_s}, {"uses", r->uses}};
  const EnrollmentTokenRequest again = Reparse(ParseEnrollmentTokenRequest(j.dump()));
  CHECK(again.group == r->group && again.tags == r->tags && again.expires_in_s == r->expires_in_s &&
        again.uses == r->uses);
}

void Patch(const std::string& body) {
  Expected<DevicePatch> r = ParseDevicePatch(body);
  if (!Accepted(r)) return;
  CHECK(!r->group || IsGroupOrEmpty(*r->group));
  CHECK(!r->tags || AreTags(*r->tags));
  json j = json::object();
  if (r->group) j["group"] = *r->group;
  if (r->tags) j["tags"] = *r->tags;
  const DevicePatch again = Reparse(ParseDevicePatch(j.dump()));
  CHECK(again.group == r->group && again.tags == r->tags);
}

void Desired(const std::string& body) {
  Expected<DesiredStateRequest> r = ParseDesiredStateRequest(body);
  if (!Accepted(r)) return;
  CHECK(IsModelName(r->model) && IsVersion(r->version));
  const DesiredStateRequest again =
      Reparse(ParseDesiredStateRequest(json{{"model", r->model}, {"version", r->version}}.dump()));
  CHECK(again.model == r->model && again.version == r->version);
}

void CheckPlan(const RolloutPlan& p) {
  CHECK(!p.stages.empty() && p.stages.size() <= 20);
  double previous = 0;
  for (const RolloutStage& s : p.stages) {
    CHECK(s.percent > previous && s.percent <= 100);
    CHECK(s.min_devices >= 0 && s.min_devices <= 1000000000);
    CHECK(s.hold_s >= 0 && s.hold_s <= kMonthS);
    previous = s.percent;
  }
  CHECK(p.stages.back().percent == 100);
  const RolloutGates& g = p.gates;
  CHECK(g.min_records >= 1 && g.min_records <= 1000000000);
  CHECK(!g.max_error_rate || (*g.max_error_rate >= 0 && *g.max_error_rate <= 1));
  CHECK(!g.max_error_rate_increase || (*g.max_error_rate_increase >= 0 && *g.max_error_rate_increase <= 1));
  CHECK(!g.max_p99_latency_ratio || (*g.max_p99_latency_ratio >= 1 && *g.max_p99_latency_ratio <= 1e9));
  CHECK(!g.min_agreement || (*g.min_agreement >= 0 && *g.min_agreement <= 1));
  CHECK(!g.max_drift_psi || (*g.max_drift_psi >= 0 && *g.max_drift_psi <= 1e9));
  CHECK(p.max_wait_s >= 1 && p.max_wait_s <= kMonthS);
  // The complete form (what a rollout stores) reads back to the same plan.
  const json full = RolloutPlanToJson(p);
  CHECK(RolloutPlanToJson(Reparse(ParseRolloutPlan(full.dump()))) == full);
}

void Rollout(const std::string& body) {
  Expected<RolloutRequest> r = ParseRolloutRequest(body);
  if (!Accepted(r)) return;
  CHECK(IsModelName(r->model) && IsVersion(r->version) && IsGroupOrEmpty(r->group));
  CHECK(r->plan.is_null() || r->plan.is_object());
  // What the server stores for the rollout and its controller reads back later.
  CheckPlan(Reparse(ParseRolloutPlan(r->plan.is_null() ? std::string() : r->plan.dump())));
  json j = {{"model", r->model}, {"version", r->version}, {"group", r->group}};
  if (!r->plan.is_null()) j["plan"] = r->plan;
  const RolloutRequest again = Reparse(ParseRolloutRequest(j.dump()));
  CHECK(again.model == r->model && again.version == r->version && again.group == r->group && again.plan == r->plan);
}

void Reason(const std::string& body) {
  Expected<std::string> r = ParseRolloutChangeReason(body);
  if (!Accepted(r)) return;
  CHECK(!r->empty() && r->size() <= kMaxReasonBytes);
  CHECK(Reparse(ParseRolloutChangeReason(json{{"reason", *r}}.dump())) == *r);
}

void CheckAlertRule(const AlertRuleSpec& r) {
  CHECK(!r.name.empty());
  CHECK(std::isfinite(r.threshold) && std::fabs(r.threshold) <= 1e12);
  CHECK(r.version.empty() || !r.model.empty());
  CHECK(r.metric == AlertMetric::kOfflineMinutes || !r.model.empty());
  CHECK(r.window_s >= 1 && r.window_s <= kMonthS);
  CHECK(r.min_records >= 1 && r.min_records <= 1000000000);
  if (r.then_rollout) {
    CHECK(!r.then_rollout->model.empty() && !r.then_rollout->version.empty());
    CheckPlan(Reparse(ParseRolloutPlan(r.then_rollout->plan)));
  }
}

void AlertRule(const std::string& body) {
  Expected<AlertRuleSpec> r = ParseAlertRuleRequest(body);
  if (!Accepted(r)) return;
  CheckAlertRule(*r);
  // The server stores AlertRuleToJson; the evaluator reads that text back.
  const json stored = AlertRuleToJson(*r);
  CHECK(AlertRuleToJson(Reparse(ParseAlertRule(stored.dump()))) == stored);
}

// The query as httplib hands it over: decoded keys and values, split at '&' and the first '='.
void UploadQuery(const std::string& query) {
  std::multimap<std::string, std::string> params;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string item = query.substr(start, end - start);
    const size_t eq = item.find('=');
    params.emplace(item.substr(0, eq), eq == std::string::npos ? "" : item.substr(eq + 1));
    start = end + 1;
  }
  Expected<std::string> r = ParseUploadQuery(params);
  if (!Accepted(r)) return;
  for (const auto& [key, value] : params) CHECK(key == "parent");
  CHECK(r->empty() || IsVersion(*r));
}

// Stored plans and rules are read back as text (the controller, the alert evaluator).
void PlanText(const std::string& text) {
  Expected<RolloutPlan> r = ParseRolloutPlan(text);
  if (Accepted(r)) CheckPlan(*r);
}

void AlertRuleText(const std::string& text) {
  Expected<AlertRuleSpec> r = ParseAlertRule(text);
  if (Accepted(r)) CheckAlertRule(*r);
}

void (*const kParsers[])(const std::string&) = {Enroll,   Poll,   Telemetry, EnrollmentToken, Patch,        Desired,
                                                Rollout, Reason, AlertRule, UploadQuery,     PlanText,     AlertRuleText};
constexpr size_t kKinds = sizeof(kParsers) / sizeof(kParsers[0]);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t kind = static_cast<uint8_t>(data[0] - 'a') % kKinds;
  kParsers[kind](std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
