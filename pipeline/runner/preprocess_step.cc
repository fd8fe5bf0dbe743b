#include "pipeline/runner/preprocess_step.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "pipeline/config/json_options.h"

namespace outpost::pipeline {

Expected<PreprocessOptions> ParsePreprocessOptions(const nlohmann::json& j) {
  try {
    CheckKeys(j, "preprocess", {"fit", "resize", "pad_value"});
    PreprocessOptions o;
    o.fit = Choice(j, "fit", o.fit,
                   {{"stretch", io::FitMode::kStretch},
                    {"letterbox", io::FitMode::kLetterbox},
                    {"center_crop", io::FitMode::kCenterCrop}});
    o.resize = Choice(j, "resize", o.resize,
                      {{"bilinear", io::ResizeMethod::kBilinear}, {"area", io::ResizeMethod::kArea}});
    Read(j, "pad_value", o.pad_value);
    if (!(o.pad_value >= 0.0f && o.pad_value <= 255.0f))
      throw Error("pad_value: must be in [0, 255]");
    return o;
  } catch (const Error& e) {
    return Error(std::string("preprocess: ") + e.what());
  } catch (const nlohmann::json::exception& e) {
    return Error(std::string("preprocess: ") + e.what());
  }
}

Expected<std::unique_ptr<PreprocessStep>> PreprocessStep::Create(const PreprocessOptions& options,
                                                                 io::Session& session) {
  if (session.num_inputs() < 1) return Error("the model has no input");
  std::unique_ptr<PreprocessStep> step(new PreprocessStep(options, session));
  int64_t count = 1;
  for (int64_t d : session.input_shape(0)) count *= d;
  step->values_.assign(static_cast<size_t>(std::max<int64_t>(count, 0)), 0.0f);
  Expected<io::PreprocessPlan> plan = io::MakePreprocessPlan(session.model().model(), 0);
  if (plan && plan->num_values() == step->values_.size()) {
    plan->fit = options.fit;
    plan->resize = options.resize;
    plan->pad_value = options.pad_value;
    step->plan_ = std::move(plan).value();
  } else
    step->plan_error_ = plan ? "the plan does not fill the input" : plan.message();
  return step;
}

Expected<FrameTransform> PreprocessStep::Apply(const Frame& frame) {
  if (frame.kind == Frame::Kind::kSamples) {
    if (frame.samples.size() != values_.size())
      return Error("wrong size: " + std::to_string(frame.samples.size()) + " values for " +
                   session_.DescribeInput(0) + " (" + std::to_string(values_.size()) + ")");
    std::copy(frame.samples.begin(), frame.samples.end(), values_.begin());
    Expected<Unit> set = session_.SetInputFromFloat(0, values_);
    if (!set) return set.error();
    return FrameTransform::Identity(frame.channels, frame.rows);
  }
  if (!plan_) return Error(session_.DescribeInput(0) + " does not take images: " + plan_error_);
  Expected<Unit> set = session_.SetInputFromImage(
      0, frame.image(), *plan_, keep_float_ ? std::span<float>(values_) : std::span<float>());
  if (!set) return set.error();
  const io::PreprocessGeometry g = io::ComputeGeometry(*plan_, frame.width, frame.height);
  FrameTransform t;
  t.scale_x = g.scale_x;
  t.scale_y = g.scale_y;
  t.pad_x = g.pad_x;
  t.pad_y = g.pad_y;
  t.frame_width = frame.width;
  t.frame_height = frame.height;
  return t;
}

}  // namespace outpost::pipeline
