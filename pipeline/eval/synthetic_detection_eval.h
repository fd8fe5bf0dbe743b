// Scores a compiled detector on synthetic camera frames: each frame is preprocessed as the
// model's input spec says (resized when the camera's size differs from the model input),
// run, post-processed with a detection config, and compared with the camera's truth boxes.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>

#include "common/expected.h"
#include "io/session.h"
#include "pipeline/eval/detection_metrics.h"
#include "pipeline/sources/synthetic_camera.h"

namespace outpost::pipeline {

// `postprocess` is a detection "postprocess" object (docs/pipeline.md); the model's labels name
// its classes. The camera runs as fast as frames are consumed and produces `frames` frames.
// `progress` (optional) is called with the number of frames done.
Expected<DetectionMetrics> EvaluateDetectorOnSyntheticFrames(
    io::Session& session, const nlohmann::json& postprocess, SyntheticCameraOptions camera,
    uint64_t frames, const std::function<void(uint64_t)>& progress = {});

}  // namespace outpost::pipeline
