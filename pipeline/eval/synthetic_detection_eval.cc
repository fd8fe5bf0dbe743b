#include "pipeline/eval/synthetic_detection_eval.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/classification.h"
#include "io/preprocess.h"
#include "pipeline/postprocess/postprocess_config.h"

namespace outpost::pipeline {

Expected<DetectionMetrics> EvaluateDetectorOnSyntheticFrames(
    io::Session& session, const nlohmann::json& postprocess, SyntheticCameraOptions camera,
    uint64_t frames, const std::function<void(uint64_t)>& progress) {
  return Capture([&]() -> DetectionMetrics {
    if (session.num_inputs() != 1)
      throw Error("a detector with one image input is needed, this model has " +
                  std::to_string(session.num_inputs()) + " inputs");
    const io::LoadedModel& model = session.model();
    const io::PreprocessPlan plan = io::MakePreprocessPlan(model.model(), 0).value();
    const std::vector<std::string> labels = io::ModelLabels(model.fb());
    const PostprocessConfig config = ParsePostprocessConfig(postprocess, labels).value();
    if (config.type != PostprocessType::kDetection)
      throw Error("the postprocess config is not a detection config (\"type\": \"detection\")");
    std::unique_ptr<DetectionStage> stage =
        DetectionStage::Create(config.detection, plan.width, plan.height, labels).value();
    if (stage->num_outputs() != session.num_outputs())
      throw Error("the detection config reads " + std::to_string(stage->num_outputs()) +
                  " outputs, the model has " + std::to_string(session.num_outputs()));

    camera.realtime = false;
    camera.frames = frames;
    SyntheticCamera source(camera);
    // Classes the camera never draws have no truth, hence no AP: they only hold detections.
    const DetectionOptions& d = config.detection;
    const int head_classes = d.format == DetectionFormat::kSsd        ? d.ssd.num_classes
                             : d.format == DetectionFormat::kYoloGrid ? d.yolo_grid.num_classes
                                                                      : d.yolo_flat.num_classes;
    DetectionMetrics metrics(std::max(head_classes, kSyntheticClassCount));
    const FrameTransform transform =
        FrameTransform::Resize(camera.width, camera.height, plan.width, plan.height);
    std::vector<float> input(plan.num_values());
    std::vector<std::vector<float>> outputs(static_cast<size_t>(session.num_outputs()));
    std::vector<std::span<const float>> views(outputs.size());
    Frame frame;
    while (source.Next(frame).value()) {
      io::Preprocess(frame.image(), plan, input.data());
      session.SetInputFromFloat(0, input).value();
      session.Run().value();
      for (size_t i = 0; i < outputs.size(); ++i) {
        outputs[i] = session.OutputAsFloat(static_cast<int>(i));
        views[i] = outputs[i];
      }
      metrics.AddFrame(stage->Run(views, transform).value(), frame.truth);
      if (progress) progress(frame.sequence + 1);
    }
    return metrics;
  });
}

}  // namespace outpost::pipeline
