// The device side of the API: enrollment (with a one-time token), poll (report what runs,
// learn what should run, with a delta when one applies) and telemetry batches. Device
// endpoints carry no device id: the credential says who is calling, so a device can only ever
// read or change its own state.
#include <httplib.h>

#include "fleet/server/api_context.h"
#include "fleet/server/api_input.h"
#include "fleet/server/request_body.h"
#include "fleet/store/random_id.h"
#include "package/rollback_order.h"

namespace outpost::fleet {
namespace {

void Enroll(ApiContext& ctx, const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  const EnrollRequest request = InputValue(ParseEnrollRequest(ReadBody(req, reader, ctx.options.max_json_bytes)));
  const std::string& token = request.token;
  if (token.size() != 64) throw ApiError(401, "invalid enrollment token");

  Device d;
  d.id = RandomId("d-");
  d.name = request.name;
  d.public_key = request.public_key;
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

// Going back to a version with a lower counter (a rollout rolled back or aborted, or an
// operator's choice): the device's anti-rollback refuses it unless the fleet signs an order
// for this device and version. Without a rollback key (the caller checks) the offer goes out
// without one, and the device reports the refusal.
nlohmann::json RollbackOrderFor(ApiContext& ctx, const Device& device, const ModelVersion& target) {
  package::RollbackOrder order;
  order.model = target.name;
  order.version = target.version;
  order.counter = static_cast<uint64_t>(target.counter);
  order.device = device.id;
  order.issued_ms = ctx.now();
  order.expires_ms = order.issued_ms + ctx.options.rollback_order_ttl_s * 1000;
  Expected<std::string> signed_order = package::SignRollbackOrder(order, *ctx.rollback_key);
  if (!signed_order.ok()) throw std::runtime_error("signing a rollback order: " + signed_order.message());
  return nlohmann::json::parse(*signed_order);
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
    if (base && target->counter < base->counter && ctx.rollback_key) out["rollback_order"] = RollbackOrderFor(ctx, device, *target);
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
  const PollReport report = InputValue(ParsePollReport(raw));
  StoreValue(ctx.store->RecordDeviceReport(device.id, report.model, report.version, report.status_json, ctx.now()),
             "recording a poll");
  const nlohmann::json desired = DesiredJson(ctx, device, report.model, report.version);
  SendJson(res, 200, {{"desired", desired}});
  StoreValue(ctx.store->RecordTransfer({device.id, "poll", static_cast<int64_t>(raw.size() + res.body.size()), ctx.now()}),
             "recording a transfer");
}

void Telemetry(ApiContext& ctx, const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  const Device device = ctx.auth->RequireDevice(req);
  const std::string raw = ReadBody(req, reader, ctx.options.max_json_bytes);
  // Every record is checked before any is stored: a batch is accepted or refused whole.
  Expected<std::vector<TelemetryRecord>> batch = ParseTelemetryBatch(raw, ctx.options.max_telemetry_records);
  if (!batch.ok()) {
    const bool too_many = batch.message() == TooManyRecordsMessage(ctx.options.max_telemetry_records);
    throw ApiError(too_many ? 413 : 400, batch.message());
  }
  std::vector<TelemetryRecord> records = std::move(batch).value();
  for (TelemetryRecord& r : records) r.device_id = device.id;
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
