#include "tools/outpost/cmd_run_pipeline.h"

#include <signal.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "pipeline/config/pipeline_config.h"
#include "pipeline/runner/runner.h"
#include "tools/outpost/cli_util.h"
#include "uplink/uplink_actions.h"

namespace outpost::cli {
namespace {

std::atomic<bool> g_stop{false};

void OnStopSignal(int) { g_stop.store(true); }

// SIGINT/SIGTERM end the run cleanly (queues drained, actions closed, the report printed)
// instead of killing the process; the previous handlers come back afterwards.
class StopSignals {
 public:
  StopSignals() {
    struct sigaction sa = {};
    sa.sa_handler = OnStopSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ = {}, old_term_ = {};
};

}  // namespace

void RunPipelineFile(const PipelineRunArgs& a) {
  pipeline::PipelineConfig config = Must(pipeline::LoadPipelineConfig(a.file));
  // The same pipeline with another model (a new version, its int8 twin) or thread count.
  if (!a.model.empty()) config.model = a.model;
  if (a.threads >= 0) config.threads = a.threads;
  // Network actions live outside pipeline/ (it never depends on network code): offered here.
  const pipeline::ActionFactoryExtension uplink{uplink::UplinkActionTypes(),
                                                uplink::MakeUplinkAction};
  std::unique_ptr<pipeline::Runner> runner =
      Must(pipeline::Runner::FromConfig(config, &uplink));

  pipeline::RunOptions options;
  options.max_frames = a.max_frames;
  options.stop = &g_stop;
  const bool show_status = !a.quiet && (a.status || StderrIsTerminal());
  if (show_status)
    options.on_status = [](const pipeline::LiveStatus& s) {
      std::cerr << "\r" << pipeline::FormatStatus(s) << "\033[K" << std::flush;
    };
  std::cout.flush();  // events written to stdout by an action come after anything printed
  pipeline::RunReport report;
  {
    StopSignals signals;
    report = runner->Run(options);
  }
  if (show_status) std::cerr << "\r\033[K" << std::flush;
  pipeline::PrintReport(report, std::cout);
  if (!a.json_report.empty()) {
    std::ofstream out(a.json_report);
    out << pipeline::ToJson(report).dump(2) << "\n";
    out.close();
    if (!out) throw Error("cannot write " + a.json_report);
  }
  if (!report.error.empty()) throw Error(report.error);
}

}  // namespace outpost::cli
