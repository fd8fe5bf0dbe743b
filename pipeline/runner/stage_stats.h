// Latency samples of the pipeline's stages, for the report and the live status line.
//
// A LatencyRecorder keeps the last `capacity` samples in a ring allocated up front (recording
// never allocates) plus the count and total of all samples; percentiles are exact over the
// samples still held (nearest rank). One thread records, any thread may read.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

namespace outpost::pipeline {

class LatencyRecorder {
 public:
  explicit LatencyRecorder(size_t capacity = size_t{1} << 15);

  void Record(int64_t ns);

  uint64_t count() const;
  int64_t total_ns() const;
  double mean_ms() const;
  // Nearest-rank percentile (p in [0, 100]) of the held samples, in ms; 0 without samples.
  double PercentileMs(double p) const;

 private:
  mutable std::mutex mutex_;
  std::vector<int64_t> ring_;
  size_t next_ = 0;
  uint64_t count_ = 0;
  int64_t total_ns_ = 0;
  mutable std::vector<int64_t> sorted_;
};

enum class Stage { kCapture, kValidate, kMotion, kPreprocess, kInfer, kPostprocess, kAction };
inline constexpr int kStageCount = 7;

// "capture", "validate", "motion", "preprocess", "infer", "postprocess", "action".
std::string_view StageName(Stage stage);

struct StageStats {
  std::array<LatencyRecorder, kStageCount> stages;
  LatencyRecorder end_to_end;  // capture -> last action done

  LatencyRecorder& operator[](Stage s) { return stages[static_cast<size_t>(s)]; }
  const LatencyRecorder& operator[](Stage s) const { return stages[static_cast<size_t>(s)]; }
};

}  // namespace outpost::pipeline
