// outpost fleet serve: the fleet server (docs/fleet-api.md) in the foreground. Prints the URL
// it listens on, serves until SIGINT or SIGTERM, then lets running requests finish and exits.
#include <signal.h>

#include <iostream>
#include <memory>
#include <string>

#include "fleet/server/fleet_server.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/commands.h"

namespace outpost::cli {
namespace {

struct ServeArgs {
  fleet::FleetServerOptions options;
  std::string listen = "127.0.0.1:8080";
  int64_t max_package_mib = 1024;
};

void ParseListen(const std::string& listen, fleet::FleetServerOptions& o) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size())
    throw UsageError("--listen must be HOST:PORT, e.g. 127.0.0.1:8080");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port = listen.substr(colon + 1);
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 || std::stoi(port) > 65535)
    throw UsageError("--listen port must be 0 to 65535");
  o.host = host;
  o.port = std::stoi(port);
}

void RunServe(ServeArgs& a) {
  fleet::FleetServerOptions o = a.options;
  ParseListen(a.listen, o);
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) throw UsageError("--tls-cert and --tls-key go together");
  if (a.max_package_mib < 1 || a.max_package_mib > 64 * 1024) throw UsageError("--max-package-mib must be 1 to 65536");
  o.max_package_bytes = a.max_package_mib << 20;

  // Blocked before any server thread exists, so every thread inherits the mask and the signal
  // is taken only by sigwait below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::unique_ptr<fleet::FleetServer> server = Must(fleet::FleetServer::Create(o));
  Must(server->Start());
  std::cout << server->url() << std::endl;
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  server->StopAccepting();
  std::cerr << "outpost: stopping the fleet server (signal " << signal_number << ")\n";
  server->Stop();
}

}  // namespace

Command AddFleetCommand(CLI::App& root) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* fleet = root.add_subcommand("fleet", "Run the fleet server: device enrollment, model registry, updates, telemetry");
  fleet->require_subcommand(1);
  CLI::App* serve = fleet->add_subcommand("serve", "Serve the fleet HTTP API until SIGINT or SIGTERM");
  fleet::FleetServerOptions& o = a->options;
  serve->add_option("--data", o.data_dir, "Data directory: artifacts, deltas and the default SQLite database")->required();
  serve->add_option("--admin-token-file", o.admin_token_file, "File holding the operators' bearer token (one line)")
      ->required();
  serve->add_option("--signing-key", o.signing_public_key_file,
                    "The fleet's signing public key: uploaded packages must verify with it")
      ->required();
  serve->add_option("--rollback-key", o.rollback_key_file,
                    "Ed25519 signing secret key for rollback orders: lets devices go back to a lower version");
  serve->add_option("--rollback-order-ttl-s", o.rollback_order_ttl_s, "How long a rollback order stays valid (default 7 days)");
  serve->add_option("--db", o.store_url, "Store URL: sqlite:PATH or postgresql://... (default sqlite:DATA/fleet.db)");
  serve->add_option("--listen", a->listen, "HOST:PORT to listen on (default 127.0.0.1:8080; port 0: any free port)");
  serve->add_option("--tls-cert", o.tls_cert_file, "PEM certificate: serve HTTPS");
  serve->add_option("--tls-key", o.tls_key_file, "PEM private key of --tls-cert");
  serve->add_option("--threads", o.threads, "Request threads (default 8)");
  serve->add_option("--max-package-mib", a->max_package_mib, "Largest package upload in MiB (default 1024)");
  serve->add_option("--tick-ms", o.tick_ms, "Period of the rollout and alert work in ms (default 5000; 0: off)");
  serve->add_option("--alert-webhook", o.alert_webhook_url, "URL new alerts are POSTed to as JSON");
  serve->add_option("--online-window-s", o.online_window_s,
                    "A device is online when seen within this many seconds (default 300)");
  serve->add_option("--cost-per-gb", o.cost_per_gb, "Price of a GB of device traffic, for the dashboard (default 1.0)");
  return {fleet, [a] { RunServe(*a); }};
}

}  // namespace outpost::cli
