// 8-bit images: a non-owning view (what preprocessing consumes, e.g. a camera frame) and
// decoding of image files with stb_image (PNG, JPEG, BMP, GIF, PSD, TGA, HDR, PIC, PGM/PPM).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/expected.h"

namespace outpost::io {

// Channel order of interleaved 8-bit pixels.
enum class PixelFormat : uint8_t { kGray, kGrayAlpha, kRgb, kRgba, kBgr, kBgra };

int ChannelCount(PixelFormat f);
const char* PixelFormatName(PixelFormat f);

struct ImageView {
  const uint8_t* pixels = nullptr;
  int width = 0;
  int height = 0;
  PixelFormat format = PixelFormat::kGray;
  size_t row_stride = 0;  // bytes between rows; 0 means width * channels (tightly packed)

  size_t stride() const {
    return row_stride != 0 ? row_stride
                           : static_cast<size_t>(width) * static_cast<size_t>(ChannelCount(format));
  }
};

struct Image {
  int width = 0;
  int height = 0;
  PixelFormat format = PixelFormat::kGray;
  std::vector<uint8_t> pixels;  // tightly packed rows

  ImageView view() const { return {pixels.data(), width, height, format, 0}; }
};

// Decodes an image held in memory; `name` prefixes errors. Data that is not a supported image
// gives an Error saying so.
Expected<Image> DecodeImage(std::span<const uint8_t> bytes, const std::string& name);
Expected<Image> DecodeImageFile(const std::string& path);

// Whether the bytes look like an image stb_image can decode (header check only).
bool LooksLikeImage(std::span<const uint8_t> bytes);

}  // namespace outpost::io
