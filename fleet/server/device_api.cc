// The device side of the API: enrollment (with a one-time token), poll (report what runs,
// learn what should run, with a delta when one applies) and telemetry batches. Device
// endpoints carry no device id: the credential says who is calling, so a device can only ever
// read or change its own state.
#include <httplib.h>

#include "fleet/server/api_context.h"
#include "fleet/server/json_input.h"
#include "fleet/server/validation.h"
#include "fleet/store/random_id.h"

namespace outpost::fleet {
namespace {

void Enroll(ApiContext& ctx, const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  const nlohmann::json body = ParseObject(ReadBody(req, reader, ctx.options.max_json_bytes));
  const JsonFields f(body, {"token", "name"});
  const std::string token = f.String("token");
  const std::string name = f.String("name");
  if (!IsDeviceName(name)) throw ApiError(400, "field 'name' must be 1-128 bytes of UTF-8 without control characters");
  if (token.size() != 64) throw ApiError(401, "invalid enrollment token");

  Device d;
  d.id = RandomId("d-");
  d.name = name;
  const std::string credential = RandomSecret();
  d.credential_hash = SecretHash(credential);
  d.status_json = "{}";
  d.enrolled_ms = ctx.now();
  d.last_seen_ms = d.enrolled_ms;
  Expected<Device> made = ctx.store->Enroll(SecretHash(token), d, ctx.now());
  // The store says which: unknown, expired or used up (telling the holder of a token that it
  // expired reveals nothing). Any other failure is the server's.
  if (!made.ok()) {
    if (made.message().find("enrollment token") != std::string::npos) throw ApiError(401, made.message());
    LogStoreFailure("enrolling a device", made.message());
    throw ApiError(500, "storage failure while enrolling a device");
  }
  SendJson(res, 201, {{"device_id", made->id}, {"credential", credential}, {"group", made->group}, {"tags", made->tags}});
}

nlohmann::json DesiredJson(ApiContext& ctx, const Device& device, const std::string& running_model,
                           const std::string& running_version) {
  std::optional<DesiredState> desired = StoreValue(ctx.store->GetDesiredState(device.id), "reading desired state");
  if (!desired) return nullptr;
  std::optional<ModelVersion> target =
      StoreValue(ctx.store->FindModelVersion(desired->model, desired->version), "reading the registry");
  if (!target) return nullptr;  // cannot happen through the API: desired versions must be registered
  nlohmann::json out = {{"model", target->name},
                        {"version", target->version},
                        {"digest", target->digest},
                        {"size", target->size},
                        {"url", "/v1/artifacts/" + target->digest}};
  if (!desired->rollout_id.empty()) out["rollout_id"] = desired->rollout_id;
  // A delta only helps a device that runs a registered package of the same model other than
  // the target; the device verifies the rebuilt package like any download.
  if (running_model == target->name && !running_version.empty() && running_version != target->version) {
    std::optional<ModelVersion> base =
        StoreValue(ctx.store->FindModelVersion(running_model, running_version), "reading the registry");
    if (base && base->digest != target->digest) {
      if (std::optional<Delta> delta = ctx.deltas->Get(base->digest, target->digest)) {
        out["delta"] = {{"url", "/v1/deltas/" + base->digest + "/" + target->digest},
                        {"size", delta->size},
                        {"digest", delta->digest},
                        {"base_version", base->version}};
      }
    }
  }
  return out;
}

void Poll(ApiContext& ctx, const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  const Device device = ctx.auth->RequireDevice(req);
  const std::string raw = ReadBody(req, reader, ctx.options.max_json_bytes);
  const nlohmann::json body = ParseObject(raw);
  const JsonFields f(body, {"model", "version", "status"});
  const std::string model = f.OptString("model").value_or("");
  const std::string version = f.OptString("version").value_or("");
  if (!model.empty() && !IsModelName(model)) throw ApiError(400, "field 'model' is not a valid model name");
  if (!version.empty() && !IsVersion(version)) throw ApiError(400, "field 'version' is not a semantic version");
  if (model.empty() != version.empty()) throw ApiError(400, "fields 'model' and 'version' go together");
  const nlohmann::json* status = f.Object("status");
  const std::string status_json = status ? status->dump() : "{}";

  StoreValue(ctx.store->RecordDeviceReport(device.id, model, version, status_json, ctx.now()), "recording a poll");
  const nlohmann::json desired = DesiredJson(ctx, device, model, version);
  SendJson(res, 200, {{"desired", desired}});
  StoreValue(ctx.store->RecordTransfer({device.id, "poll", static_cast<int64_t>(raw.size() + res.body.size()), ctx.now()}),
             "recording a transfer");
}

TelemetryRecord ReadRecord(const nlohmann::json& j, size_t index, const std::string& device_id) {
  const std::string where = "record " + std::to_string(index) + ": ";
  const JsonFields f(j, {"seq", "time_ms", "model", "version", "inferences", "errors", "latency_p50_ms",
                         "latency_p99_ms", "agreement", "drift_psi", "temperature_c", "rss_bytes"},
                     where);
  auto fail = [&](const std::string& m) -> void { throw ApiError(400, where + m); };
  TelemetryRecord r;
  r.device_id = device_id;
  r.seq = f.Int("seq");
  if (r.seq <= 0) fail("field 'seq' must be positive");
  r.time_ms = f.Int("time_ms");
  if (r.time_ms < 0) fail("field 'time_ms' must not be negative");
  r.model = f.String("model");
  r.version = f.String("version");
  if (!IsModelName(r.model)) fail("field 'model' is not a valid model name");
  if (!IsVersion(r.version)) fail("field 'version' is not a semantic version");
  r.inferences = f.OptInt("inferences").value_or(0);
  r.errors = f.OptInt("errors").value_or(0);
  if (r.inferences < 0 || r.errors < 0) fail("counts must not be negative");
  if (r.errors > r.inferences) fail("field 'errors' exceeds 'inferences'");
  r.latency_p50_ms = f.OptNumber("latency_p50_ms").value_or(0);
  r.latency_p99_ms = f.OptNumber("latency_p99_ms").value_or(0);
  if (r.latency_p50_ms < 0 || r.latency_p99_ms < 0) fail("latencies must not be negative");
  r.agreement = f.OptNumber("agreement");
  if (r.agreement && (*r.agreement < 0 || *r.agreement > 1)) fail("field 'agreement' must be in [0, 1]");
  r.drift_psi = f.OptNumber("drift_psi");
  if (r.drift_psi && *r.drift_psi < 0) fail("field 'drift_psi' must not be negative");
  r.temperature_c = f.OptNumber("temperature_c");
  if (r.temperature_c && (*r.temperature_c < -100 || *r.temperature_c > 200)) fail("field 'temperature_c' is out of range");
  r.rss_bytes = f.OptInt("rss_bytes").value_or(0);
  if (r.rss_bytes < 0) fail("field 'rss_bytes' must not be negative");
  r.body_json = j.dump();
  return r;
}

void Telemetry(ApiContext& ctx, const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  const Device device = ctx.auth->RequireDevice(req);
  const std::string raw = ReadBody(req, reader, ctx.options.max_json_bytes);
  const nlohmann::json body = ParseObject(raw);
  const JsonFields f(body, {"records"});
  if (!f.has("records") || !body["records"].is_array()) throw ApiError(400, "field 'records' must be an array");
  const nlohmann::json& list = body["records"];
  if (static_cast<int64_t>(list.size()) > ctx.options.max_telemetry_records)
    throw ApiError(413, "at most " + std::to_string(ctx.options.max_telemetry_records) + " records per batch");
  // Every record is checked before any is stored: a batch is accepted or refused whole.
  std::vector<TelemetryRecord> records;
  records.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) records.push_back(ReadRecord(list[i], i, device.id));
  const InsertCounts counts = StoreValue(ctx.store->InsertTelemetry(records), "storing telemetry");
  StoreValue(ctx.store->RecordTransfer({device.id, "telemetry", static_cast<int64_t>(raw.size()), ctx.now()}),
             "recording a transfer");
  SendJson(res, 200, {{"inserted", counts.inserted}, {"duplicates", counts.duplicates}});
}

}  // namespace

void RegisterDeviceApi(httplib::Server& server, ApiContext& ctx) {
  server.Post("/v1/enroll", GuardedReader([&ctx](const httplib::Request& req, httplib::Response& res,
                                            const httplib::ContentReader& reader) { Enroll(ctx, req, res, reader); }));
  server.Post("/v1/device/poll", GuardedReader([&ctx](const httplib::Request& req, httplib::Response& res,
                                                 const httplib::ContentReader& reader) { Poll(ctx, req, res, reader); }));
  server.Post("/v1/device/telemetry",
              GuardedReader([&ctx](const httplib::Request& req, httplib::Response& res,
                             const httplib::ContentReader& reader) { Telemetry(ctx, req, res, reader); }));
}

}  // namespace outpost::fleet
