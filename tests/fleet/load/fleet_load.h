// The fleet load generator: a real `outpost fleet serve` process on loopback and thousands of
// simulated devices that enroll, poll, send telemetry and take an update during a staged
// rollout, with every record checked to be stored exactly once at the end. The benchmark
// program (bench/fleet_load.cc, figures in docs/performance.md) and the regular test
// (tests/fleet/load/fleet_load_test.cc) run this same code at different scales.
//
// What a simulated device does, one cycle after another (devices are multiplexed over a
// bounded pool of client threads, each with one keep-alive connection):
//   poll (reporting the version it runs) -> when told to run another version: download the
//   delta offered (else the full package) in Range requests, check its digest, rebuild and
//   verify the package, and run it from then on -> one telemetry batch with its own next
//   sequence numbers.
// A request that fails (no answer, a timeout, a 5xx) is retried with the same body, so the same
// records can reach the server twice; a share of acknowledged batches is also sent again on
// purpose, as an agent whose answer was lost would. The server must absorb both.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/expected.h"

namespace outpost::fleet::load {

struct LoadOptions {
  std::string outpost_bin;        // the CLI that runs `fleet serve`
  std::string store_url;          // "": SQLite in the work directory; else e.g. a PostgreSQL URL
  std::string backend = "sqlite";  // a label for the report
  int devices = 10000;
  int connections = 16;           // client threads, one keep-alive connection each
  int server_threads = 0;         // 0: connections + 4 (a connection holds a server thread)
  int port = 0;                   // 0: any free port
  double steady_s = 60;           // the steady phase lasts at least this long
  double rollout_after_s = 5;     // start the rollout this long into the steady phase (once every
                                  // device has reported at least once)
  double rollout_timeout_s = 900; // give up when 100% is not reached in this time
  int hold_s = 1;                 // each rollout stage is held this long before its gates judge
  int min_records = 20;           // records a canary must send before its gates judge
  int batch = 10;                 // telemetry records per batch
  double resend_share = 0.01;     // acknowledged batches sent again on purpose
  int model_kib = 64;             // size of the model in each package
  int range_kib = 32;             // download chunk (one Range request each)
  int timeout_ms = 10000;         // client read/write timeout; then the request is retried
  int tick_ms = 200;              // the server's rollout tick
  std::string work_dir;           // "": a fresh temporary directory, removed afterwards
  bool keep_work_dir = false;
  // Progress lines ("phase, devices done"); nullptr: silent.
  std::function<void(const std::string&)> progress;
};

struct EndpointFigures {
  std::string name;
  int64_t requests = 0;           // answered requests, retries included
  int64_t retries = 0;            // requests sent again after a failure
  int64_t failures = 0;           // no answer (connection error or timeout)
  int64_t status_4xx = 0, status_5xx = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
};

struct LoadReport {
  std::string backend;
  int devices = 0, connections = 0, server_threads = 0;
  double enroll_s = 0, enroll_per_s = 0;
  double steady_s = 0;            // the steady phase's length
  int64_t records_accepted = 0;   // acknowledged telemetry records in the steady phase
  double records_per_s = 0;
  int64_t requests = 0;           // device requests in the steady phase
  double requests_per_s = 0;
  int64_t resent_batches = 0;     // sent again on purpose
  int64_t duplicates_reported = 0;  // records the server answered as duplicates
  double rollout_s = 0;           // rollout start -> every device runs v2 (by its own report)
  double rollout_completed_s = 0; // rollout start -> the server marks the rollout completed
  int64_t deltas = 0, full_downloads = 0;
  int64_t devices_on_v2 = 0;      // as the server's registry says at the end
  int64_t records_expected = 0;   // acknowledged records, all phases
  int64_t records_stored = 0;
  int64_t lost = 0, duplicated = 0, devices_mismatched = 0;
  std::string first_mismatch;
  int64_t server_peak_rss_kib = 0;  // VmHWM of the server process
  double server_cpu_s = 0;          // user + system
  double wall_s = 0;
  std::vector<EndpointFigures> endpoints;
  std::vector<std::string> problems;  // every failed check, in words; empty: all held

  bool ok() const { return problems.empty(); }
};

// Runs the whole scenario. An error means it could not run (the server did not start, setup
// failed); a run whose checks fail returns a report with `problems`.
Expected<LoadReport> RunFleetLoad(const LoadOptions& options);

// The figures as a Markdown table (what the benchmark prints) and as JSON (--json).
std::string FormatLoadReport(const LoadReport& report);
nlohmann::json LoadReportJson(const LoadReport& report);

}  // namespace outpost::fleet::load
