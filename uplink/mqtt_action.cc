#include "uplink/mqtt_action.h"

#include <mosquitto.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "pipeline/config/json_options.h"

namespace outpost::uplink {

namespace {

constexpr std::string_view kMqtt = "mqtt";

// libmosquitto's global state is set up once per process and never torn down: other clients
// may still be running when one action closes.
void InitLibraryOnce() {
  static const int rc = mosquitto_lib_init();
  (void)rc;
}

std::string MqttError(int rc) {
  return rc == MOSQ_ERR_ERRNO ? std::string(std::strerror(errno)) : mosquitto_strerror(rc);
}

}  // namespace

Expected<MqttOptions> ParseMqttOptions(const nlohmann::json& options,
                                       const std::string& base_dir) {
  return Capture([&] {
    pipeline::CheckKeys(options, kMqtt,
                   {"type", "host", "port", "topic", "qos", "retain", "client_id", "keepalive_s",
                    "username", "password_env", "cafile", "connect_wait_ms"});
    MqttOptions o;
    o.host = pipeline::ReadOr<std::string>(options, kMqtt, "host", o.host);
    o.port = pipeline::ReadOr<int>(options, kMqtt, "port", o.port);
    o.topic = pipeline::ReadOr<std::string>(options, kMqtt, "topic", "");
    o.qos = pipeline::ReadOr<int>(options, kMqtt, "qos", o.qos);
    o.retain = pipeline::ReadOr<bool>(options, kMqtt, "retain", o.retain);
    o.client_id = pipeline::ReadOr<std::string>(options, kMqtt, "client_id", "");
    o.keepalive_s = pipeline::ReadOr<int>(options, kMqtt, "keepalive_s", o.keepalive_s);
    o.username = pipeline::ReadOr<std::string>(options, kMqtt, "username", "");
    o.password_env = pipeline::ReadOr<std::string>(options, kMqtt, "password_env", "");
    o.cafile = pipeline::ReadOr<std::string>(options, kMqtt, "cafile", "");
    o.connect_wait_ms = pipeline::ReadOr<int>(options, kMqtt, "connect_wait_ms", o.connect_wait_ms);
    if (o.topic.empty()) throw Error("mqtt: option 'topic' is required");
    if (o.topic.find_first_of("+#") != std::string::npos)
      throw Error("mqtt: topic '" + o.topic + "' has a wildcard (+ or #): cannot publish to it");
    if (o.host.empty()) throw Error("mqtt: option 'host' is empty");
    if (o.port <= 0 || o.port > 65535) throw Error("mqtt: 'port' must be in 1..65535");
    if (o.qos < 0 || o.qos > 2) throw Error("mqtt: 'qos' must be 0, 1 or 2");
    if (o.keepalive_s < 5) throw Error("mqtt: 'keepalive_s' must be >= 5");
    if (o.connect_wait_ms < 0) throw Error("mqtt: 'connect_wait_ms' must be >= 0");
    if (!o.cafile.empty()) {
      std::filesystem::path p(o.cafile);
      if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(base_dir) / p;
      o.cafile = p.string();
    }
    return o;
  });
}

MqttAction::MqttAction(const MqttOptions& options) : options_(options) {}

Expected<std::unique_ptr<MqttAction>> MqttAction::Create(const MqttOptions& options) {
  return Capture([&] {
    InitLibraryOnce();
    std::unique_ptr<MqttAction> a(new MqttAction(options));
    const char* id = options.client_id.empty() ? nullptr : options.client_id.c_str();
    a->client_ = mosquitto_new(id, /*clean_session=*/true, a.get());
    if (a->client_ == nullptr) throw Error("mqtt: cannot create a client: " + MqttError(MOSQ_ERR_ERRNO));
    mosquitto_connect_callback_set(a->client_, &MqttAction::OnConnect);
    mosquitto_disconnect_callback_set(a->client_, &MqttAction::OnDisconnect);
    mosquitto_publish_callback_set(a->client_, &MqttAction::OnPublish);
    mosquitto_reconnect_delay_set(a->client_, 1, 30, /*exponential=*/true);
    if (!options.username.empty()) {
      const char* password =
          options.password_env.empty() ? nullptr : std::getenv(options.password_env.c_str());
      if (!options.password_env.empty() && password == nullptr)
        throw Error("mqtt: environment variable " + options.password_env + " is not set");
      int rc = mosquitto_username_pw_set(a->client_, options.username.c_str(), password);
      if (rc != MOSQ_ERR_SUCCESS) throw Error("mqtt: credentials: " + MqttError(rc));
    }
    if (!options.cafile.empty()) {
      if (!std::filesystem::is_regular_file(options.cafile))
        throw Error("mqtt: cafile " + options.cafile + " does not exist");
      int rc = mosquitto_tls_set(a->client_, options.cafile.c_str(), nullptr, nullptr, nullptr,
                                 nullptr);
      if (rc != MOSQ_ERR_SUCCESS) throw Error("mqtt: TLS: " + MqttError(rc));
    }
    int rc = mosquitto_loop_start(a->client_);
    if (rc != MOSQ_ERR_SUCCESS) throw Error("mqtt: cannot start the network thread: " + MqttError(rc));
    a->loop_started_ = true;
    // connect_async returns an error only for what cannot work at all (a bad host name);
    // a broker that is down is retried by the network thread.
    rc = mosquitto_connect_async(a->client_, options.host.c_str(), options.port,
                                 options.keepalive_s);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_ERRNO)
      throw Error("mqtt: cannot connect to " + options.host + ":" +
                  std::to_string(options.port) + ": " + MqttError(rc));
    std::unique_lock<std::mutex> lock(a->mu_);
    a->changed_.wait_for(lock, std::chrono::milliseconds(options.connect_wait_ms),
                         [&] { return a->connected_.load() || a->last_connect_rc_ > 0; });
    if (a->last_connect_rc_ > 0)
      throw Error("mqtt: broker " + options.host + ":" + std::to_string(options.port) +
                  " refused the connection: " +
                  mosquitto_connack_string(a->last_connect_rc_));
    return a;
  });
}

MqttAction::~MqttAction() {
  if (client_ == nullptr) return;
  if (loop_started_) {
    mosquitto_disconnect(client_);
    mosquitto_loop_stop(client_, /*force=*/true);
  }
  mosquitto_destroy(client_);
}

Expected<Unit> MqttAction::Emit(std::string_view json) {
  if (!connected_.load()) {
    refused_.fetch_add(1);
    return Error("mqtt: not connected to " + options_.host + ":" + std::to_string(options_.port));
  }
  int mid = 0;
  // The lock covers publish so that OnPublish (network thread) cannot see the message id
  // before it is recorded.
  std::lock_guard<std::mutex> lock(mu_);
  const int rc = mosquitto_publish(client_, &mid, options_.topic.c_str(),
                                   static_cast<int>(json.size()), json.data(), options_.qos,
                                   options_.retain);
  if (rc != MOSQ_ERR_SUCCESS) {
    refused_.fetch_add(1);
    return Error("mqtt: publish to " + options_.topic + " failed: " + MqttError(rc));
  }
  in_flight_[mid] = json.size();
  return Unit{};
}

Expected<Unit> MqttAction::Close() {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_for(lock, std::chrono::seconds(2), [&] { return in_flight_.empty(); });
  const size_t lost = in_flight_.size();
  bytes_sent_ = published_bytes_;
  lock.unlock();
  if (loop_started_) {
    mosquitto_disconnect(client_);
    mosquitto_loop_stop(client_, /*force=*/false);
    loop_started_ = false;
  }
  if (lost == 0) return Unit{};
  return Error("mqtt: " + std::to_string(lost) + " message(s) not acknowledged by " +
               options_.host + ":" + std::to_string(options_.port));
}

std::string MqttAction::Describe() const {
  return "mqtt " + options_.host + ":" + std::to_string(options_.port) + " topic " +
         options_.topic + " qos " + std::to_string(options_.qos);
}

uint64_t MqttAction::published() const {
  std::lock_guard<std::mutex> lock(mu_);
  return published_;
}

void MqttAction::OnConnect(mosquitto*, void* self, int rc) {
  auto* a = static_cast<MqttAction*>(self);
  std::lock_guard<std::mutex> lock(a->mu_);
  a->last_connect_rc_ = rc;
  a->connected_.store(rc == 0);
  a->changed_.notify_all();
}

void MqttAction::OnDisconnect(mosquitto*, void* self, int) {
  auto* a = static_cast<MqttAction*>(self);
  std::lock_guard<std::mutex> lock(a->mu_);
  a->connected_.store(false);
  a->changed_.notify_all();
}

void MqttAction::OnPublish(mosquitto*, void* self, int mid) {
  auto* a = static_cast<MqttAction*>(self);
  std::lock_guard<std::mutex> lock(a->mu_);
  auto it = a->in_flight_.find(mid);
  if (it == a->in_flight_.end()) return;
  ++a->published_;
  a->published_bytes_ += it->second;
  a->in_flight_.erase(it);
  a->changed_.notify_all();
}

}  // namespace outpost::uplink
