// The operators' side of rollouts and alerts (admin bearer token): start a staged rollout,
// follow it, pause, resume or abort it; alert rules and the alerts they opened. The logic is
// fleet/rollout/; these handlers only check input and translate to JSON (docs/fleet-api.md).
#include <httplib.h>

#include "fleet/rollout/alert_rules.h"
#include "fleet/rollout/rollout_json.h"
#include "fleet/rollout/rollout_plan.h"
#include "fleet/server/api_context.h"
#include "fleet/server/api_input.h"
#include "fleet/server/request_body.h"
#include "fleet/server/query.h"
#include "fleet/server/validation.h"
#include "fleet/store/random_id.h"

namespace outpost::fleet {
namespace {

std::string RolloutIdOf(const httplib::Request& req) {
  const std::string id = req.matches[1];
  if (!IsPrefixedId(id, "r-")) throw ApiError(400, "not a rollout id (r- and 16 hex digits)");
  return id;
}

Rollout ExistingRollout(ApiContext& ctx, const std::string& id) {
  std::optional<Rollout> r = StoreValue(ctx.store->FindRollout(id), "reading a rollout");
  if (!r) throw ApiError(404, "no rollout " + id);
  return *r;
}

// The controller says what kind of refusal it is: 409 when the rollout's state forbids the
// request (a second active rollout, pausing a paused one), 422 when the request cannot be
// carried out (a version not in the registry, no device to update); anything else is the
// server's failure (storage), logged and answered 500. The rollout API tests pin each case.
template <typename T>
T RolloutValue(Expected<T> result) {
  if (result.ok()) return std::move(result).value();
  switch (result.error().kind()) {
    case ErrorKind::kConflict: throw ApiError(409, result.message());
    case ErrorKind::kRefused: throw ApiError(422, result.message());
    case ErrorKind::kFailed: break;
  }
  LogStoreFailure("changing a rollout", result.message());
  throw ApiError(500, "storage failure while changing a rollout");
}

void StartRollout(ApiContext& ctx, const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader& reader) {
  ctx.auth->RequireAdmin(req);
  const RolloutRequest request = InputValue(ParseRolloutRequest(ReadBody(req, reader, ctx.options.max_json_bytes)));
  const std::string plan_json = request.plan.is_null() ? "" : request.plan.dump();
  const Rollout r =
      RolloutValue(ctx.rollouts->Start(request.model, request.version, request.group, plan_json, ctx.now()));
  SendJson(res, 201, RolloutJson(ctx, r, true));
}

void ListRollouts(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  ctx.auth->RequireAdmin(req);
  CheckQuery(req, {"active"});
  const bool active = QueryInt(req, "active", 0, 0, 1) == 1;
  nlohmann::json list = nlohmann::json::array();
  for (const Rollout& r : StoreValue(ctx.store->ListRollouts(active), "listing rollouts"))
    list.push_back(RolloutJson(ctx, r, false));
  SendJson(res, 200, {{"rollouts", list}});
}

void GetRollout(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  ctx.auth->RequireAdmin(req);
  SendJson(res, 200, RolloutJson(ctx, ExistingRollout(ctx, RolloutIdOf(req)), true));
}

void ChangeRollout(ApiContext& ctx, const httplib::Request& req, httplib::Response& res,
                   const httplib::ContentReader& reader) {
  ctx.auth->RequireAdmin(req);
  const std::string id = RolloutIdOf(req);
  const std::string verb = req.matches[2];
  const std::string reason =
      InputValue(ParseRolloutChangeReason(ReadBody(req, reader, ctx.options.max_json_bytes)));
  ExistingRollout(ctx, id);
  Rollout r;
  if (verb == "pause") {
    r = RolloutValue(ctx.rollouts->Pause(id, reason, ctx.now()));
  } else if (verb == "resume") {
    r = RolloutValue(ctx.rollouts->Resume(id, reason, ctx.now()));
  } else {
    r = RolloutValue(ctx.rollouts->Abort(id, reason, ctx.now()));
  }
  SendJson(res, 200, RolloutJson(ctx, r, false));
}

nlohmann::json AlertRuleJson(const AlertRule& rule) {
  nlohmann::json spec = nlohmann::json::parse(rule.rule_json, nullptr, false);
  if (spec.is_discarded()) spec = nlohmann::json::object();
  return {{"id", rule.id}, {"name", rule.name}, {"rule", spec}, {"enabled", rule.enabled}, {"created_ms", rule.created_ms}};
}

void AddAlertRule(ApiContext& ctx, const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader& reader) {
  ctx.auth->RequireAdmin(req);
  const AlertRuleSpec spec = InputValue(ParseAlertRuleRequest(ReadBody(req, reader, ctx.options.max_json_bytes)));
  AlertRule rule;
  rule.id = RandomId("a-");
  rule.name = spec.name;
  rule.rule_json = AlertRuleToJson(spec).dump();
  rule.enabled = true;
  rule.created_ms = ctx.now();
  StoreValue(ctx.store->AddAlertRule(rule), "storing an alert rule");
  SendJson(res, 201, AlertRuleJson(rule));
}

void ListAlertRules(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  ctx.auth->RequireAdmin(req);
  CheckQuery(req, {});
  nlohmann::json list = nlohmann::json::array();
  for (const AlertRule& r : StoreValue(ctx.store->ListAlertRules(), "listing alert rules")) list.push_back(AlertRuleJson(r));
  SendJson(res, 200, {{"rules", list}});
}

void DeleteAlertRule(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  ctx.auth->RequireAdmin(req);
  const std::string id = req.matches[1];
  if (!IsPrefixedId(id, "a-")) throw ApiError(400, "not an alert rule id (a- and 16 hex digits)");
  if (!StoreValue(ctx.store->DeleteAlertRule(id), "deleting an alert rule")) throw ApiError(404, "no alert rule " + id);
  SendJson(res, 200, {{"deleted", id}});
}

void ListAlerts(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  ctx.auth->RequireAdmin(req);
  CheckQuery(req, {"open", "limit"});
  const bool open_only = QueryInt(req, "open", 0, 0, 1) == 1;
  const int64_t limit = QueryInt(req, "limit", 200, 1, 1000);
  std::map<std::string, std::string> names;
  for (const AlertRule& r : StoreValue(ctx.store->ListAlertRules(), "listing alert rules")) names[r.id] = r.name;
  nlohmann::json list = nlohmann::json::array();
  for (const Alert& a : StoreValue(ctx.store->ListAlerts(open_only, limit), "listing alerts")) {
    list.push_back({{"id", a.id},
                    {"rule_id", a.rule_id},
                    {"rule", names.count(a.rule_id) ? names[a.rule_id] : a.rule_id},
                    {"subject", a.subject},
                    {"message", a.message},
                    {"value", a.value},
                    {"fired_ms", a.fired_ms},
                    {"resolved_ms", a.resolved_ms},
                    {"delivered", a.delivered}});
  }
  // Without a webhook alerts stay on the server: "delivered" is then always false, and the
  // dashboard says so rather than showing them as pending forever.
  SendJson(res, 200, {{"alerts", list}, {"webhook", !ctx.options.alert_webhook_url.empty()}});
}

}  // namespace

nlohmann::json RolloutJson(ApiContext& ctx, const Rollout& r, bool with_status) {
  nlohmann::json plan = nlohmann::json::parse(r.plan_json, nullptr, false);
  if (plan.is_discarded()) plan = nlohmann::json::object();
  const int64_t stages = plan.contains("stages") && plan["stages"].is_array() ? static_cast<int64_t>(plan["stages"].size()) : 0;
  nlohmann::json out = {{"id", r.id},
                        {"model", r.model},
                        {"version", r.version},
                        {"baseline_version", r.baseline_version},
                        {"group", r.group},
                        {"state", RolloutStateName(r.state)},
                        {"stage", r.stage},
                        {"stages", stages},
                        {"stage_started_ms", r.stage_started_ms},
                        {"reason", r.reason},
                        {"created_ms", r.created_ms},
                        {"updated_ms", r.updated_ms},
                        {"plan", plan}};
  // Progress: how many of the eligible devices the cohort holds. The gate's health figures
  // cost telemetry queries, so lists leave them out and count only.
  out["members"] = nullptr;
  out["eligible"] = nullptr;
  if (with_status) {
    Expected<StageStatus> status = ctx.rollouts->Status(r, ctx.now());
    if (status.ok()) {
      out["members"] = status->members;
      out["eligible"] = status->eligible;
      out["status"] = StageStatusToJson(*status);
    } else {
      LogStoreFailure("measuring a rollout", status.message());
    }
  } else {
    Expected<RolloutProgress> progress = ctx.rollouts->Progress(r);
    if (progress.ok()) {
      out["members"] = progress->members;
      out["eligible"] = progress->eligible;
    } else {
      LogStoreFailure("counting a rollout's devices", progress.message());
    }
  }
  return out;
}

void RegisterRolloutApi(httplib::Server& server, ApiContext& ctx) {
  server.Post("/v1/rollouts", GuardedReader([&ctx](const auto& req, auto& res, const auto& reader) {
                StartRollout(ctx, req, res, reader);
              }));
  server.Get("/v1/rollouts", Guarded([&ctx](const auto& req, auto& res) { ListRollouts(ctx, req, res); }));
  server.Get("/v1/rollouts/([^/]+)", Guarded([&ctx](const auto& req, auto& res) { GetRollout(ctx, req, res); }));
  server.Post("/v1/rollouts/([^/]+)/(pause|resume|abort)",
              GuardedReader([&ctx](const auto& req, auto& res, const auto& reader) { ChangeRollout(ctx, req, res, reader); }));
  server.Post("/v1/alert-rules", GuardedReader([&ctx](const auto& req, auto& res, const auto& reader) {
                AddAlertRule(ctx, req, res, reader);
              }));
  server.Get("/v1/alert-rules", Guarded([&ctx](const auto& req, auto& res) { ListAlertRules(ctx, req, res); }));
  server.Delete("/v1/alert-rules/([^/]+)", Guarded([&ctx](const auto& req, auto& res) { DeleteAlertRule(ctx, req, res); }));
  server.Get("/v1/alerts", Guarded([&ctx](const auto& req, auto& res) { ListAlerts(ctx, req, res); }));
}

}  // namespace outpost::fleet
