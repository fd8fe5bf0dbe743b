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
#include <span>
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

// One model run as the inference thread saw it (RunOptions::on_inference). The spans point
// into the runner's own buffers: valid only during the call.
struct InferenceObservation {
  bool ran = true;          // false: the model could not take the frame (its size is not the
                            // input's), so it did not run; `ok` is then false too
  bool ok = false;          // Session::Run succeeded
  double latency_ms = 0;    // of Session::Run alone
  std::span<const float> input;                  // the float values fed to input 0
  std::span<const std::vector<float>> outputs;   // every output as float; empty when !ok
  const io::Session* session = nullptr;          // the active model's session (arena figures)
};

struct RunOptions {
  uint64_t max_frames = 0;                // > 0 overrides the pipeline file's max_frames
  const std::atomic<bool>* stop = nullptr;  // set (e.g. by a signal handler) to end the run
  std::function<void(const LiveStatus&)> on_status;  // called every status_period while running
  std::chrono::milliseconds status_period{500};
  // Called on the inference thread after every Session::Run, and for every frame the model
  // cannot take (a host watching the model: drift, shadow comparison, health; a new model that
  // cannot take the device's frames must count as failing). Setting it keeps the float input of
  // every frame (the same bytes reach the model); the runner allocates nothing per frame for it.
  std::function<void(const InferenceObservation&)> on_inference;
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
