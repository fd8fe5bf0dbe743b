// Action "mqtt": publishes each event's JSON to a topic on an MQTT broker (libmosquitto).
//
//   {"type": "mqtt", "host": "127.0.0.1", "port": 1883, "topic": "outpost/line3/camera1",
//    "qos": 1, "retain": false, "client_id": "camera1", "keepalive_s": 30,
//    "username": "cam", "password_env": "OUTPOST_MQTT_PASSWORD", "cafile": "ca.pem"}
//
// libmosquitto's own network thread keeps the connection and reconnects with a growing pause
// (1 s up to 30 s) after the broker goes away, so publishing never blocks the pipeline. An
// event published while the broker is unreachable is refused with an Error (the runner counts
// it): buffering through outages belongs to the device agent. The password is read from an
// environment variable so that it never sits in the pipeline file.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "pipeline/core/action.h"

struct mosquitto;

namespace outpost::uplink {

struct MqttOptions {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string topic;
  int qos = 1;
  bool retain = false;
  std::string client_id;  // empty: the broker assigns one
  int keepalive_s = 30;
  std::string username;
  std::string password_env;  // name of the environment variable holding the password
  std::string cafile;        // TLS when set (relative to the pipeline file's folder)
  int connect_wait_ms = 3000;  // how long Create waits for the first connection
};

Expected<MqttOptions> ParseMqttOptions(const nlohmann::json& options, const std::string& base_dir);

class MqttAction : public pipeline::Action {
 public:
  // Starts connecting and waits up to connect_wait_ms for the broker; an unreachable broker
  // is not an error here (the link may come up later), a bad option or TLS file is.
  static Expected<std::unique_ptr<MqttAction>> Create(const MqttOptions& options);
  ~MqttAction() override;

  Expected<Unit> Emit(std::string_view json) override;
  // Waits up to 2 s for messages in flight to be acknowledged, then disconnects.
  Expected<Unit> Close() override;
  std::string Describe() const override;

  bool connected() const { return connected_.load(); }
  uint64_t published() const;      // acknowledged by the broker (QoS 1/2) or sent (QoS 0)
  uint64_t refused() const { return refused_.load(); }

 private:
  explicit MqttAction(const MqttOptions& options);
  static void OnConnect(mosquitto* m, void* self, int rc);
  static void OnDisconnect(mosquitto* m, void* self, int rc);
  static void OnPublish(mosquitto* m, void* self, int mid);

  MqttOptions options_;
  mosquitto* client_ = nullptr;
  bool loop_started_ = false;
  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> refused_{0};
  mutable std::mutex mu_;
  std::condition_variable changed_;  // connection state or in-flight set changed
  std::map<int, size_t> in_flight_;  // message id -> payload bytes
  uint64_t published_ = 0;
  uint64_t published_bytes_ = 0;
  int last_connect_rc_ = -1;
};

}  // namespace outpost::uplink
