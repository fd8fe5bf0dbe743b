// outpost agent enroll | run: the device agent (docs/agent.md, "Running the agent"). `enroll`
// registers the device with the fleet server and writes its directory; `run` keeps the active
// model running, updates it over the air and reports to the server until SIGINT or SIGTERM.
#include <signal.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "agent/daemon/agent_daemon.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/commands.h"
#include "uplink/uplink_actions.h"

namespace outpost::cli {
namespace {

std::atomic<bool> g_agent_stop{false};

void OnAgentStopSignal(int) { g_agent_stop.store(true); }

// SIGINT/SIGTERM end the run cleanly: the pipeline stops, the last record is buffered and one
// upload is tried.
class AgentStopSignals {
 public:
  AgentStopSignals() {
    struct sigaction sa = {};
    sa.sa_handler = OnAgentStopSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~AgentStopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ = {}, old_term_ = {};
};

struct AgentEnrollArgs {
  agent::EnrollOptions options;
  std::string tags;
};

struct AgentRunArgs {
  std::string dir;
  int64_t max_seconds = 0;
};

std::vector<std::string> AgentSplitTags(const std::string& text) {
  std::vector<std::string> tags;
  std::stringstream in(text);
  std::string tag;
  while (std::getline(in, tag, ','))
    if (!tag.empty()) tags.push_back(tag);
  return tags;
}

void RunAgentEnroll(AgentEnrollArgs& a) {
  agent::EnrollOptions o = a.options;
  if (o.server.rfind("http://", 0) != 0 && o.server.rfind("https://", 0) != 0)
    throw UsageError("--server must be an http:// or https:// URL");
  o.tags = AgentSplitTags(a.tags);
  if (o.periods.poll_ms < 10 || o.periods.report_ms < 10 || o.periods.upload_ms < 10)
    throw UsageError("--poll-ms, --report-ms and --upload-ms must be at least 10");
  const agent::AgentConfig config = Must(agent::EnrollDevice(o));
  std::cout << "enrolled " << config.device_id << " in " << config.dir << "\n";
}

void RunAgentRun(const AgentRunArgs& a) {
  if (a.max_seconds < 0) throw UsageError("--max-seconds must not be negative");
  const agent::AgentConfig config = Must(agent::LoadAgentConfig(a.dir));
  const pipeline::ActionFactoryExtension uplink{uplink::UplinkActionTypes(), uplink::MakeUplinkAction};
  agent::AgentRunOptions o;
  o.stop = &g_agent_stop;
  o.max_seconds = a.max_seconds;
  o.actions = &uplink;
  agent::AgentRunSummary summary;
  {
    AgentStopSignals signals;
    summary = Must(agent::RunAgent(config, o));
  }
  std::cout << "version " << (summary.version.empty() ? "(none)" : summary.version) << ", "
            << summary.records << " telemetry records, " << summary.records_uploaded << " uploaded, "
            << summary.records_pending << " buffered\n";
}

}  // namespace

Command AddAgentCommand(CLI::App& root) {
  auto e = std::make_shared<AgentEnrollArgs>();
  auto r = std::make_shared<AgentRunArgs>();
  CLI::App* agent = root.add_subcommand("agent", "The device agent: run the active model, update it over the air, report to the fleet");
  agent->require_subcommand(1);

  CLI::App* enroll = agent->add_subcommand("enroll", "Enroll this device with a fleet server and write its directory");
  agent::EnrollOptions& o = e->options;
  enroll->add_option("--dir", o.dir, "Device directory (created when missing)")->required();
  enroll->add_option("--server", o.server, "Fleet server URL, http://HOST:PORT or https://HOST:PORT")->required();
  enroll->add_option("--token", o.token, "Enrollment token from the fleet operator")->required();
  enroll->add_option("--model", o.model, "The model this device runs")->required();
  enroll->add_option("--signing-key", o.signing_key, "The fleet's package signing public key")->required();
  enroll->add_option("--pipeline", o.pipeline, "The pipeline file to run (its model is replaced by the active one)")
      ->required();
  enroll->add_option("--rollback-key", o.rollback_key, "The server's rollback-order public key");
  enroll->add_option("--ca-file", o.ca_file, "PEM CA certificates for an https server");
  enroll->add_option("--tags", e->tags, "Comma-separated device tags (default: the token's)");
  enroll->add_option("--name", o.name, "Device name (default: the host name)");
  enroll->add_option("--poll-ms", o.periods.poll_ms, "Update check period in ms (default 60000)");
  enroll->add_option("--report-ms", o.periods.report_ms, "Telemetry record period in ms (default 10000)");
  enroll->add_option("--upload-ms", o.periods.upload_ms, "Telemetry upload period in ms (default 10000)");
  enroll->add_option("--health-window-ms", o.health.window_ms, "Health window after a switch in ms (default 60000)");
  enroll->add_option("--health-min-inferences", o.health.min_inferences,
                     "Inferences the health window needs (default 100)");

  CLI::App* run = agent->add_subcommand("run", "Run the agent until SIGINT or SIGTERM");
  run->add_option("--dir", r->dir, "Device directory written by 'outpost agent enroll'")->required();
  run->add_option("--max-seconds", r->max_seconds, "Stop after this many seconds (default: run until stopped)");

  return {agent, [e, r, enroll, run] {
            if (enroll->parsed()) RunAgentEnroll(*e);
            if (run->parsed()) RunAgentRun(*r);
          }};
}

}  // namespace outpost::cli
