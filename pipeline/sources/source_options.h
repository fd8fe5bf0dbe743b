// What the sources share: option checking, path resolution and pacing a file as a live stream.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/expected.h"
#include "pipeline/core/frame.h"

namespace outpost::pipeline {

// Throws Error("<where>: unknown option 'key'") for a key outside `allowed`, or when `options`
// is not an object.
void CheckSourceKeys(const nlohmann::json& options, std::string_view where,
                     std::initializer_list<std::string_view> allowed);

// options[key] as T, or `fallback` when absent; a wrongly typed value throws an Error naming
// the key.
template <typename T>
T SourceOption(const nlohmann::json& options, std::string_view where, const char* key, T fallback) {
  if (!options.contains(key)) return fallback;
  try {
    return options.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(std::string(where) + ": option '" + key + "' has the wrong type");
  }
}

// `path` unchanged when absolute, else joined to `base_dir` (when not empty).
std::string ResolveSourcePath(const std::string& path, const std::string& base_dir);

// Marks a filled frame as `kind` (capture time now, the given sequence number and origin) and
// empties the fields of the other kind, which a reused frame may still hold.
void StampFrame(Frame& frame, Frame::Kind kind, uint64_t sequence, const std::string& origin);

// Releases frames at a fixed rate: Wait() returns at start, start + 1/fps, start + 2/fps, ...
// When the consumer falls behind it does not try to catch up by bursting frames.
class FramePacer {
 public:
  explicit FramePacer(double fps) : fps_(fps) {}
  void Wait();

 private:
  double fps_;
  bool started_ = false;
  std::chrono::steady_clock::time_point next_;
};

}  // namespace outpost::pipeline
