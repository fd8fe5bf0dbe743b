// Frame -> model input 0, and the FrameTransform that maps boxes back to the frame.
//
// Image frames go through io::Preprocess with the model's plan (colour, resize, mean/std,
// layout) into a float buffer, then Session::SetInputFromFloat, which quantizes for int8/uint8
// inputs. Samples frames are copied as they are when their count is the input's. The float
// buffer stays readable after Apply: the anomaly stage compares it with the reconstruction.
//
// Options come from the pipeline file's "preprocess" object; today {"resize": "stretch"}
// (the whole frame stretched to the input, aspect ratio not kept).
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <vector>

#include "common/expected.h"
#include "io/preprocess.h"
#include "io/session.h"
#include "pipeline/core/frame.h"
#include "pipeline/postprocess/box.h"

namespace outpost::pipeline {

enum class ResizeMode { kStretch };

struct PreprocessOptions {
  ResizeMode resize = ResizeMode::kStretch;
};

// Unknown keys and values are errors.
Expected<PreprocessOptions> ParsePreprocessOptions(const nlohmann::json& j);

class PreprocessStep {
 public:
  // `session` must outlive the step. Fails when the model has no input 0.
  static Expected<std::unique_ptr<PreprocessStep>> Create(const PreprocessOptions& options,
                                                          io::Session& session);

  // Writes `frame` into the session's input 0. An image frame for a model whose input is not
  // image-like, or a samples frame of the wrong count, is an Error (nothing is written).
  Expected<FrameTransform> Apply(const Frame& frame);

  // The values last written, as floats (before any quantization).
  std::span<const float> input() const { return values_; }
  size_t input_values() const { return values_.size(); }
  // The image plan, when input 0 is image-like.
  const std::optional<io::PreprocessPlan>& plan() const { return plan_; }

 private:
  PreprocessStep(const PreprocessOptions& options, io::Session& session)
      : options_(options), session_(session) {}

  PreprocessOptions options_;
  io::Session& session_;
  std::optional<io::PreprocessPlan> plan_;
  std::string plan_error_;  // why input 0 takes no images
  std::vector<float> values_;
};

}  // namespace outpost::pipeline
