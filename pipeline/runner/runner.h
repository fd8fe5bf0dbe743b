// The real-time pipeline runner: three threads joined by bounded queues,
//
//   capture (Source::Next) -> [queue] -> infer (validate -> motion gate -> preprocess ->
//   Session::Run) -> [queue] -> post (post-process -> uplink policy -> actions)
//
// so capturing frame N+1 overlaps inferring frame N. A live source's queues drop their oldest
// frame when full (the newest frame is the one worth inferring); a file source's block, so
// every item is processed. Every stage is timed; Run returns the report (run_report.h).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "common/expected.h"
#include "io/model_file.h"
#include "io/session.h"
#include "pipeline/config/pipeline_config.h"
#include "pipeline/core/action.h"
#include "pipeline/core/source.h"
#include "pipeline/runner/factories.h"
#include "pipeline/runner/run_report.h"

namespace outpost::pipeline {

struct RunOptions {
  uint64_t max_frames = 0;                // > 0 overrides the pipeline file's max_frames
  const std::atomic<bool>* stop = nullptr;  // set (e.g. by a signal handler) to end the run
  std::function<void(const LiveStatus&)> on_status;  // called every status_period while running
  std::chrono::milliseconds status_period{500};
};

class Runner {
 public:
  // Loads the model and builds every stage; the source and actions come from the caller.
  static Expected<std::unique_ptr<Runner>> Create(const PipelineConfig& config,
                                                  std::unique_ptr<Source> source,
                                                  std::vector<std::unique_ptr<Action>> actions);
  // The same, building the source and actions with the factories.
  static Expected<std::unique_ptr<Runner>> FromConfig(
      const PipelineConfig& config, const ActionFactoryExtension* extension = nullptr);

  ~Runner();

  // Runs until the source ends, max_frames frames were captured, `stop` is set, or 100 source
  // errors in a row (then report.error says so). Call once.
  RunReport Run(const RunOptions& options = {});

 private:
  struct Impl;
  explicit Runner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace outpost::pipeline
