#include "fleet/server/fleet_server.h"

#include <sodium.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "fleet/server/api_context.h"

namespace outpost::fleet {
namespace {

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Expected<std::string> ReadAdminToken(const std::string& path) {
  if (path.empty()) return Error("fleet: no admin token file given");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error("fleet: cannot read the admin token file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ' || token.back() == '\t'))
    token.pop_back();
  if (token.size() < 16) return Error("fleet: the admin token in " + path + " must be at least 16 characters");
  if (token.find_first_of(" \t\r\n") != std::string::npos)
    return Error("fleet: the admin token in " + path + " must be one line without spaces");
  return token;
}

const char* StatusMessage(int status) {
  switch (status) {
    case 400: return "bad request";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 413: return "request body too large";
    case 416: return "range not satisfiable";
    default: return status >= 500 ? "internal server error" : "request refused";
  }
}

}  // namespace

struct FleetServer::Impl {
  ApiContext ctx;
  std::unique_ptr<httplib::Server> http;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  int port = 0;
  bool tls = false;
};

FleetServer::FleetServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FleetServer::~FleetServer() { Stop(); }

Expected<std::unique_ptr<FleetServer>> FleetServer::Create(FleetServerOptions options) {
  if (sodium_init() < 0) return Error("fleet: libsodium failed to initialize");
  if (options.tls_cert_file.empty() != options.tls_key_file.empty())
    return Error("fleet: TLS needs both a certificate and a key file");
  if (options.threads < 1 || options.threads > 256) return Error("fleet: the thread count must be 1 to 256");
  if (options.max_json_bytes < 1024 || options.max_package_bytes < 1024)
    return Error("fleet: body limits must be at least 1024 bytes");
  if (options.tick_ms < 0) return Error("fleet: the tick period must not be negative");
  if (options.online_window_s < 1) return Error("fleet: the online window must be at least a second");
  if (!(options.cost_per_gb >= 0)) return Error("fleet: the cost per GB must not be negative");
  if (!options.alert_webhook_url.empty() && options.alert_webhook_url.rfind("http://", 0) != 0 &&
      options.alert_webhook_url.rfind("https://", 0) != 0)
    return Error("fleet: the alert webhook must be an http:// or https:// URL");
  if (!options.clock) options.clock = SystemNowMs;
  Expected<std::string> token = ReadAdminToken(options.admin_token_file);
  if (!token.ok()) return token.error();
  Expected<package::Key> key =
      package::ReadKeyFile(options.signing_public_key_file, {package::KeyType::kSigningPublic});
  if (!key.ok()) return key.error();
  Expected<ArtifactStore> artifacts = ArtifactStore::Open(options.data_dir);
  if (!artifacts.ok()) return artifacts.error();
  if (options.store_url.empty()) options.store_url = "sqlite:" + options.data_dir + "/fleet.db";
  Expected<std::unique_ptr<FleetStore>> store = FleetStore::Open(options.store_url, options.store_connections);
  if (!store.ok()) return store.error();

  auto impl = std::unique_ptr<Impl>(new Impl{
      ApiContext{std::move(options), std::move(*store), std::move(*artifacts), std::move(*key), nullptr, nullptr, nullptr, nullptr, nullptr},
      nullptr, {}, {}, 0, false});
  ApiContext& ctx = impl->ctx;
  ctx.auth = std::make_unique<Authenticator>(std::move(*token), *ctx.store);
  ctx.deltas = std::make_unique<DeltaCache>(*ctx.store, ctx.artifacts, ctx.signing_key, ctx.options.clock);
  ctx.rollouts = std::make_unique<RolloutController>(*ctx.store);
  ctx.alerts = std::make_unique<AlertEvaluator>(*ctx.store, *ctx.rollouts, ctx.options.alert_webhook_url);
  ctx.ticker = std::make_unique<FleetTicker>(*ctx.rollouts, *ctx.alerts, ctx.options.clock);
  return std::unique_ptr<FleetServer>(new FleetServer(std::move(impl)));
}

Expected<Unit> FleetServer::Start() {
  Impl& s = *impl_;
  if (s.http) return Error("fleet: the server is already started");
  const FleetServerOptions& o = s.ctx.options;
  if (!o.tls_cert_file.empty()) {
    auto ssl = std::make_unique<httplib::SSLServer>(o.tls_cert_file.c_str(), o.tls_key_file.c_str());
    if (!ssl->is_valid()) return Error("fleet: cannot load the TLS certificate " + o.tls_cert_file + " and key " + o.tls_key_file);
    s.http = std::move(ssl);
    s.tls = true;
  } else {
    s.http = std::make_unique<httplib::Server>();
  }
  httplib::Server& http = *s.http;
  const int threads = o.threads;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  // httplib writes a response's headers and body separately; with Nagle's algorithm on, the body
  // waits for the client's delayed ACK of the headers (about 40 ms on Linux) on every request of a
  // keep-alive connection.
  http.set_tcp_nodelay(true);
  // The largest body is a package; JSON endpoints enforce their own smaller limit as they read.
  http.set_payload_max_length(static_cast<size_t>(o.max_package_bytes) + 1);
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    IgnoreRanges(req);
    SendError(res, res.status, StatusMessage(res.status));
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { SendJson(res, 200, {{"ok", true}}); });
  RegisterAdminApi(http, s.ctx);
  RegisterModelUpload(http, s.ctx);
  RegisterDeviceApi(http, s.ctx);
  RegisterDownloadApi(http, s.ctx);
  RegisterRolloutApi(http, s.ctx);
  RegisterDashboard(http, s.ctx);

  if (o.port == 0) {
    s.port = http.bind_to_any_port(o.host);
    if (s.port <= 0) return Error("fleet: cannot listen on " + o.host);
  } else {
    if (!http.bind_to_port(o.host, o.port)) return Error("fleet: cannot listen on " + o.host + ":" + std::to_string(o.port));
    s.port = o.port;
  }
  s.listen_returned = false;
  s.thread = std::thread([&s] {
    s.http->listen_after_bind();
    s.listen_returned = true;
  });
  // stop() only takes effect once the accept loop runs; the socket already queues connections,
  // so this wait is short.
  while (!http.is_running() && !s.listen_returned) std::this_thread::yield();
  if (s.listen_returned) {
    s.thread.join();
    s.http.reset();
    return Error("fleet: the server stopped right after starting");
  }
  s.ctx.ticker->Start(o.tick_ms);
  return Unit{};
}

Expected<Unit> FleetServer::Tick() {
  Expected<TickReport> report = impl_->ctx.ticker->TickOnce();
  if (!report.ok()) return report.error();
  return Unit{};
}

void FleetServer::Stop() {
  Impl& s = *impl_;
  s.ctx.ticker->Stop();
  if (!s.http) return;
  s.http->stop();
  if (s.thread.joinable()) s.thread.join();
  s.http.reset();
}

int FleetServer::port() const { return impl_->port; }

std::string FleetServer::url() const {
  const std::string& host = impl_->ctx.options.host;
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(impl_->tls ? "https" : "http") + "://" + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(impl_->port);
}

}  // namespace outpost::fleet
