#include "pipeline/sources/source_options.h"

#include <algorithm>
#include <filesystem>
#include <thread>

namespace outpost::pipeline {

void CheckSourceKeys(const nlohmann::json& options, std::string_view where,
                     std::initializer_list<std::string_view> allowed) {
  if (!options.is_object()) throw Error(std::string(where) + ": expected a JSON object");
  for (const auto& [key, value] : options.items())
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      throw Error(std::string(where) + ": unknown option '" + key + "'");
}

std::string ResolveSourcePath(const std::string& path, const std::string& base_dir) {
  const std::filesystem::path p(path);
  if (p.is_absolute() || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / p).string();
}

namespace {

// steady_clock now, in nanoseconds: Frame::capture_ns.
int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void StampFrame(Frame& frame, Frame::Kind kind, uint64_t sequence, const std::string& origin) {
  frame.kind = kind;
  frame.sequence = sequence;
  frame.capture_ns = SteadyNowNs();
  frame.origin = origin;
  frame.truth.clear();
  if (kind == Frame::Kind::kImage) {
    frame.samples.clear();
    frame.rows = frame.channels = 0;
  } else {
    frame.pixels.clear();
    frame.width = frame.height = 0;
  }
}

void FramePacer::Wait() {
  const auto now = std::chrono::steady_clock::now();
  const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / fps_));
  if (!started_) {
    started_ = true;
    next_ = now + period;
    return;
  }
  if (next_ > now) std::this_thread::sleep_until(next_);
  // A late consumer restarts the clock rather than receiving a burst of overdue frames.
  next_ = std::max(next_, now) + period;
}

}  // namespace outpost::pipeline
