// A pipeline file: which source, model, preprocessing, post-processing and actions, and how
// the runner behaves in real time (queues, deadlines, input validation, duty cycling).
// The keys and their defaults are listed in docs/pipeline.md; unknown keys are errors naming
// their place in the file ("realtime: unknown option 'dorp'").
//
// The source, preprocess, postprocess and action objects stay JSON here: their own parsers
// (the factories, PreprocessOptions, ParsePostprocessConfig) check them, some of them only once
// the model is loaded (postprocess labels).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/expected.h"

namespace outpost::pipeline {

// What a full queue does with a new item.
enum class DropPolicy {
  kAuto,    // drop the oldest for a live source, block for a file source
  kOldest,  // drop the oldest queued item (a live camera: the newest frame matters)
  kBlock,   // wait for room (files: every item is processed)
};

struct RealtimeConfig {
  int queue = 2;  // capacity of each queue between the stage threads
  DropPolicy drop = DropPolicy::kAuto;
  double deadline_ms = 0;  // end-to-end budget per frame; 0: none
};

struct ValidationConfig {
  bool reject_black = true;     // every pixel value <= black_level
  bool reject_white = true;     // every pixel value >= white_level
  bool reject_constant = true;  // standard deviation of the pixel values < min_stddev
  int black_level = 8;
  int white_level = 247;
  double min_stddev = 2.0;
};

enum class UplinkMode {
  kEvery,     // every result is an event
  kOnChange,  // only results that differ from the last one sent (see uplink_policy.h)
};

struct MotionGateConfig {
  bool enabled = false;
  double threshold = 0.02;    // a cell changed when |gray difference| / 255 > threshold
  double min_changed = 0.01;  // run inference when the changed fraction of cells >= this
  int max_skip = 0;           // force a run after this many skipped frames; 0: never
};

struct DutyCycleConfig {
  MotionGateConfig motion_gate;
  UplinkMode uplink = UplinkMode::kEvery;
};

struct PipelineConfig {
  std::string base_dir;  // the pipeline file's folder; relative paths are resolved from it
  nlohmann::json source;
  std::string model;  // resolved against base_dir
  int threads = 1;
  nlohmann::json preprocess = nlohmann::json::object();
  nlohmann::json postprocess;
  std::vector<nlohmann::json> actions;
  RealtimeConfig realtime;
  ValidationConfig validation;
  DutyCycleConfig duty_cycle;
  uint64_t max_frames = 0;  // 0: until the source ends or the run is stopped
};

// `base_dir` resolves relative paths (the model); "" means the current directory.
Expected<PipelineConfig> ParsePipelineConfig(const nlohmann::json& j, const std::string& base_dir);
// Reads and parses a pipeline file; relative paths are taken from its folder.
Expected<PipelineConfig> LoadPipelineConfig(const std::string& path);

// `path` unchanged when absolute or `base_dir` is empty, else base_dir/path.
std::string ResolvePath(const std::string& base_dir, const std::string& path);

}  // namespace outpost::pipeline
