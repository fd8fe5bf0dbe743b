// outpost run PIPELINE.json: the real-time pipeline runner (pipeline/runner/runner.h).
// Reached through `outpost run` when its positional argument ends with ".json".
#pragma once

#include <cstdint>
#include <string>

namespace outpost::cli {

struct PipelineRunArgs {
  std::string file;
  std::string model;        // --model FILE: instead of the file's model
  int threads = -1;         // -t N given: instead of the file's threads
  std::string json_report;  // --json FILE
  uint64_t max_frames = 0;  // --max-frames N (0: the file's)
  bool quiet = false;       // --quiet: no status line
  bool status = false;      // --status: a status line even when stderr is not a terminal
};

void RunPipelineFile(const PipelineRunArgs& args);

}  // namespace outpost::cli
