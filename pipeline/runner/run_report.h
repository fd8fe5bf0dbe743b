// What a pipeline run did and how fast: counters, per-stage latency percentiles, queue depths,
// end-to-end latency, the bottleneck and the model's slowest operators. Printed as a table at
// the end of `outpost run PIPELINE.json` and written as JSON with --json (schema in
// docs/pipeline.md).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace outpost::pipeline {

struct RunCounters {
  uint64_t captured = 0;   // frames the source delivered
  uint64_t processed = 0;  // frames that got a post-processed result
  uint64_t dropped = 0;    // dropped by a full queue (drop-oldest)
  uint64_t stale = 0;      // older than the deadline when the inference thread took them
  uint64_t rejected = 0;   // by the validator or the preprocessing (see rejected_by_reason)
  std::map<std::string, uint64_t> rejected_by_reason;
  uint64_t skipped = 0;  // by the motion gate
  uint64_t missed_deadlines = 0;
  uint64_t source_errors = 0;
  std::map<std::string, uint64_t> source_error_messages;
  uint64_t inference_errors = 0;
  uint64_t postprocess_errors = 0;
  uint64_t action_errors = 0;
  std::map<std::string, uint64_t> action_error_messages;
  uint64_t events_sent = 0;  // results the uplink policy passed to the actions
  uint64_t bytes_captured = 0;
  uint64_t bytes_sent = 0;  // delivered by the actions
};

struct LatencySummary {
  std::string name;
  uint64_t count = 0;
  double mean_ms = 0, p50_ms = 0, p95_ms = 0, p99_ms = 0;
  double per_second = 0;  // count / wall time
};

struct QueueSummary {
  std::string name;  // "capture->infer", "infer->post"
  size_t capacity = 0;
  std::string policy;  // "block" or "drop_oldest"
  uint64_t dropped = 0;
  size_t max_depth = 0;
  double mean_depth = 0;
};

struct OpTime {
  std::string op, name;
  double total_ms = 0;
  double mean_us = 0;  // per inference
  double share = 0;    // of all operator time
};

// A detector scored on the frames it processed, when the source knows the truth (the
// synthetic camera): pipeline/eval/detection_metrics.h.
struct DetectionAccuracy {
  int frames = 0;
  double map50 = 0;      // mAP at IoU 0.5
  double map50_95 = 0;   // mean over IoU 0.50, 0.55, ..., 0.95 (COCO)
  std::vector<std::pair<std::string, double>> class_ap50;  // classes with truth boxes
};

struct RunReport {
  std::string source, model;
  std::vector<std::string> actions;
  std::string stop_reason;  // "end of source", "max_frames", "stopped by signal", ...
  std::string error;        // set when the run ended on an error (100 source errors in a row)
  double deadline_ms = 0;
  double wall_s = 0;
  double fps = 0;  // processed / wall time
  RunCounters counters;
  std::vector<LatencySummary> stages;
  LatencySummary end_to_end;
  std::vector<QueueSummary> queues;
  std::string bottleneck;  // "capture", "infer" or "post" (the stage thread)
  std::string bottleneck_reason;
  std::vector<OpTime> top_ops;  // slowest first, at most 10
  std::optional<DetectionAccuracy> accuracy;
};

nlohmann::json ToJson(const RunReport& report);
void PrintReport(const RunReport& report, std::ostream& out);

// The live status line (no newline): "fps 29.8 | e2e p50 12.1 ms p99 20.3 | infer 4.1 ms |
// dropped 3 | rejected 1 | skipped 40%".
struct LiveStatus {
  double fps = 0;
  double e2e_p50_ms = 0, e2e_p99_ms = 0;
  double infer_ms = 0;
  uint64_t dropped = 0, rejected = 0;
  double skipped_fraction = 0;
};
std::string FormatStatus(const LiveStatus& status);

// printf("%.*f"): the report's numbers.
std::string Fixed(double v, int digits);

}  // namespace outpost::pipeline
