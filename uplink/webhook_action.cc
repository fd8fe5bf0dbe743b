#include "uplink/webhook_action.h"

#include <httplib.h>

#include <thread>

#include "pipeline/config/json_options.h"

namespace outpost::uplink {

namespace {

constexpr std::string_view kWebhook = "webhook";

struct SplitUrl {
  std::string origin;  // scheme://host[:port]
  std::string path;    // starts with '/'
};

SplitUrl SplitHttpUrl(const std::string& url) {
  const bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0)
    throw Error("webhook: url '" + url + "' must start with http:// or https://");
  const size_t host_start = https ? 8 : 7;
  const size_t slash = url.find('/', host_start);
  SplitUrl s;
  s.origin = url.substr(0, slash);
  s.path = slash == std::string::npos ? "/" : url.substr(slash);
  if (s.origin.size() == host_start) throw Error("webhook: url '" + url + "' has no host");
  return s;
}

}  // namespace

Expected<WebhookOptions> ParseWebhookOptions(const nlohmann::json& options) {
  return Capture([&] {
    pipeline::CheckKeys(options, kWebhook, {"type", "url", "headers", "timeout_ms", "retries", "queue"});
    WebhookOptions o;
    o.url = pipeline::ReadOr<std::string>(options, kWebhook, "url", "");
    if (o.url.empty()) throw Error("webhook: option 'url' is required");
    SplitHttpUrl(o.url);
    o.headers = pipeline::ReadOr<std::map<std::string, std::string>>(options, kWebhook, "headers", {});
    o.timeout_ms = pipeline::ReadOr<int>(options, kWebhook, "timeout_ms", o.timeout_ms);
    o.retries = pipeline::ReadOr<int>(options, kWebhook, "retries", o.retries);
    const int queue = pipeline::ReadOr<int>(options, kWebhook, "queue", static_cast<int>(o.queue));
    if (o.timeout_ms <= 0) throw Error("webhook: 'timeout_ms' must be > 0");
    if (o.retries < 0 || o.retries > 10) throw Error("webhook: 'retries' must be in 0..10");
    if (queue <= 0) throw Error("webhook: 'queue' must be > 0");
    o.queue = static_cast<size_t>(queue);
    return o;
  });
}

struct WebhookAction::Endpoint {
  explicit Endpoint(const SplitUrl& url) : client(url.origin), path(url.path) {}
  httplib::Client client;
  std::string path;
};

Expected<std::unique_ptr<WebhookAction>> WebhookAction::Create(const WebhookOptions& options) {
  return Capture([&] {
    auto endpoint = std::make_unique<Endpoint>(SplitHttpUrl(options.url));
    if (!endpoint->client.is_valid())
      throw Error("webhook: cannot use url '" + options.url + "'");
    const auto timeout = std::chrono::milliseconds(options.timeout_ms);
    endpoint->client.set_connection_timeout(timeout);
    endpoint->client.set_read_timeout(timeout);
    endpoint->client.set_write_timeout(timeout);
    endpoint->client.set_keep_alive(true);
    endpoint->client.set_tcp_nodelay(true);  // small JSON bodies: do not wait for delayed ACKs
    return std::unique_ptr<WebhookAction>(new WebhookAction(options, std::move(endpoint)));
  });
}

WebhookAction::WebhookAction(const WebhookOptions& options, std::unique_ptr<Endpoint> endpoint)
    : options_(options), endpoint_(std::move(endpoint)) {
  queue_ = std::make_unique<DeliveryQueue>(
      options_.queue, [this](const std::string& event) { return Post(event); });
}

WebhookAction::~WebhookAction() { queue_.reset(); }

Expected<Unit> WebhookAction::Emit(std::string_view json) {
  if (queue_->Push(std::string(json))) return Unit{};
  return Error("webhook " + options_.url + ": queue full, oldest event dropped");
}

Expected<Unit> WebhookAction::Close() {
  queue_->Close(std::chrono::milliseconds(options_.timeout_ms));
  const DeliveryCounters c = queue_->counters();
  bytes_sent_ = c.bytes_delivered;
  if (c.failed == 0 && c.dropped == 0) return Unit{};
  return Error("webhook " + options_.url + ": " + std::to_string(c.failed) + " failed, " +
               std::to_string(c.dropped) + " dropped" +
               (c.last_error.empty() ? "" : " (last: " + c.last_error + ")"));
}

std::string WebhookAction::Describe() const { return "webhook POST " + options_.url; }

Expected<Unit> WebhookAction::Post(const std::string& body) {
  httplib::Headers headers(options_.headers.begin(), options_.headers.end());
  std::string failure;
  for (int attempt = 0; attempt <= options_.retries; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100 << (attempt - 1)));
    httplib::Result r = endpoint_->client.Post(endpoint_->path, headers, body, "application/json");
    if (!r) {
      failure = "cannot reach " + options_.url + ": " + httplib::to_string(r.error());
      continue;
    }
    if (r->status >= 200 && r->status < 300) return Unit{};
    failure = options_.url + " answered HTTP " + std::to_string(r->status);
    if (r->status < 500) break;
  }
  return Error(failure);
}

}  // namespace outpost::uplink
