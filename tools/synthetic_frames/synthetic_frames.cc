// synthetic_frames: writes frames of the synthetic camera and their ground-truth boxes as
// NumPy files, so a detector is trained on exactly the pixels the camera renders.
//
//   synthetic_frames OUT_PREFIX FRAMES [CAMERA_JSON]
//
// writes OUT_PREFIX.frames.npy (uint8, [FRAMES, H, W, 3]) and OUT_PREFIX.truth.npy (float32,
// [boxes, 6]: frame index, class, x1, y1, x2, y2 in pixels). CAMERA_JSON is the camera's
// options object (docs/synthetic-camera.md); frames are produced as fast as possible.
#include <cstdio>
#include <cstring>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>

#include "io/npy.h"
#include "pipeline/sources/synthetic_camera.h"

namespace {

void Run(const std::string& prefix, long long count, const std::string& camera_json) {
  using namespace outpost;
  nlohmann::json options =
      camera_json.empty() ? nlohmann::json::object() : nlohmann::json::parse(camera_json);
  options["realtime"] = false;
  options["frames"] = count;
  pipeline::SyntheticCameraOptions o = pipeline::ParseSyntheticCameraOptions(options).value();
  pipeline::SyntheticCamera camera(o);

  const size_t frame_bytes = static_cast<size_t>(o.width) * o.height * 3;
  io::HostTensor frames =
      io::HostTensor::Zeros(io::ElementType::kUint8, {count, o.height, o.width, 3});
  std::vector<float> truth;
  pipeline::Frame frame;
  for (long long i = 0; i < count; ++i) {
    if (!camera.Next(frame).value()) throw Error("the camera ended early");
    std::memcpy(frames.bytes.data() + static_cast<size_t>(i) * frame_bytes, frame.pixels.data(),
                frame_bytes);
    for (const pipeline::TruthBox& b : frame.truth)
      truth.insert(truth.end(),
                   {static_cast<float>(i), static_cast<float>(b.class_id), b.x1, b.y1, b.x2, b.y2});
  }
  io::WriteNpy(prefix + ".frames.npy", frames).value();
  io::WriteNpy(prefix + ".truth.npy",
               io::HostTensor::Float32({static_cast<int64_t>(truth.size() / 6), 6}, truth))
      .value();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: synthetic_frames OUT_PREFIX FRAMES [CAMERA_JSON]\n");
    return 2;
  }
  try {
    const long long count = std::stoll(argv[2]);
    if (count < 1) throw outpost::Error("FRAMES must be at least 1");
    Run(argv[1], count, argc == 4 ? argv[3] : "");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "synthetic_frames: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
