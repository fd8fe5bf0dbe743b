// YUV4MPEG2 (.y4m) files: the uncompressed video format of the reference codecs and test
// sequences. A text header ("YUV4MPEG2 W640 H480 F30:1 C420jpeg ...\n"), then per frame a
// "FRAME ...\n" line and the planes Y, U, V. Chroma C420jpeg, C420paldv, C420, C420mpeg2
// (their chroma siting differs by a fraction of a pixel, which is ignored), C444 and mono
// are read; interlacing, aspect and X parameters are accepted and ignored.
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace outpost::pipeline {

struct Y4mHeader {
  enum class Chroma : uint8_t { k420, k444, kMono };
  int width = 0;
  int height = 0;
  int fps_num = 0;  // 0 when the header has no F parameter
  int fps_den = 1;
  Chroma chroma = Chroma::k420;

  double fps() const { return fps_num > 0 ? static_cast<double>(fps_num) / fps_den : 0.0; }
  size_t frame_bytes() const;  // Y, U and V planes of one frame
};

// Parses the header line (without its newline). Errors are prefixed with `name`.
Expected<Y4mHeader> ParseY4mHeader(std::string_view line, const std::string& name);

// Reads frames one after the other and converts them to packed RGB (io/yuv.h).
class Y4mReader {
 public:
  // Reads the header of `stream`; `name` (the file name) prefixes every error.
  static Expected<std::unique_ptr<Y4mReader>> Open(std::unique_ptr<std::istream> stream,
                                                   const std::string& name);
  static Expected<std::unique_ptr<Y4mReader>> OpenFile(const std::string& path);

  const Y4mHeader& header() const { return header_; }

  // Fills `rgb` (width * height * 3 bytes) with the next frame and returns true, or returns
  // false at the end of the file. A truncated or malformed frame is an Error naming the file
  // and the frame number; the reader then ends (nothing after it can be located reliably).
  Expected<bool> ReadFrame(std::vector<uint8_t>& rgb);
  // Back to the first frame (for looping).
  Expected<Unit> Rewind();
  int frames_read() const { return frame_index_; }

 private:
  Y4mReader(std::unique_ptr<std::istream> stream, std::string name, Y4mHeader header,
            std::streampos data_start);

  std::unique_ptr<std::istream> stream_;
  std::string name_;
  Y4mHeader header_;
  std::streampos data_start_;
  int frame_index_ = 0;
  bool ended_ = false;
  std::vector<uint8_t> planes_;
  std::vector<uint8_t> neutral_;  // chroma planes of 128 for mono files
};

}  // namespace outpost::pipeline
