// Turning one captured Video4Linux2 buffer into a pipeline frame, apart from the device so the
// conversions are testable without a camera.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/expected.h"
#include "pipeline/core/frame.h"

namespace outpost::pipeline {

// The pixel formats the camera source negotiates, V4L2 fourcc codes.
enum class V4l2Format : uint32_t {
  kYuyv = 0x56595559,   // 'YUYV'
  kMjpeg = 0x47504A4D,  // 'MJPG'
  kRgb24 = 0x33424752,  // 'RGB3'
  kGrey = 0x59455247,   // 'GREY'
};

const char* V4l2FormatName(V4l2Format f);

// Fills frame.pixels/width/height/format from a buffer of `bytes` captured in format `f` with
// rows of `stride` bytes (bytesperline; ignored for MJPEG). A buffer too small for the frame
// or an undecodable JPEG is an Error prefixed with `device`.
Expected<Unit> V4l2BufferToFrame(V4l2Format f, std::span<const uint8_t> bytes, int width,
                                 int height, int stride, const std::string& device, Frame& frame);

}  // namespace outpost::pipeline
