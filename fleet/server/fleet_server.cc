#include "fleet/server/fleet_server.h"

#include <netdb.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
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
  std::error_code ec;
  // A directory opens like a file and then reads as nothing: say so rather than "too short".
  if (std::filesystem::is_directory(path, ec))
    return Error("fleet: cannot read the admin token file " + path + ": it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error("fleet: cannot read the admin token file " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error("fleet: cannot read the admin token file " + path);
  std::string token = text.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ' || token.back() == '\t'))
    token.pop_back();
  if (token.size() < 16) return Error("fleet: the admin token in " + path + " must be at least 16 characters");
  if (token.find_first_of(" \t\r\n") != std::string::npos)
    return Error("fleet: the admin token in " + path + " must be one line without spaces");
  return token;
}

// Every listening socket gets SO_REUSEADDR only. httplib's default adds SO_REUSEPORT on Linux,
// which lets a second server bind a port another one already listens on and silently take a
// share of its connections; with SO_REUSEADDR alone that second bind fails ("in use").
void ListenSocketOptions(int sock) {
  int yes = 1;
  ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

// httplib only says that binding failed. A bind of our own to the same address tells why, so
// the operator reads "the port is already in use" rather than guessing.
std::string ListenFailure(const std::string& host, int port) {
  const std::string where = "fleet: cannot listen on " + host + ":" + std::to_string(port) + ": ";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const int resolved = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (resolved != 0) return where + "cannot resolve the host name '" + host + "' (" + gai_strerror(resolved) + ")";
  int error = 0;
  for (addrinfo* a = found; a; a = a->ai_next) {
    const int sock = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (sock < 0) {
      error = errno;
      continue;
    }
    ListenSocketOptions(sock);
    error = ::bind(sock, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
    ::close(sock);
    if (error == 0) break;
  }
  ::freeaddrinfo(found);
  switch (error) {
    case 0: return where + "binding failed";  // free again by now: the port was taken for a moment
    case EADDRINUSE: return where + "the port is already in use";
    case EADDRNOTAVAIL: return where + "the address is not available on this machine";
    case EACCES: return where + "permission denied (ports below 1024 need privileges)";
    default: return where + std::strerror(error);
  }
}

// How long Stop() lets requests being answered (a package download) finish.
constexpr std::chrono::seconds kDrainTimeout{30};

// Set on the worker thread while it answers a request that was counted as running. httplib
// calls the pre-routing handler and then the logger (after the response is written, or failed)
// on the same thread; requests refused before routing (413 on the headers) reach only the logger.
thread_local bool t_request_counted = false;

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
  // Requests being answered. httplib's stop() cuts a response that is still streaming short,
  // so Stop() first refuses new requests and waits for these to finish.
  std::mutex drain_mu;
  std::condition_variable drained;
  int64_t in_flight = 0;
  bool draining = false;
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
  std::optional<package::Key> rollback_key;
  if (!options.rollback_key_file.empty()) {
    Expected<package::Key> k = package::ReadKeyFile(options.rollback_key_file, {package::KeyType::kSigningSecret});
    if (!k.ok()) return k.error();
    rollback_key = std::move(*k);
  }
  if (options.rollback_order_ttl_s < 60) return Error("fleet: rollback orders must stay valid at least 60 s");
  Expected<ArtifactStore> artifacts = ArtifactStore::Open(options.data_dir);
  if (!artifacts.ok()) return artifacts.error();
  if (options.store_url.empty()) options.store_url = "sqlite:" + options.data_dir + "/fleet.db";
  Expected<std::unique_ptr<FleetStore>> store = FleetStore::Open(options.store_url, options.store_connections);
  if (!store.ok()) return store.error();

  auto impl = std::unique_ptr<Impl>(new Impl{
      ApiContext{std::move(options), std::move(*store), std::move(*artifacts), std::move(*key), std::move(rollback_key), nullptr, nullptr, nullptr, nullptr, nullptr},
      nullptr, {}, {}, 0, false, {}, {}, 0, false});
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
  http.set_socket_options(ListenSocketOptions);
  {
    std::lock_guard<std::mutex> lock(s.drain_mu);
    s.draining = false;
  }
  http.set_pre_routing_handler([&s](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(s.drain_mu);
    if (s.draining) {
      SendError(res, 503, "the server is stopping; try again");
      return httplib::Server::HandlerResponse::Handled;
    }
    ++s.in_flight;
    t_request_counted = true;
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_logger([&s](const httplib::Request&, const httplib::Response&) {
    if (!t_request_counted) return;
    t_request_counted = false;
    std::lock_guard<std::mutex> lock(s.drain_mu);
    if (--s.in_flight == 0) s.drained.notify_all();
  });
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
    if (s.port <= 0) return Error(ListenFailure(o.host, 0));
  } else {
    if (!http.bind_to_port(o.host, o.port)) return Error(ListenFailure(o.host, o.port));
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

void FleetServer::StopAccepting() {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.drain_mu);
  s.draining = true;
}

void FleetServer::Stop() {
  Impl& s = *impl_;
  StopAccepting();
  s.ctx.ticker->Stop();
  if (!s.http) return;
  {
    // The running requests get kDrainTimeout to finish.
    std::unique_lock<std::mutex> lock(s.drain_mu);
    s.drained.wait_for(lock, kDrainTimeout, [&s] { return s.in_flight == 0; });
  }
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
