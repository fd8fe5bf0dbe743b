// Video files in any container and codec FFmpeg's libraries read (MP4, MKV, AVI, ... with
// H.264, MPEG-4, MJPEG, FFV1, ...), decoded frame by frame and converted to packed RGB with
// libswscale. Built only with OUTPOST_LIBAV.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/expected.h"

namespace outpost::pipeline {

class LibavReader {
 public:
  static Expected<std::unique_ptr<LibavReader>> Open(const std::string& path);
  ~LibavReader();
  LibavReader(const LibavReader&) = delete;
  LibavReader& operator=(const LibavReader&) = delete;

  int width() const { return width_; }
  int height() const { return height_; }
  double fps() const { return fps_; }  // the stream's average frame rate, 0 when unknown

  // Fills `rgb` with the next frame (width * height * 3 bytes) and returns true, or false at
  // the end of the file. A packet that fails to decode is an Error naming the file and the
  // frame number; reading continues with the next packet.
  Expected<bool> ReadFrame(std::vector<uint8_t>& rgb);
  Expected<Unit> Rewind();

 private:
  struct State;
  explicit LibavReader(std::string path);

  std::string path_;
  std::unique_ptr<State> s_;
  int width_ = 0, height_ = 0;
  double fps_ = 0;
  int frame_index_ = 0;
  bool draining_ = false;
  bool ended_ = false;
};

}  // namespace outpost::pipeline
