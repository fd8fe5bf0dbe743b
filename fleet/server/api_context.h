// What every handler needs: options, store, artifact files, authentication, the fleet signing
// key and the delta cache; and the registration functions of each topic's handlers.
#pragma once

#include <httplib.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <optional>

#include "fleet/server/api_error.h"
#include "fleet/server/artifact_store.h"
#include "fleet/server/auth.h"
#include "fleet/server/delta_cache.h"
#include "fleet/server/fleet_server.h"
#include "fleet/server/fleet_ticker.h"
#include "fleet/rollout/alert_evaluator.h"
#include "fleet/rollout/rollout_controller.h"
#include "fleet/store/fleet_store.h"
#include "package/keys.h"

namespace outpost::fleet {

struct ApiContext {
  FleetServerOptions options;
  std::unique_ptr<FleetStore> store;
  ArtifactStore artifacts;
  package::Key signing_key;
  std::optional<package::Key> rollback_key;  // signs rollback orders; absent: none are issued
  std::unique_ptr<Authenticator> auth;
  std::unique_ptr<DeltaCache> deltas;
  std::unique_ptr<RolloutController> rollouts;
  std::unique_ptr<AlertEvaluator> alerts;
  std::unique_ptr<FleetTicker> ticker;

  int64_t now() const { return options.clock(); }
};

// httplib applies a request's Range header to whatever the handler answers, error bodies
// included; an error reply must go out whole. The Request object is httplib's own mutable
// per-request state, handed to handlers as const.
inline void IgnoreRanges(const httplib::Request& req) { const_cast<httplib::Request&>(req).ranges.clear(); }

// Runs a handler, turning its ApiError (or any other exception, as a 500) into the JSON
// error reply.
template <typename F>
void RunGuarded(const httplib::Request& req, httplib::Response& res, F&& f) {
  try {
    f();
    return;
  } catch (const ApiError& e) {
    SendError(res, e.status(), e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fleet server: %s %s: %s\n", req.method.c_str(), req.path.c_str(), e.what());
    SendError(res, 500, "internal server error");
  }
  IgnoreRanges(req);
}

// A plain handler: f(req, res).
template <typename F>
httplib::Server::Handler Guarded(F f) {
  return [f](const httplib::Request& req, httplib::Response& res) { RunGuarded(req, res, [&] { f(req, res); }); };
}

// A handler that reads its body itself: f(req, res, reader).
template <typename F>
httplib::Server::HandlerWithContentReader GuardedReader(F f) {
  return [f](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    RunGuarded(req, res, [&] { f(req, res, reader); });
  };
}

void RegisterDeviceApi(httplib::Server& server, ApiContext& ctx);
void RegisterAdminApi(httplib::Server& server, ApiContext& ctx);
void RegisterModelUpload(httplib::Server& server, ApiContext& ctx);
void RegisterDownloadApi(httplib::Server& server, ApiContext& ctx);
void RegisterRolloutApi(httplib::Server& server, ApiContext& ctx);
void RegisterDashboard(httplib::Server& server, ApiContext& ctx);

// JSON views shared by several endpoints.
nlohmann::json DeviceJson(const Device& d);
nlohmann::json ModelJson(const ModelVersion& m);
// A rollout with its plan and progress (members of eligible devices); with `with_status` also
// the current stage's canary and baseline health and gate verdict.
nlohmann::json RolloutJson(ApiContext& ctx, const Rollout& r, bool with_status);

}  // namespace outpost::fleet
