// MakeSource: one branch per source type of a pipeline file.
#include <nlohmann/json.hpp>

#include "pipeline/config/json_options.h"
#include "pipeline/config/pipeline_config.h"
#include "pipeline/runner/factories.h"
#include "pipeline/sources/image_source.h"
#include "pipeline/sources/source_makers.h"
#include "pipeline/sources/synthetic_camera.h"

namespace outpost::pipeline {
namespace {

using nlohmann::json;

Expected<std::unique_ptr<Source>> Images(const json& spec, const std::string& base_dir) {
  CheckKeys(spec, "images source", {"type", "path", "loop"});
  if (!spec.contains("path")) throw Error("images source: \"path\" is required");
  bool loop = false;
  Read(spec, "loop", loop);
  Expected<std::unique_ptr<ImageSource>> s =
      ImageSource::Open(ResolvePath(base_dir, spec.at("path").get<std::string>()), loop);
  if (!s) return s.error();
  return std::unique_ptr<Source>(std::move(s).value());
}

}  // namespace

Expected<std::unique_ptr<Source>> MakeSource(const json& spec, const std::string& base_dir) {
  try {
    if (!spec.is_object() || !spec.contains("type") || !spec.at("type").is_string())
      return Error("source: expected an object with a \"type\"");
    const std::string type = spec.at("type").get<std::string>();
    if (type == "images") return Images(spec, base_dir);
    if (type == "video") return MakeVideoSource(spec, base_dir);
    if (type == "v4l2") return MakeV4l2Source(spec, base_dir);
    if (type == "sensor") return MakeSensorSource(spec, base_dir);
    if (type == "audio") return MakeAudioSource(spec, base_dir);
    if (type == "synthetic") return MakeSyntheticCamera(spec, base_dir);
    return Error("unknown source type '" + type +
                 "' (known: images, video, v4l2, sensor, audio, synthetic)");
  } catch (const Error& e) {
    return e;
  } catch (const json::exception& e) {
    return Error(std::string("source: ") + e.what());
  }
}

}  // namespace outpost::pipeline
