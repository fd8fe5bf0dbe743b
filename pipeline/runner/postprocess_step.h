// The post-processing stage of a pipeline, built from the "postprocess" object and the model:
// one of the classification, detection, anomaly and keyword stages, fed with the model's
// outputs (and, for the anomaly score, the input they reconstruct).
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <vector>

#include "common/expected.h"
#include "io/session.h"
#include "pipeline/postprocess/postprocess_config.h"
#include "pipeline/postprocess/postprocess_result.h"

namespace outpost::pipeline {

// What the stage reads of one inferred frame.
struct InferredOutputs {
  std::vector<std::vector<float>> outputs;  // every model output, as float
  std::vector<float> input;                 // the model input (anomaly only, else empty)
  FrameTransform transform;
  int64_t time_ms = 0;  // since the first frame (keyword spotting)
};

class PostprocessStep {
 public:
  // Reads output sizes and labels from `session`; `input_width`/`input_height` are the image
  // input's (detection boxes are relative to it).
  static Expected<std::unique_ptr<PostprocessStep>> Create(const nlohmann::json& config,
                                                           const io::Session& session,
                                                           int input_width, int input_height);

  PostprocessType type() const { return config_.type; }
  // Whether Run needs InferredOutputs::input.
  bool needs_input() const { return config_.type == PostprocessType::kAnomaly; }

  // The result points into this step: serialize it before the next Run.
  Expected<PostprocessResult> Run(const InferredOutputs& frame);

 private:
  PostprocessStep() = default;

  PostprocessConfig config_;
  std::optional<ClassificationStage> classification_;
  std::unique_ptr<DetectionStage> detection_;
  std::optional<AnomalyStage> anomaly_;
  std::optional<KeywordStage> keyword_;
  std::vector<std::span<const float>> spans_;
};

}  // namespace outpost::pipeline
