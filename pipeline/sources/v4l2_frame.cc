#include "pipeline/sources/v4l2_frame.h"

#include <cstring>

#include "io/yuv.h"

namespace outpost::pipeline {

const char* V4l2FormatName(V4l2Format f) {
  switch (f) {
    case V4l2Format::kYuyv:
      return "YUYV";
    case V4l2Format::kMjpeg:
      return "MJPEG";
    case V4l2Format::kRgb24:
      return "RGB24";
    case V4l2Format::kGrey:
      return "GREY";
  }
  return "?";
}

Expected<Unit> V4l2BufferToFrame(V4l2Format f, std::span<const uint8_t> bytes, int width,
                                 int height, int stride, const std::string& device, Frame& frame) {
  if (f == V4l2Format::kMjpeg) {
    Expected<io::Image> img = io::DecodeImage(bytes, device + " MJPEG frame");
    if (!img) return img.error();
    if (img->format != io::PixelFormat::kRgb && img->format != io::PixelFormat::kGray)
      return Error(device + ": MJPEG frame decoded to " + io::PixelFormatName(img->format));
    frame.width = img->width;
    frame.height = img->height;
    frame.format = img->format;
    frame.pixels = std::move(img->pixels);
    return Unit{};
  }
  const int bpp = f == V4l2Format::kYuyv ? 2 : (f == V4l2Format::kRgb24 ? 3 : 1);
  const size_t row = f == V4l2Format::kYuyv ? static_cast<size_t>(width + 1) / 2 * 4
                                            : static_cast<size_t>(width) * bpp;
  const size_t pitch = stride > 0 ? static_cast<size_t>(stride) : row;
  if (width <= 0 || height <= 0 || pitch < row ||
      bytes.size() < pitch * static_cast<size_t>(height - 1) + row)
    return Error(device + ": " + V4l2FormatName(f) + " buffer of " + std::to_string(bytes.size()) +
                 " bytes is too small for " + std::to_string(width) + "x" + std::to_string(height));
  frame.width = width;
  frame.height = height;
  const bool grey = f == V4l2Format::kGrey;
  frame.format = grey ? io::PixelFormat::kGray : io::PixelFormat::kRgb;
  frame.pixels.resize(static_cast<size_t>(width) * height * (grey ? 1 : 3));
  if (f == V4l2Format::kYuyv) {
    io::YuyvToRgb(bytes.data(), width, height, frame.pixels.data(), static_cast<int>(pitch));
    return Unit{};
  }
  for (int y = 0; y < height; ++y)
    std::memcpy(frame.pixels.data() + static_cast<size_t>(y) * row, bytes.data() + y * pitch, row);
  return Unit{};
}

}  // namespace outpost::pipeline
