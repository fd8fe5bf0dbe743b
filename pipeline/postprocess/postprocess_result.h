// The output of the post-processing stage for one frame, whatever the task, and its JSON form
// (for the action stage: log lines, MQTT/HTTP payloads, telemetry).
//
// The spans and labels point into the stage that produced them: serialize (or copy) before
// that stage runs again.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <span>
#include <variant>

#include "pipeline/postprocess/anomaly_stage.h"
#include "pipeline/postprocess/classification_stage.h"
#include "pipeline/postprocess/detection_stage.h"
#include "pipeline/postprocess/keyword_stage.h"

namespace outpost::pipeline {

struct ClassificationResult {
  std::span<const ClassScore> classes;
};

struct DetectionResult {
  std::span<const Detection> detections;
};

using PostprocessResult =
    std::variant<ClassificationResult, DetectionResult, AnomalyScore, KeywordResult>;

// {"type": "classification", "classes": [{"class": 3, "label": "cat", "score": 0.91}, ...]}
// {"type": "detection", "detections": [{"class": 0, "label": "person", "score": 0.8,
//                                       "box": [x1, y1, x2, y2]}, ...]}
// {"type": "anomaly", "error": 0.012, "threshold": 0.01, "anomalous": true,
//  "warming_up": false, "z_score": 4.2}
// {"type": "keyword", "class": 2, "label": "yes", "score": 0.93, "detected": true,
//  "time_ms": 1200}
// An empty label is left out; NaN numbers become null.
nlohmann::json ToJson(const PostprocessResult& result);

}  // namespace outpost::pipeline
