#include "fleet/server/api_input.h"

#include <cmath>

#include "common/json/strict_json.h"
#include "fleet/rollout/rollout_plan.h"
#include "fleet/server/validation.h"

namespace outpost::fleet {
namespace {

constexpr const char* kBody = "request body";
constexpr int64_t kIntMax = JsonFields::kIntMax;

// A group ("" for none) and tags, each with the label shape.
void CheckGroup(const JsonFields& f, const std::string& group) {
  if (!group.empty() && !IsLabel(group)) f.Fail("group", "must be 1-64 of A-Z a-z 0-9 . _ : -");
}

void CheckTags(const JsonFields& f, const std::vector<std::string>& tags) {
  if (tags.size() > kMaxTags) f.Fail("tags", "must hold at most " + std::to_string(kMaxTags) + " tags");
  for (const std::string& t : tags) {
    if (!IsLabel(t)) f.Fail("tags", "must each be 1-64 of A-Z a-z 0-9 . _ : -, got " + ShowString(t));
  }
}

void CheckModel(const JsonFields& f, const std::string& model) {
  if (!IsModelName(model)) f.Fail("model", "is not a valid model name");
}

void CheckVersion(const JsonFields& f, const std::string& version) {
  if (!IsVersion(version)) f.Fail("version", "is not a semantic version");
}

// `latency_histogram`: {"bounds_ms":[b1,...,bn],"counts":[c0,...,cn]} where counts[i] counts
// latencies up to bounds_ms[i] (above the previous bound) and the last count those above bn.
// Bounds are positive, finite and strictly increasing; at most kMaxHistogramBounds of them.
constexpr size_t kMaxHistogramBounds = 64;
// `events`: a few lines of text per record.
constexpr size_t kMaxRecordEvents = 16;
constexpr size_t kMaxRecordEventBytes = 1024;

void CheckLatencyHistogram(const JsonFields& record, const nlohmann::json& histogram) {
  const JsonFields f(histogram, record.where() + ": latency_histogram", {"bounds_ms", "counts"});
  const nlohmann::json& bounds = f.Array("bounds_ms");
  const nlohmann::json& counts = f.Array("counts");
  if (bounds.empty() || bounds.size() > kMaxHistogramBounds)
    f.Fail("bounds_ms", "must hold 1-" + std::to_string(kMaxHistogramBounds) + " bounds");
  double previous = 0;
  for (const nlohmann::json& b : bounds) {
    if (!b.is_number() || !std::isfinite(b.get<double>()) || b.get<double>() <= previous)
      f.Fail("bounds_ms", "must be positive and strictly increasing, got " + ShowJson(b));
    previous = b.get<double>();
  }
  if (counts.size() != bounds.size() + 1) f.Fail("counts", "must hold one more entry than 'bounds_ms'");
  for (const nlohmann::json& c : counts) {
    const bool whole = c.is_number_unsigned() ? c.get<uint64_t>() <= static_cast<uint64_t>(kIntMax)
                                              : c.is_number_integer() && c.get<int64_t>() >= 0;
    if (!whole)
      f.Fail("counts", "must be non-negative whole numbers, got " + ShowJson(c));
  }
}

TelemetryRecord ReadRecord(const nlohmann::json& j, size_t index) {
  const JsonFields f(j, "record " + std::to_string(index),
                     {"seq", "time_ms", "model", "version", "inferences", "errors", "latency_p50_ms",
                      "latency_p99_ms", "agreement", "drift_psi", "temperature_c", "rss_bytes",
                      "latency_histogram", "arena_bytes", "input_drift_psi", "dropped_records", "throttled",
                      "throttle_ratio", "events"});
  TelemetryRecord r;
  r.seq = f.Int("seq", 1, kIntMax);
  r.time_ms = f.Int("time_ms", 0, kIntMax);
  r.model = f.String("model");
  r.version = f.String("version");
  CheckModel(f, r.model);
  CheckVersion(f, r.version);
  r.inferences = f.OptInt("inferences", 0, kIntMax).value_or(0);
  r.errors = f.OptInt("errors", 0, kIntMax).value_or(0);
  if (r.errors > r.inferences) f.Fail("errors", "exceeds 'inferences'");
  r.latency_p50_ms = f.OptNumber("latency_p50_ms", 0).value_or(0);
  r.latency_p99_ms = f.OptNumber("latency_p99_ms", 0).value_or(0);
  r.agreement = f.OptNumber("agreement", 0, 1);
  r.drift_psi = f.OptNumber("drift_psi", 0);
  r.temperature_c = f.OptNumber("temperature_c", -100, 200);
  r.rss_bytes = f.OptInt("rss_bytes", 0, kIntMax).value_or(0);
  // The agent's further measurements are kept only in body_json (no column of their own).
  if (const nlohmann::json* histogram = f.OptObject("latency_histogram")) CheckLatencyHistogram(f, *histogram);
  (void)f.OptInt("arena_bytes", 0, kIntMax);
  (void)f.OptNumber("input_drift_psi", 0);
  (void)f.OptInt("dropped_records", 0, kIntMax);
  (void)f.OptNumber("throttle_ratio", 0);
  // The agent's update events of the period (refusals with their reason, commits, rollbacks).
  if (const auto events = f.OptStrings("events")) {
    if (events->size() > kMaxRecordEvents) f.Fail("events", "must hold at most " + std::to_string(kMaxRecordEvents) + " events");
    for (const std::string& e : *events)
      if (e.empty() || e.size() > kMaxRecordEventBytes)
        f.Fail("events", "must each be 1-" + std::to_string(kMaxRecordEventBytes) + " bytes");
  }
  if (f.has("throttled") && !j["throttled"].is_boolean()) f.Fail("throttled", "must be true or false, got " + ShowJson(j["throttled"]));
  r.body_json = j.dump();
  return r;
}

}  // namespace

Expected<EnrollRequest> ParseEnrollRequest(const std::string& body) {
  return Capture([&] {
    const nlohmann::json j = ParseJsonObject(body, kBody);
    const JsonFields f(j, kBody, {"token", "name", "public_key"});
    EnrollRequest r;
    r.token = f.String("token");
    r.name = f.String("name");
    if (!IsDeviceName(r.name)) f.Fail("name", "must be 1-128 bytes of UTF-8 without control characters");
    if (const std::optional<std::string> key = f.OptString("public_key")) {
      if (!IsDevicePublicKey(*key)) f.Fail("public_key", "must be a 32-byte X25519 public key in base64 (44 characters)");
      r.public_key = *key;
    }
    return r;
  });
}

Expected<PollReport> ParsePollReport(const std::string& body) {
  return Capture([&] {
    const nlohmann::json j = ParseJsonObject(body, kBody);
    const JsonFields f(j, kBody, {"model", "version", "status"});
    PollReport r;
    r.model = f.OptString("model").value_or("");
    r.version = f.OptString("version").value_or("");
    if (!r.model.empty()) CheckModel(f, r.model);
    if (!r.version.empty()) CheckVersion(f, r.version);
    if (r.model.empty() != r.version.empty()) f.FailObject("'model' and 'version' go together");
    if (const nlohmann::json* status = f.OptObject("status")) r.status_json = status->dump();
    return r;
  });
}

std::string TooManyRecordsMessage(int64_t max_records) {
  return "at most " + std::to_string(max_records) + " records per batch";
}

Expected<std::vector<TelemetryRecord>> ParseTelemetryBatch(const std::string& body, int64_t max_records) {
  return Capture([&] {
    const nlohmann::json j = ParseJsonObject(body, kBody);
    const JsonFields f(j, kBody, {"records"});
    const nlohmann::json& list = f.Array("records");
    if (static_cast<int64_t>(list.size()) > max_records) throw Error(TooManyRecordsMessage(max_records));
    // Every record is checked before any is stored: a batch is accepted or refused whole.
    std::vector<TelemetryRecord> records;
    records.reserve(list.size());
    for (size_t i = 0; i < list.size(); ++i) records.push_back(ReadRecord(list[i], i));
    return records;
  });
}

Expected<EnrollmentTokenRequest> ParseEnrollmentTokenRequest(const std::string& body) {
  return Capture([&] {
    const nlohmann::json j = ParseJsonObject(body, kBody);
    const JsonFields f(j, kBody, {"group", "tags", "expires_in_s", "uses"});
    EnrollmentTokenRequest r;
    r.group = f.OptString("group").value_or("");
    r.tags = f.OptStrings("tags").value_or(std::vector<std::string>{});
    CheckGroup(f, r.group);
    CheckTags(f, r.tags);
    r.expires_in_s = f.OptInt("expires_in_s", 1, kMaxTokenLifetimeS).value_or(r.expires_in_s);
    r.uses = f.OptInt("uses", 1, kMaxTokenUses).value_or(r.uses);
    return r;
  });
}

Expected<DevicePatch> ParseDevicePatch(const std::string& body) {
  return Capture([&] {
    const nlohmann::json j = ParseJsonObject(body, kBody);
    const JsonFields f(j, kBody, {"group", "tags"});
    DevicePatch p;
    p.group = f.OptString("group");
    p.tags = f.OptStrings("tags");
    if (p.group) CheckGroup(f, *p.group);
    if (p.tags) CheckTags(f, *p.tags);
    return p;
  });
}

Expected<DesiredStateRequest> ParseDesiredStateRequest(const std::string& body) {
  return Capture([&] {
    const nlohmann::json j = ParseJsonObject(body, kBody);
    const JsonFields f(j, kBody, {"model", "version"});
    DesiredStateRequest r;
    r.model = f.String("model");
    r.version = f.String("version");
    CheckModel(f, r.model);
    CheckVersion(f, r.version);
    return r;
  });
}

Expected<RolloutRequest> ParseRolloutRequest(const std::string& body) {
  return Capture([&] {
    const nlohmann::json j = ParseJsonObject(body, kBody);
    const JsonFields f(j, kBody, {"model", "version", "group", "plan"});
    RolloutRequest r;
    r.model = f.String("model");
    r.version = f.String("version");
    r.group = f.OptString("group").value_or("");
    CheckModel(f, r.model);
    CheckVersion(f, r.version);
    CheckGroup(f, r.group);
    if (const nlohmann::json* plan = f.OptObject("plan")) {
      Expected<RolloutPlan> parsed = ParseRolloutPlan(*plan);
      if (!parsed.ok()) f.Fail("plan", "is refused: " + parsed.message());
      r.plan = *plan;
    }
    return r;
  });
}

Expected<std::string> ParseRolloutChangeReason(const std::string& body) {
  return Capture([&] {
    const nlohmann::json j = ParseJsonObject(body, kBody);
    const JsonFields f(j, kBody, {"reason"});
    std::string reason = f.OptString("reason").value_or("by hand");
    if (reason.empty() || reason.size() > kMaxReasonBytes)
      f.Fail("reason", "must be 1-" + std::to_string(kMaxReasonBytes) + " bytes");
    return reason;
  });
}

Expected<AlertRuleSpec> ParseAlertRuleRequest(const std::string& body) {
  Expected<nlohmann::json> j = Capture([&] { return ParseJsonObject(body, kBody); });
  if (!j.ok()) return j.error();
  return ParseAlertRule(*j);
}

Expected<std::string> ParseUploadQuery(const std::multimap<std::string, std::string>& params) {
  return Capture([&] {
    for (const auto& [key, value] : params) {
      if (key != "parent") throw Error("unknown query parameter " + ShowString(key));
    }
    // The first value when repeated, as httplib's get_param_value reads it.
    const auto [first, end] = params.equal_range("parent");
    const std::string parent = first == end ? std::string() : first->second;
    if (!parent.empty() && !IsVersion(parent)) throw Error("query parameter 'parent' is not a semantic version");
    return parent;
  });
}

}  // namespace outpost::fleet
