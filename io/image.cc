#include "io/image.h"

#include <climits>
#include <cstring>
#include <memory>

#include "io/mapped_file.h"

// The single stb_image implementation of the host build. STB_IMAGE_STATIC keeps its symbols
// local to this file, so another copy linked elsewhere cannot collide with it.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_FAILURE_USERMSG
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#endif
#include "stb_image.h"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace outpost::io {
namespace {

// Refuse absurd sizes before decoding (a 100-byte header can claim a 4-gigapixel image).
constexpr int64_t kMaxPixels = int64_t{1} << 28;

struct StbiFree {
  void operator()(stbi_uc* p) const { stbi_image_free(p); }
};

}  // namespace

int ChannelCount(PixelFormat f) {
  switch (f) {
    case PixelFormat::kGray:
      return 1;
    case PixelFormat::kGrayAlpha:
      return 2;
    case PixelFormat::kRgb:
    case PixelFormat::kBgr:
      return 3;
    case PixelFormat::kRgba:
    case PixelFormat::kBgra:
      return 4;
  }
  return 0;
}

const char* PixelFormatName(PixelFormat f) {
  switch (f) {
    case PixelFormat::kGray:
      return "gray";
    case PixelFormat::kGrayAlpha:
      return "gray+alpha";
    case PixelFormat::kRgb:
      return "rgb";
    case PixelFormat::kRgba:
      return "rgba";
    case PixelFormat::kBgr:
      return "bgr";
    case PixelFormat::kBgra:
      return "bgra";
  }
  return "?";
}

bool LooksLikeImage(std::span<const uint8_t> bytes) {
  if (bytes.empty() || bytes.size() > static_cast<size_t>(INT_MAX)) return false;
  int w, h, c;
  return stbi_info_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &c) != 0;
}

Expected<Image> DecodeImage(std::span<const uint8_t> bytes, const std::string& name) {
  if (bytes.empty()) return Error(name + ": file is empty");
  if (bytes.size() > static_cast<size_t>(INT_MAX)) return Error(name + ": image file too large");
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, c = 0;
  if (!stbi_info_from_memory(bytes.data(), len, &w, &h, &c))
    return Error(name + ": not a supported image (PNG, JPEG, BMP, GIF, TGA, PSD, HDR, PNM)");
  if (w <= 0 || h <= 0 || static_cast<int64_t>(w) * h > kMaxPixels)
    return Error(name + ": image of " + std::to_string(w) + "x" + std::to_string(h) +
                 " pixels is too large");
  std::unique_ptr<stbi_uc, StbiFree> data(stbi_load_from_memory(bytes.data(), len, &w, &h, &c, 0));
  if (!data) {
    const char* why = stbi_failure_reason();
    return Error(name + ": cannot decode image: " + (why ? why : "unknown error"));
  }
  Image img;
  img.width = w;
  img.height = h;
  switch (c) {
    case 1:
      img.format = PixelFormat::kGray;
      break;
    case 2:
      img.format = PixelFormat::kGrayAlpha;
      break;
    case 3:
      img.format = PixelFormat::kRgb;
      break;
    case 4:
      img.format = PixelFormat::kRgba;
      break;
    default:
      return Error(name + ": unsupported channel count " + std::to_string(c));
  }
  const size_t n = static_cast<size_t>(w) * static_cast<size_t>(h) * static_cast<size_t>(c);
  img.pixels.assign(data.get(), data.get() + n);
  return img;
}

Expected<Image> DecodeImageFile(const std::string& path) {
  Expected<MappedFile> f = MappedFile::Open(path);
  if (!f) return f.error();
  return DecodeImage(f->bytes(), path);
}

}  // namespace outpost::io
