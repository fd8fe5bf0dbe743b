// The web dashboard: its page, script and style (fleet/web/, compiled into the server so that
// one binary serves everything), and the two read-only summaries it draws from besides the
// device, rollout and alert lists: the fleet overview and per-version time series.
#include <httplib.h>

#include <algorithm>
#include <string_view>

#include "fleet/server/api_context.h"
#include "fleet/server/dashboard_files.h"
#include "fleet/server/query.h"
#include "fleet/server/validation.h"

namespace outpost::fleet {
namespace {

constexpr int64_t kDayS = 24 * 3600;
constexpr int64_t kMonthS = 30 * kDayS;
constexpr int64_t kMaxVersionsShown = 50;

nlohmann::json Optional(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

void Summary(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  ctx.auth->RequireAdmin(req);
  CheckQuery(req, {"window_s"});
  // Health figures over the last window (default an hour); bandwidth projected to a month
  // from the last day.
  const int64_t window_s = QueryInt(req, "window_s", 3600, 60, kMonthS);
  const int64_t now = ctx.now();

  const int64_t total = StoreValue(ctx.store->CountDevices(DeviceFilter{}), "counting devices");
  DeviceFilter online_filter;
  online_filter.seen_since_ms = now - ctx.options.online_window_s * 1000;
  const int64_t online = StoreValue(ctx.store->CountDevices(online_filter), "counting devices");

  const auto running = StoreValue(ctx.store->CountDevicesByVersion(), "counting devices");
  nlohmann::json versions = nlohmann::json::array();
  for (const ModelVersion& m : StoreValue(ctx.store->ListModelVersions(""), "listing models")) {
    if (static_cast<int64_t>(versions.size()) >= kMaxVersionsShown) break;
    const auto it = running.find({m.name, m.version});
    const int64_t devices = it == running.end() ? 0 : it->second;
    const CohortHealth h =
        StoreValue(ctx.store->VersionHealth(m.name, m.version, now - window_s * 1000, now + 1), "measuring a version");
    if (devices == 0 && h.records == 0) continue;  // registered but nowhere in use
    versions.push_back({{"model", m.name},
                        {"version", m.version},
                        {"devices", devices},
                        {"records", h.records},
                        {"error_rate", h.error_rate},
                        {"latency_p99_ms", h.latency_p99_ms},
                        {"agreement", Optional(h.agreement)},
                        {"drift_psi", Optional(h.drift_psi)},
                        {"temperature_max_c", Optional(h.temperature_max_c)}});
  }

  const int64_t alerts_open =
      static_cast<int64_t>(StoreValue(ctx.store->ListAlerts(true, 1000), "listing alerts").size());

  int64_t day_bytes = 0;
  nlohmann::json by_kind = nlohmann::json::object();
  for (const auto& [kind, bytes] : StoreValue(ctx.store->TransferTotals("", now - kDayS * 1000, now + 1), "reading transfers")) {
    by_kind[kind] = bytes;
    day_bytes += bytes;
  }
  const double per_device_month = total > 0 ? static_cast<double>(day_bytes) * 30.0 / static_cast<double>(total) : 0.0;
  SendJson(res, 200,
           {{"now_ms", now},
            {"window_s", window_s},
            {"devices", {{"total", total}, {"online", online}, {"offline", total - online},
                         {"online_window_s", ctx.options.online_window_s}}},
            {"versions", versions},
            {"alerts_open", alerts_open},
            {"bandwidth", {{"bytes_last_day", day_bytes},
                           {"bytes_last_day_by_kind", by_kind},
                           {"bytes_per_device_month", per_device_month},
                           {"cost_per_gb", ctx.options.cost_per_gb},
                           {"cost_per_device_month", per_device_month / 1e9 * ctx.options.cost_per_gb}}}});
}

void Series(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  ctx.auth->RequireAdmin(req);
  CheckQuery(req, {"model", "window_s", "bucket_s"});
  const std::string model = req.get_param_value("model");
  if (!IsModelName(model)) throw ApiError(400, "query parameter 'model' must be a model name");
  const int64_t window_s = QueryInt(req, "window_s", kDayS, 60, kMonthS);
  // About 48 points across the window unless asked otherwise.
  const int64_t bucket_s = QueryInt(req, "bucket_s", std::max<int64_t>(1, window_s / 48), 1, kDayS);
  const int64_t now = ctx.now();
  nlohmann::json points = nlohmann::json::array();
  for (const FleetStore::SeriesPoint& p :
       StoreValue(ctx.store->VersionSeries(model, now - window_s * 1000, bucket_s * 1000), "reading a series")) {
    points.push_back({{"bucket_ms", p.bucket_ms},
                      {"version", p.version},
                      {"latency_p99_ms", p.latency_p99_ms},
                      {"drift_psi", Optional(p.drift_psi)},
                      {"records", p.records}});
  }
  SendJson(res, 200, {{"model", model}, {"bucket_s", bucket_s}, {"points", points}});
}

void ServeFile(httplib::Server& server, const std::string& path, const EmbeddedFile& file) {
  server.Get(path, [&file](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(std::string(file.bytes), file.content_type);
  });
}

}  // namespace

void RegisterDashboard(httplib::Server& server, ApiContext& ctx) {
  server.Get("/v1/dashboard/summary", Guarded([&ctx](const auto& req, auto& res) { Summary(ctx, req, res); }));
  server.Get("/v1/dashboard/series", Guarded([&ctx](const auto& req, auto& res) { Series(ctx, req, res); }));
  // The page itself needs no token: it holds no data, and asks for the token to fetch any.
  for (const EmbeddedFile& f : DashboardFiles()) {
    ServeFile(server, "/" + std::string(f.name), f);
    if (std::string_view(f.name) == "index.html") ServeFile(server, "/", f);
  }
}

}  // namespace outpost::fleet
