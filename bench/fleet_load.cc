// The fleet load generator (tests/fleet/load/fleet_load.h) as a program: >= 10,000 simulated
// devices against a real `outpost fleet serve` on loopback, over SQLite or a PostgreSQL server
// it starts on loopback (tests/fleet/store/postgres_fixture.h). Prints progress to stderr, the
// figures as a Markdown table to stdout, and exits non-zero when any check fails (a record
// lost or stored twice, a 5xx, a rollout that does not reach 100%). docs/performance.md,
// "Fleet server under load", records its figures.
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

#include "tests/fleet/load/fleet_load.h"
#include "tests/fleet/store/postgres_fixture.h"

int main(int argc, char** argv) {
  using namespace outpost::fleet::load;
  LoadOptions o;
  o.outpost_bin = OUTPOST_BIN;
  bool postgres = false;
  std::string db, json_file;
  CLI::App app{"Fleet server load generator: simulated devices enroll, poll, send telemetry and take a staged "
               "rollout; every record is checked to be stored exactly once"};
  app.add_option("--outpost", o.outpost_bin, "The outpost CLI that runs `fleet serve` (default: the built one)");
  app.add_option("--devices", o.devices, "Simulated devices (default 10000)");
  app.add_option("--connections", o.connections, "Client threads, one keep-alive connection each (default 16)");
  app.add_option("--server-threads", o.server_threads, "The server's --threads (default connections + 4)");
  app.add_flag("--postgres", postgres, "Use a PostgreSQL server started on loopback (default SQLite)");
  app.add_option("--db", db, "Use this store URL instead (sqlite:PATH or postgresql://...)");
  app.add_option("--seconds", o.steady_s, "Minimum length of the steady phase in s (default 60)");
  app.add_option("--rollout-after", o.rollout_after_s, "Start the rollout this many s into the steady phase (default 5)");
  app.add_option("--rollout-timeout", o.rollout_timeout_s, "Fail when the rollout has not reached 100% in this many s (default 900)");
  app.add_option("--hold-s", o.hold_s, "Hold of each rollout stage in s (default 1)");
  app.add_option("--min-records", o.min_records, "Canary records a stage's gates need (default 20)");
  app.add_option("--batch", o.batch, "Telemetry records per batch (default 10)");
  app.add_option("--resend-share", o.resend_share, "Share of acknowledged batches sent again on purpose (default 0.01)");
  app.add_option("--model-kib", o.model_kib, "Model size in each package in KiB (default 64)");
  app.add_option("--range-kib", o.range_kib, "Download chunk per Range request in KiB (default 32)");
  app.add_option("--timeout-ms", o.timeout_ms, "Client timeout before a request is retried (default 10000)");
  app.add_option("--tick-ms", o.tick_ms, "The server's --tick-ms (default 200)");
  app.add_option("--port", o.port, "Port for the server (default 0: any free port)");
  app.add_option("--work-dir", o.work_dir, "Directory for the server's data and log (default: a temporary one)");
  app.add_flag("--keep", o.keep_work_dir, "Keep the temporary work directory");
  app.add_option("--json", json_file, "Also write the figures to this JSON file");
  CLI11_PARSE(app, argc, argv);

  if (!db.empty()) {
    o.store_url = db;
    o.backend = db.rfind("sqlite:", 0) == 0 ? "sqlite" : "postgresql";
  } else if (postgres) {
    std::cerr << "starting a PostgreSQL server on loopback\n";
    outpost::Expected<std::string> url = outpost::fleet::testing::CreateTemporaryPostgresDatabase();
    if (!url.ok()) {
      std::cerr << "fleet_load: " << url.message() << "\n";
      return 2;
    }
    o.store_url = *url;
    o.backend = "postgresql";
  }
  o.progress = [](const std::string& line) { std::cerr << line << std::endl; };
  outpost::Expected<LoadReport> report = RunFleetLoad(o);
  if (!report.ok()) {
    std::cerr << "fleet_load: " << report.message() << "\n";
    return 2;
  }
  std::cout << FormatLoadReport(*report);
  if (!json_file.empty()) {
    std::ofstream out(json_file);
    out << LoadReportJson(*report).dump(2) << "\n";
    if (!out) {
      std::cerr << "fleet_load: cannot write " << json_file << "\n";
      return 2;
    }
  }
  return report->ok() ? 0 : 1;
}
