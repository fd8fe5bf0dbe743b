// Frame -> model input 0, and the FrameTransform that maps boxes back to the frame.
//
// Image frames go through io::Preprocess with the model's plan (fit, resize, colour, mean/std,
// layout). A float input gets the floats; an int8/uint8 input gets them quantized in the same
// pass (io::PreprocessQuantized), unless the post-processing needs the float input (the
// anomaly stage compares it with the reconstruction), which then goes through
// Session::SetInputFromFloat: the same bytes either way. Samples frames are copied as they are
// when their count is the input's.
//
// Options come from the pipeline file's "preprocess" object:
//   {"fit": "stretch" | "letterbox" | "center_crop", "resize": "bilinear" | "area",
//    "pad_value": 114}
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

struct PreprocessOptions {
  io::FitMode fit = io::FitMode::kStretch;
  io::ResizeMethod resize = io::ResizeMethod::kBilinear;
  float pad_value = 114.0f;  // letterbox padding, in pixel units (YOLO's grey)
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

  // Keep the float values of every frame for input() (off: an image is preprocessed straight
  // into the model's input, quantized in the same pass when it is int8, and input() is not
  // updated).
  void set_keep_float_input(bool keep) { keep_float_ = keep; }
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
  bool keep_float_ = true;
};

}  // namespace outpost::pipeline
