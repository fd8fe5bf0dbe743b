// The operators' side of the API (admin bearer token): enrollment tokens, the device list and
// labels, desired state, and reading the model registry. Uploads are in model_upload.cc.
#include <httplib.h>

#include "fleet/server/api_context.h"
#include "fleet/server/api_input.h"
#include "fleet/server/request_body.h"
#include "fleet/server/query.h"
#include "fleet/server/validation.h"

namespace outpost::fleet {
namespace {

constexpr int64_t kMaxPageSize = 1000;

std::string DeviceIdOf(const httplib::Request& req) {
  const std::string id = req.matches[1];
  if (!IsDeviceId(id)) throw ApiError(400, "not a device id (d- and 16 hex digits)");
  return id;
}

Device ExistingDevice(ApiContext& ctx, const std::string& id) {
  std::optional<Device> d = StoreValue(ctx.store->FindDevice(id), "reading a device");
  if (!d) throw ApiError(404, "no device " + id);
  return *d;
}

void CreateEnrollmentToken(ApiContext& ctx, const httplib::Request& req, httplib::Response& res,
                           const httplib::ContentReader& reader) {
  ctx.auth->RequireAdmin(req);
  const EnrollmentTokenRequest request =
      InputValue(ParseEnrollmentTokenRequest(ReadBody(req, reader, ctx.options.max_json_bytes)));
  EnrollmentToken t;
  t.group = request.group;
  t.tags = request.tags;
  t.uses_left = request.uses;
  const std::string token = RandomSecret();
  t.token_hash = SecretHash(token);
  t.created_ms = ctx.now();
  t.expires_ms = t.created_ms + request.expires_in_s * 1000;
  StoreValue(ctx.store->AddEnrollmentToken(t), "storing an enrollment token");
  SendJson(res, 201, {{"token", token}, {"expires_ms", t.expires_ms}, {"uses", t.uses_left}, {"group", t.group},
                      {"tags", t.tags}});
}

void ListDevices(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  ctx.auth->RequireAdmin(req);
  CheckQuery(req, {"group", "tag", "model", "version", "limit", "offset"});
  DeviceFilter filter;
  filter.group = req.get_param_value("group");
  filter.tag = req.get_param_value("tag");
  filter.model = req.get_param_value("model");
  filter.version = req.get_param_value("version");
  if (!filter.group.empty() && !IsLabel(filter.group)) throw ApiError(400, "query parameter 'group' is not a valid group");
  if (!filter.tag.empty() && !IsLabel(filter.tag)) throw ApiError(400, "query parameter 'tag' is not a valid tag");
  if (!filter.model.empty() && !IsModelName(filter.model)) throw ApiError(400, "query parameter 'model' is not a model name");
  if (!filter.version.empty() && !IsVersion(filter.version)) throw ApiError(400, "query parameter 'version' is not a semantic version");
  filter.limit = QueryInt(req, "limit", 100, 1, kMaxPageSize);
  filter.offset = QueryInt(req, "offset", 0, 0, INT32_MAX);
  const std::vector<Device> devices = StoreValue(ctx.store->ListDevices(filter), "listing devices");
  const int64_t total = StoreValue(ctx.store->CountDevices(filter), "counting devices");
  nlohmann::json list = nlohmann::json::array();
  for (const Device& d : devices) list.push_back(DeviceJson(d));
  SendJson(res, 200, {{"devices", list}, {"total", total}});
}

void GetDevice(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  ctx.auth->RequireAdmin(req);
  const Device d = ExistingDevice(ctx, DeviceIdOf(req));
  nlohmann::json out = DeviceJson(d);
  std::optional<DesiredState> desired = StoreValue(ctx.store->GetDesiredState(d.id), "reading desired state");
  out["desired"] = desired ? nlohmann::json{{"model", desired->model},
                                            {"version", desired->version},
                                            {"rollout_id", desired->rollout_id},
                                            {"updated_ms", desired->updated_ms}}
                           : nlohmann::json(nullptr);
  SendJson(res, 200, out);
}

void PatchDevice(ApiContext& ctx, const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  ctx.auth->RequireAdmin(req);
  const std::string id = DeviceIdOf(req);
  const DevicePatch patch = InputValue(ParseDevicePatch(ReadBody(req, reader, ctx.options.max_json_bytes)));
  const Device d = ExistingDevice(ctx, id);
  const std::string group = patch.group.value_or(d.group);
  const std::vector<std::string> tags = patch.tags.value_or(d.tags);
  StoreValue(ctx.store->UpdateDeviceLabels(id, group, tags), "updating a device");
  SendJson(res, 200, DeviceJson(ExistingDevice(ctx, id)));
}

void PutDesired(ApiContext& ctx, const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  ctx.auth->RequireAdmin(req);
  const std::string id = DeviceIdOf(req);
  const DesiredStateRequest request =
      InputValue(ParseDesiredStateRequest(ReadBody(req, reader, ctx.options.max_json_bytes)));
  DesiredState s;
  s.device_id = id;
  s.model = request.model;
  s.version = request.version;
  ExistingDevice(ctx, id);
  if (!StoreValue(ctx.store->FindModelVersion(s.model, s.version), "reading the registry"))
    throw ApiError(422, "model " + s.model + " version " + s.version + " is not in the registry");
  s.updated_ms = ctx.now();
  StoreValue(ctx.store->SetDesiredState(s), "setting desired state");
  SendJson(res, 200, {{"device_id", id}, {"model", s.model}, {"version", s.version}, {"updated_ms", s.updated_ms}});
}

void ListModels(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  ctx.auth->RequireAdmin(req);
  CheckQuery(req, {"name"});
  const std::string name = req.get_param_value("name");
  if (!name.empty() && !IsModelName(name)) throw ApiError(400, "query parameter 'name' is not a model name");
  nlohmann::json list = nlohmann::json::array();
  for (const ModelVersion& m : StoreValue(ctx.store->ListModelVersions(name), "listing models")) list.push_back(ModelJson(m));
  SendJson(res, 200, {{"models", list}});
}

void GetModel(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  ctx.auth->RequireAdmin(req);
  const std::string name = req.matches[1], version = req.matches[2];
  if (!IsModelName(name)) throw ApiError(400, "not a model name");
  if (!IsVersion(version)) throw ApiError(400, "not a semantic version");
  std::optional<ModelVersion> m = StoreValue(ctx.store->FindModelVersion(name, version), "reading the registry");
  if (!m) throw ApiError(404, "no model " + name + " version " + version);
  SendJson(res, 200, ModelJson(*m));
}

}  // namespace

nlohmann::json DeviceJson(const Device& d) {
  nlohmann::json status = nlohmann::json::parse(d.status_json.empty() ? "{}" : d.status_json, nullptr, false);
  if (status.is_discarded()) status = nlohmann::json::object();
  // Never the credential hash.
  return {{"id", d.id},       {"name", d.name},
          {"group", d.group}, {"tags", d.tags},
          {"model", d.model}, {"version", d.version},
          {"status", status}, {"enrolled_ms", d.enrolled_ms},
          {"last_seen_ms", d.last_seen_ms},
          // What packages are sealed to (`outpost pack --encrypt-for`); null when the device
          // enrolled without one.
          {"public_key", d.public_key.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.public_key)}};
}

nlohmann::json ModelJson(const ModelVersion& m) {
  nlohmann::json figures = nlohmann::json::parse(m.figures_json.empty() ? "{}" : m.figures_json, nullptr, false);
  if (figures.is_discarded()) figures = nlohmann::json::object();
  return {{"name", m.name},     {"version", m.version},       {"counter", m.counter},
          {"digest", m.digest}, {"size", m.size},             {"parent", m.parent},
          {"figures", figures}, {"created_ms", m.created_ms}, {"url", "/v1/artifacts/" + m.digest}};
}

void RegisterAdminApi(httplib::Server& server, ApiContext& ctx) {
  server.Post("/v1/enrollment-tokens", GuardedReader([&ctx](const auto& req, auto& res, const auto& reader) {
                CreateEnrollmentToken(ctx, req, res, reader);
              }));
  server.Get("/v1/devices", Guarded([&ctx](const auto& req, auto& res) { ListDevices(ctx, req, res); }));
  server.Get("/v1/devices/([^/]+)", Guarded([&ctx](const auto& req, auto& res) { GetDevice(ctx, req, res); }));
  server.Patch("/v1/devices/([^/]+)",
               GuardedReader([&ctx](const auto& req, auto& res, const auto& reader) { PatchDevice(ctx, req, res, reader); }));
  server.Put("/v1/devices/([^/]+)/desired",
             GuardedReader([&ctx](const auto& req, auto& res, const auto& reader) { PutDesired(ctx, req, res, reader); }));
  server.Get("/v1/models", Guarded([&ctx](const auto& req, auto& res) { ListModels(ctx, req, res); }));
  server.Get("/v1/models/([^/]+)/versions/([^/]+)", Guarded([&ctx](const auto& req, auto& res) { GetModel(ctx, req, res); }));
}

}  // namespace outpost::fleet
