// Shadow mode: a candidate model runs beside the active one on a sampled share of the frames,
// on the same input, and only statistics come out: top-1 agreement (classifiers), output error,
// candidate failures and the candidate's latency. The agent reports them (the fleet's rollout
// gate `min_agreement` reads the agreement, docs/rollouts.md) and never acts on the candidate:
// Observe takes the active model's outputs and returns nothing, so no candidate output can
// reach the caller's action path.
//
// The candidate has its own io::Session (its own arena), so it cannot disturb the active
// model's memory. A budget keeps it from starving the active model: when a shadow run takes
// longer than `budget_share` of the frame period, the sampled frames that follow are skipped
// (and counted) until the frames since then have paid for it, so shadow work averages at most
// budget_share x frame_period per frame.
//
//   agent::ShadowOptions options;  options.rate = 0.1;
//   auto shadow = agent::ShadowComparator::Create("candidate.opm", options);
//   per frame, after the active model ran on `input`:
//     (*shadow)->Observe(input, active_outputs);
//   per report: (*shadow)->stats(), then (*shadow)->StartWindow().
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/expected.h"
#include "io/model_file.h"
#include "io/session.h"

namespace outpost::agent {

// Which frames the candidate also runs on: frame n is taken when a hash of (seed, n) falls in
// the first `rate` share of the hash range. Reproducible for a seed, independent of timing, and
// close to `rate` over any long run of frames.
class ShadowSampler {
 public:
  ShadowSampler(double rate, uint64_t seed);
  bool Take(uint64_t frame) const;

 private:
  uint64_t threshold_ = 0;
  bool all_ = false;
  uint64_t seed_ = 0;
};

struct ShadowOptions {
  double rate = 0.1;   // share of frames the candidate runs on, 0 to 1
  uint64_t seed = 1;   // the sampler's seed
  // The budget: 0 (the default) means none. Otherwise shadow work may use `budget_share` of
  // `frame_period` per frame on average.
  std::chrono::nanoseconds frame_period{0};
  double budget_share = 0.25;
  io::SessionOptions session;  // the candidate's session (threads, kernels)
};

struct ShadowStats {
  uint64_t frames = 0;          // offered to Observe
  uint64_t sampled = 0;         // taken by the sampler
  uint64_t compared = 0;        // the candidate ran and its outputs were compared
  uint64_t skipped_budget = 0;  // sampled but skipped by the budget
  uint64_t failures = 0;        // the candidate could not take the input or failed to run
  std::string last_failure;
  // Top-1 agreement over the compared frames of a classifier (both outputs class vectors).
  uint64_t top1_compared = 0;
  uint64_t top1_agree = 0;
  // |active - candidate| over every compared output value.
  uint64_t values_compared = 0;
  double sum_abs_error = 0;
  double max_abs_error = 0;
  // The candidate's time per compared frame (input copy and run).
  int64_t latency_total_ns = 0;
  int64_t latency_max_ns = 0;

  std::optional<double> agreement() const;       // top1_agree / top1_compared
  std::optional<double> mean_abs_error() const;  // sum_abs_error / values_compared
  std::optional<double> mean_latency_ms() const;
};

class ShadowComparator {
 public:
  // Loads and verifies the candidate and creates its session; an Error names why it cannot
  // shadow (unreadable, tampered, no kernel for an op, ...).
  static Expected<std::unique_ptr<ShadowComparator>> Create(const std::string& candidate_path,
                                                            const ShadowOptions& options = {});
  static Expected<std::unique_ptr<ShadowComparator>> Create(io::LoadedModel candidate,
                                                            const ShadowOptions& options = {});

  // One frame, after the active model ran: `inputs` are the float values it was fed (one span
  // per input), `active_outputs` its outputs as float. Runs the candidate when the frame is
  // sampled and the budget allows, and updates the statistics.
  void Observe(std::span<const std::span<const float>> inputs,
               std::span<const std::span<const float>> active_outputs);
  void Observe(std::span<const float> input,
               std::span<const std::span<const float>> active_outputs);

  const ShadowStats& stats() const { return stats_; }
  // Starts a new reporting window (the sampler's frame count and the budget carry on).
  void StartWindow() { stats_ = {}; }

 private:
  ShadowComparator(io::LoadedModel candidate, const ShadowOptions& options);
  // Runs the candidate and compares; an Error is a candidate failure.
  Expected<Unit> RunAndCompare(std::span<const std::span<const float>> inputs,
                               std::span<const std::span<const float>> active_outputs);

  std::unique_ptr<io::LoadedModel> candidate_;  // stable address: the session refers to it
  std::unique_ptr<io::Session> session_;
  ShadowOptions options_;
  ShadowSampler sampler_;
  std::vector<size_t> output_sizes_;  // values per candidate output
  std::vector<bool> class_outputs_;   // classifier outputs: compared by top-1 too
  uint64_t frame_ = 0;
  uint64_t skip_until_frame_ = 0;  // the budget: sampled frames before this one are skipped
  ShadowStats stats_;
  std::vector<float> out_;  // reused candidate output
};

}  // namespace outpost::agent
