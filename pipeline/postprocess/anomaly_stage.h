// Anomaly score of an autoencoder: the reconstruction error between the model's input and its
// output, compared with a threshold.
//
//   error = mean((input - output)^2)   metric "mse"
//   error = mean(|input - output|)     metric "mae"
//
// Fixed threshold: anomalous when error > threshold. With a baseline (warmup_frames > 0) the
// first warmup_frames errors are taken as normal and give a mean m and standard deviation s
// (population, Welford's update); after that the baseline is frozen and a frame is anomalous
// when error > m + sigmas * s. Frames during the warm-up are never anomalous. NaN values in
// either tensor make the error NaN: such a frame is reported as anomalous (a broken sensor
// is not "normal") and does not enter the baseline.
#pragma once

#include <cstdint>
#include <span>

#include "common/expected.h"

namespace outpost::pipeline {

enum class ReconstructionMetric { kMse, kMae };

struct AnomalyOptions {
  ReconstructionMetric metric = ReconstructionMetric::kMse;
  float threshold = 0.0f;  // used when warmup_frames == 0
  int warmup_frames = 0;   // > 0: learn the baseline from the first frames
  float sigmas = 3.0f;
};

struct AnomalyScore {
  float error = 0;      // the reconstruction error of this frame
  float threshold = 0;  // what it was compared with (NaN while warming up)
  bool anomalous = false;
  bool warming_up = false;
  // With a baseline: (error - mean) / std once it is learnt (NaN before, or when std is 0).
  float z_score = 0;
};

class AnomalyStage {
 public:
  static Expected<AnomalyStage> Create(const AnomalyOptions& options);

  // Fails when the sizes differ or are 0.
  Expected<AnomalyScore> Run(std::span<const float> input, std::span<const float> output);

  // The learnt baseline (valid once warm-up ends).
  double baseline_mean() const { return mean_; }
  double baseline_std() const;
  int64_t frames_seen() const { return count_; }

 private:
  AnomalyOptions options_;
  int64_t count_ = 0;  // frames in the baseline
  double mean_ = 0, m2_ = 0;
};

// The reconstruction error alone (no NaN filtering: a NaN value gives NaN).
double ReconstructionError(std::span<const float> input, std::span<const float> output,
                           ReconstructionMetric metric);

}  // namespace outpost::pipeline
