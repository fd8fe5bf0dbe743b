// The "postprocess" object of a pipeline file, parsed into the stages' options. The names and
// defaults are listed in docs/pipeline.md; unknown keys are errors, so a typo does not
// silently fall back to a default.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>

#include "common/expected.h"
#include "pipeline/postprocess/anomaly_stage.h"
#include "pipeline/postprocess/classification_stage.h"
#include "pipeline/postprocess/detection_stage.h"
#include "pipeline/postprocess/keyword_stage.h"

namespace outpost::pipeline {

enum class PostprocessType { kClassification, kDetection, kAnomaly, kKeyword };

struct PostprocessConfig {
  PostprocessType type = PostprocessType::kClassification;
  ClassificationOptions classification;
  DetectionOptions detection;
  AnomalyOptions anomaly;
  KeywordOptions keyword;
};

// `labels` (the model's) resolve class names given in the file, e.g. keyword "ignore".
Expected<PostprocessConfig> ParsePostprocessConfig(const nlohmann::json& config,
                                                   std::span<const std::string> labels);

}  // namespace outpost::pipeline
