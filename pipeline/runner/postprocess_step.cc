#include "pipeline/runner/postprocess_step.h"

#include <nlohmann/json.hpp>

#include "io/classification.h"

namespace outpost::pipeline {
namespace {

int OutputCount(const io::Session& session, int i) {
  int64_t n = 1;
  for (int64_t d : session.output_shape(i)) n *= d;
  return static_cast<int>(n);
}

}  // namespace

Expected<std::unique_ptr<PostprocessStep>> PostprocessStep::Create(const nlohmann::json& config,
                                                                   const io::Session& session,
                                                                   int input_width,
                                                                   int input_height) {
  std::vector<std::string> labels = io::ModelLabels(session.model().fb());
  Expected<PostprocessConfig> parsed = ParsePostprocessConfig(config, labels);
  if (!parsed) return parsed.error();
  if (session.num_outputs() < 1) return Error("postprocess: the model has no output");
  std::unique_ptr<PostprocessStep> step(new PostprocessStep());
  step->config_ = std::move(parsed).value();
  const PostprocessConfig& c = step->config_;
  switch (c.type) {
    case PostprocessType::kClassification: {
      Expected<ClassificationStage> s =
          ClassificationStage::Create(c.classification, OutputCount(session, 0), std::move(labels));
      if (!s) return Error("postprocess: " + s.message());
      step->classification_.emplace(std::move(s).value());
      break;
    }
    case PostprocessType::kDetection: {
      Expected<std::unique_ptr<DetectionStage>> s =
          DetectionStage::Create(c.detection, input_width, input_height, std::move(labels));
      if (!s) return Error("postprocess: " + s.message());
      step->detection_ = std::move(s).value();
      if (step->detection_->num_outputs() > session.num_outputs())
        return Error("postprocess: the detection head reads " +
                     std::to_string(step->detection_->num_outputs()) + " outputs, the model has " +
                     std::to_string(session.num_outputs()));
      break;
    }
    case PostprocessType::kAnomaly: {
      Expected<AnomalyStage> s = AnomalyStage::Create(c.anomaly);
      if (!s) return Error("postprocess: " + s.message());
      step->anomaly_.emplace(std::move(s).value());
      break;
    }
    case PostprocessType::kKeyword: {
      Expected<KeywordStage> s =
          KeywordStage::Create(c.keyword, OutputCount(session, 0), std::move(labels));
      if (!s) return Error("postprocess: " + s.message());
      step->keyword_.emplace(std::move(s).value());
      break;
    }
  }
  return step;
}

Expected<PostprocessResult> PostprocessStep::Run(const InferredOutputs& frame) {
  if (frame.outputs.empty()) return Error("no model output");
  const std::vector<float>& first = frame.outputs.front();
  switch (config_.type) {
    case PostprocessType::kClassification: {
      Expected<std::span<const ClassScore>> r = classification_->Run(first);
      if (!r) return r.error();
      return PostprocessResult(ClassificationResult{*r});
    }
    case PostprocessType::kDetection: {
      spans_.clear();
      for (int i = 0; i < detection_->num_outputs(); ++i)
        spans_.emplace_back(frame.outputs[static_cast<size_t>(i)]);
      Expected<std::span<const Detection>> r = detection_->Run(spans_, frame.transform);
      if (!r) return r.error();
      return PostprocessResult(DetectionResult{*r});
    }
    case PostprocessType::kAnomaly: {
      Expected<AnomalyScore> r = anomaly_->Run(frame.input, first);
      if (!r) return r.error();
      return PostprocessResult(*r);
    }
    case PostprocessType::kKeyword: {
      Expected<KeywordResult> r = keyword_->Run(first, frame.time_ms);
      if (!r) return r.error();
      return PostprocessResult(*r);
    }
  }
  return Error("unknown postprocess type");
}

}  // namespace outpost::pipeline
