// Frames from image files: {"type": "images", "path": "photos/", "loop": false}. The path is
// one image file or a folder, read recursively (hidden entries skipped), files with an image
// extension in path order. Read on demand (not live): the pipeline processes every image.
// An image that does not decode is an Error naming it; the next call goes on with the next.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/expected.h"
#include "pipeline/core/source.h"

namespace outpost::pipeline {

class ImageSource : public Source {
 public:
  // Errors when the path does not exist or holds no image file.
  static Expected<std::unique_ptr<ImageSource>> Open(const std::string& path, bool loop);

  Expected<bool> Next(Frame& frame) override;
  std::string Describe() const override;

 private:
  ImageSource(std::string path, std::vector<std::string> files, bool loop)
      : path_(std::move(path)), files_(std::move(files)), loop_(loop) {}

  std::string path_;
  std::vector<std::string> files_;
  bool loop_;
  size_t next_ = 0;
  uint64_t sequence_ = 0;
};

}  // namespace outpost::pipeline
