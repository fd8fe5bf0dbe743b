// The fleet server: the HTTP JSON API that devices and operators talk to (docs/fleet-api.md).
// One FleetServer owns its store connection, artifact directory and an httplib server running
// on a fixed pool of threads. Tests run it in-process on 127.0.0.1 port 0; the CLI runs it until
// a signal arrives. Several servers may share one PostgreSQL database: all state is in the
// store and the content-addressed files under the data directory.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/expected.h"

namespace outpost::fleet {

struct FleetServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;                       // 0: any free port; FleetServer::port() tells which
  std::string tls_cert_file;          // both set: HTTPS
  std::string tls_key_file;
  std::string data_dir;               // artifacts/, deltas/, tmp/ and the default database
  std::string store_url;              // empty: "sqlite:<data_dir>/fleet.db"
  std::string admin_token_file;       // one line; the operators' bearer token
  std::string signing_public_key_file;  // the fleet's Ed25519 key: uploads must verify with it
  // An Ed25519 secret key the server signs rollback orders with (package/rollback_order.h):
  // a device told to go back to a version with a lower counter installs it only with such an
  // order. Empty: no orders, and devices refuse the downgrade. A key of its own, so the package
  // signing key can stay off the server.
  std::string rollback_key_file;
  int64_t rollback_order_ttl_s = 7 * 24 * 3600;  // how long an order stays valid
  int64_t max_json_bytes = 1 << 20;
  int64_t max_package_bytes = int64_t{1} << 30;
  int64_t max_telemetry_records = 1000;
  int threads = 8;
  // Background work: rollouts and alert rules are ticked every tick_ms (0: only by Tick()).
  int64_t tick_ms = 5000;
  std::string alert_webhook_url;      // new alerts are POSTed here ("" : kept on the server only)
  // Dashboard figures: a device is online when seen within this window; bandwidth cost is
  // estimated at this price per GB (a metered cellular link's order of magnitude by default).
  int64_t online_window_s = 300;
  double cost_per_gb = 1.0;
  int store_connections = 8;
  // Milliseconds since the epoch; tests replace it to control expiry.
  std::function<int64_t()> clock;
};

class FleetServer {
 public:
  // Reads the keys, opens the store and prepares the data directory; does not listen yet.
  static Expected<std::unique_ptr<FleetServer>> Create(FleetServerOptions options);
  ~FleetServer();
  FleetServer(const FleetServer&) = delete;
  FleetServer& operator=(const FleetServer&) = delete;

  // Binds and starts serving on the thread pool; returns once requests are accepted.
  Expected<Unit> Start();
  // From this call on, new requests are answered 503 ("stopping"); returns at once. The
  // caller announces the stop after it, so whoever reads the announcement sees the 503s.
  void StopAccepting();
  // StopAccepting, then lets the running requests (a download in progress) finish for up to
  // 30 s, stops the background work and joins the threads. Idempotent.
  void Stop();

  // One round of the background work now (rollouts, then alerts), whatever tick_ms is.
  Expected<Unit> Tick();

  int port() const;
  // "http://127.0.0.1:8080" or "https://...".
  std::string url() const;

  struct Impl;

 private:
  explicit FleetServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace outpost::fleet
