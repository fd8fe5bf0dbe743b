#include "pipeline/runner/preprocess_step.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "pipeline/config/json_options.h"

namespace outpost::pipeline {

Expected<PreprocessOptions> ParsePreprocessOptions(const nlohmann::json& j) {
  try {
    CheckKeys(j, "preprocess", {"resize"});
    PreprocessOptions o;
    o.resize = Choice(j, "resize", ResizeMode::kStretch, {{"stretch", ResizeMode::kStretch}});
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
  if (plan && plan->num_values() == step->values_.size())
    step->plan_ = std::move(plan).value();
  else
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
  io::Preprocess(frame.image(), *plan_, values_.data());
  Expected<Unit> set = session_.SetInputFromFloat(0, values_);
  if (!set) return set.error();
  // Each resize mode maps boxes back in its own way; -Wswitch flags a mode without a mapping.
  switch (options_.resize) {
    case ResizeMode::kStretch: break;
  }
  return FrameTransform::Resize(frame.width, frame.height, plan_->width, plan_->height);
}

}  // namespace outpost::pipeline
