#include "pipeline/postprocess/box.h"

#include <algorithm>
#include <cmath>

namespace outpost::pipeline {

float IoU(const Box& a, const Box& b) {
  // Same operations in the same order as torchvision's CPU nms kernel, so that a threshold
  // comparison on the result decides identically.
  const float area_a = (a.x2 - a.x1) * (a.y2 - a.y1);
  const float area_b = (b.x2 - b.x1) * (b.y2 - b.y1);
  const float w = std::max(0.0f, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  const float h = std::max(0.0f, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  const float inter = w * h;
  return inter / (area_a + area_b - inter);
}

Box ClipBox(const Box& b, float width, float height) {
  // std::clamp would pass NaN through unchanged; fmin/fmax prefer the number, which keeps a
  // NaN coordinate from reaching the output as anything but a clipped edge.
  auto cx = [&](float v) { return std::fmin(std::fmax(v, 0.0f), width); };
  auto cy = [&](float v) { return std::fmin(std::fmax(v, 0.0f), height); };
  return {cx(b.x1), cy(b.y1), cx(b.x2), cy(b.y2)};
}

FrameTransform FrameTransform::Identity(int width, int height) {
  return {1, 1, 0, 0, width, height};
}

FrameTransform FrameTransform::Resize(int frame_width, int frame_height, int input_width,
                                      int input_height) {
  return {static_cast<float>(input_width) / static_cast<float>(frame_width),
          static_cast<float>(input_height) / static_cast<float>(frame_height),
          0,
          0,
          frame_width,
          frame_height};
}

FrameTransform FrameTransform::Letterbox(int frame_width, int frame_height, int input_width,
                                         int input_height) {
  const float s = std::min(static_cast<float>(input_width) / static_cast<float>(frame_width),
                           static_cast<float>(input_height) / static_cast<float>(frame_height));
  const float scaled_w = std::round(static_cast<float>(frame_width) * s);
  const float scaled_h = std::round(static_cast<float>(frame_height) * s);
  return {s,
          s,
          (static_cast<float>(input_width) - scaled_w) / 2,
          (static_cast<float>(input_height) - scaled_h) / 2,
          frame_width,
          frame_height};
}

Box FrameTransform::ToFrame(const Box& b) const {
  const Box f{(b.x1 - pad_x) / scale_x, (b.y1 - pad_y) / scale_y, (b.x2 - pad_x) / scale_x,
              (b.y2 - pad_y) / scale_y};
  return ClipBox(f, static_cast<float>(frame_width), static_cast<float>(frame_height));
}

}  // namespace outpost::pipeline
