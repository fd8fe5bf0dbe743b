#include "pipeline/sources/image_source.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "io/image.h"
#include "io/image_folder.h"

namespace outpost::pipeline {

namespace fs = std::filesystem;

Expected<std::unique_ptr<ImageSource>> ImageSource::Open(const std::string& path, bool loop) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return Error("images: " + path + " does not exist");
  std::vector<std::string> files;
  if (fs::is_directory(st)) {
    fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->path().filename().string().starts_with(".")) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file(ec) && io::HasImageExtension(it->path()))
        files.push_back(it->path().string());
    }
    if (ec) return Error("images: cannot list " + path + ": " + ec.message());
    std::sort(files.begin(), files.end());
    if (files.empty()) return Error("images: no image files in " + path);
  } else {
    files.push_back(path);
  }
  return std::unique_ptr<ImageSource>(new ImageSource(path, std::move(files), loop));
}

Expected<bool> ImageSource::Next(Frame& frame) {
  if (next_ >= files_.size()) {
    if (!loop_) return false;
    next_ = 0;
  }
  const std::string& file = files_[next_++];
  Expected<io::Image> image = io::DecodeImageFile(file);
  if (!image) return image.error();
  frame.kind = Frame::Kind::kImage;
  frame.sequence = sequence_++;
  frame.capture_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
  frame.origin = file;
  frame.width = image->width;
  frame.height = image->height;
  frame.format = image->format;
  frame.pixels = std::move(image->pixels);
  frame.samples.clear();
  frame.rows = frame.channels = 0;
  frame.truth.clear();
  return true;
}

std::string ImageSource::Describe() const {
  return "images " + path_ + " (" + std::to_string(files_.size()) + " file" +
         (files_.size() == 1 ? "" : "s") + (loop_ ? ", looping" : "") + ")";
}

}  // namespace outpost::pipeline
