// Factories of the file, camera, sensor and audio sources, by the "type" of a pipeline's
// "source" object. Each takes that object's remaining options (unknown keys are errors naming
// the key) and the directory relative paths are resolved against (the pipeline file's).
// docs/pipeline-sources.md documents every option.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "common/expected.h"
#include "pipeline/core/source.h"

namespace outpost::pipeline {

// "video": a Y4M file, or any container and codec libavformat/libavcodec read when built with
// OUTPOST_LIBAV.
Expected<std::unique_ptr<Source>> MakeVideoSource(const nlohmann::json& options,
                                                  const std::string& base_dir);
// "v4l2": a Video4Linux2 camera (/dev/videoN), YUYV, MJPEG, RGB24 or GREY.
Expected<std::unique_ptr<Source>> MakeV4l2Source(const nlohmann::json& options,
                                                 const std::string& base_dir);
// "sensor": numeric CSV rows from a file or stdin, in windows of `window` rows.
Expected<std::unique_ptr<Source>> MakeSensorSource(const nlohmann::json& options,
                                                   const std::string& base_dir);
// "audio": a WAV file as 1 s windows of MFCC, log-mel or raw samples.
Expected<std::unique_ptr<Source>> MakeAudioSource(const nlohmann::json& options,
                                                  const std::string& base_dir);

}  // namespace outpost::pipeline
