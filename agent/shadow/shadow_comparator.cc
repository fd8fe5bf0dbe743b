// Shadow comparison of a candidate model with the active one (agent/shadow/shadow_comparator.h).
#include "agent/shadow/shadow_comparator.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace outpost::agent {
namespace {

// splitmix64 of the frame number mixed with the seed: consecutive frames get unrelated values.
uint64_t ShadowHash(uint64_t seed, uint64_t frame) {
  uint64_t x = seed * 0xd1b54a32d192ed03ull + frame + 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A classifier output: one axis of two or more classes.
bool IsClassOutput(const std::vector<int64_t>& shape) {
  int wide = 0;
  int64_t n = 1;
  for (int64_t d : shape) {
    wide += d > 1;
    n *= d;
  }
  return wide == 1 && n >= 2;
}

size_t Top1(std::span<const float> v) {
  size_t best = 0;
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

}  // namespace

ShadowSampler::ShadowSampler(double rate, uint64_t seed) : seed_(seed) {
  rate = std::clamp(std::isnan(rate) ? 0.0 : rate, 0.0, 1.0);
  // rate * 2^64; where long double is no wider than double a rate just below 1 rounds to 2^64,
  // which no uint64_t holds: such a rate takes every frame.
  const long double scaled = static_cast<long double>(rate) * 18446744073709551616.0L;
  all_ = scaled >= 18446744073709551615.0L;
  threshold_ = all_ ? 0 : static_cast<uint64_t>(scaled);
}

bool ShadowSampler::Take(uint64_t frame) const {
  return all_ || ShadowHash(seed_, frame) < threshold_;
}

std::optional<double> ShadowStats::agreement() const {
  if (top1_compared == 0) return std::nullopt;
  return static_cast<double>(top1_agree) / static_cast<double>(top1_compared);
}

std::optional<double> ShadowStats::mean_abs_error() const {
  if (values_compared == 0) return std::nullopt;
  return sum_abs_error / static_cast<double>(values_compared);
}

std::optional<double> ShadowStats::mean_latency_ms() const {
  if (compared == 0) return std::nullopt;
  return static_cast<double>(latency_total_ns) / 1e6 / static_cast<double>(compared);
}

Expected<std::unique_ptr<ShadowComparator>> ShadowComparator::Create(
    const std::string& candidate_path, const ShadowOptions& options) {
  Expected<io::LoadedModel> model = io::LoadedModel::Open(candidate_path);
  if (!model) return Error("shadow candidate: " + model.message());
  return Create(std::move(*model), options);
}

Expected<std::unique_ptr<ShadowComparator>> ShadowComparator::Create(
    io::LoadedModel candidate, const ShadowOptions& options) {
  if (!(options.rate >= 0 && options.rate <= 1))
    return Error("shadow: the sampling rate must be between 0 and 1");
  if (!(options.budget_share > 0) || options.frame_period.count() < 0)
    return Error("shadow: the budget share must be positive and the frame period not negative");
  std::unique_ptr<ShadowComparator> c(new ShadowComparator(std::move(candidate), options));
  Expected<std::unique_ptr<io::Session>> session =
      io::Session::Create(*c->candidate_, options.session);
  if (!session) return Error("shadow candidate: " + session.message());
  c->session_ = std::move(*session);
  const bool classifier = c->candidate_->fb().task() == opm::Task::CLASSIFICATION;
  for (int o = 0; o < c->session_->num_outputs(); ++o) {
    const std::vector<int64_t> shape = c->session_->output_shape(o);
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    c->output_sizes_.push_back(static_cast<size_t>(n));
    c->class_outputs_.push_back(classifier && IsClassOutput(shape));
  }
  return c;
}

ShadowComparator::ShadowComparator(io::LoadedModel candidate, const ShadowOptions& options)
    : candidate_(std::make_unique<io::LoadedModel>(std::move(candidate))),
      options_(options),
      sampler_(options.rate, options.seed) {}

void ShadowComparator::Observe(std::span<const float> input,
                               std::span<const std::span<const float>> active_outputs) {
  const std::span<const float> inputs[1] = {input};
  Observe(inputs, active_outputs);
}

void ShadowComparator::Observe(std::span<const std::span<const float>> inputs,
                               std::span<const std::span<const float>> active_outputs) {
  const uint64_t frame = frame_++;
  ++stats_.frames;
  if (!sampler_.Take(frame)) return;
  ++stats_.sampled;
  if (frame < skip_until_frame_) {
    ++stats_.skipped_budget;
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  Expected<Unit> done = RunAndCompare(inputs, active_outputs);
  const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::steady_clock::now() - start)
                         .count();
  if (!done) {
    ++stats_.failures;
    stats_.last_failure = done.message();
  } else {
    ++stats_.compared;
    stats_.latency_total_ns += ns;
    stats_.latency_max_ns = std::max(stats_.latency_max_ns, ns);
  }
  // The budget: a run of t nanoseconds pays for itself over t / budget frames, during which
  // sampled frames are skipped. A failed run costs time too.
  if (options_.frame_period.count() > 0) {
    const double budget =
        options_.budget_share * static_cast<double>(options_.frame_period.count());
    if (static_cast<double>(ns) > budget) {
      const double frames = std::ceil(static_cast<double>(ns) / budget);
      skip_until_frame_ = frame + static_cast<uint64_t>(std::min(frames, 1e18));
    }
  }
}

Expected<Unit> ShadowComparator::RunAndCompare(
    std::span<const std::span<const float>> inputs,
    std::span<const std::span<const float>> active_outputs) {
  io::Session& s = *session_;
  if (inputs.size() != static_cast<size_t>(s.num_inputs()))
    return Error("the candidate takes " + std::to_string(s.num_inputs()) + " inputs, the frame has " +
                 std::to_string(inputs.size()));
  if (active_outputs.size() != static_cast<size_t>(s.num_outputs()))
    return Error("the candidate has " + std::to_string(s.num_outputs()) +
                 " outputs, the active model " + std::to_string(active_outputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    Expected<Unit> set = s.SetInputFromFloat(static_cast<int>(i), inputs[i]);
    if (!set) return set.error();
  }
  Expected<Unit> run = s.Run();
  if (!run) return run.error();
  // Check every output before counting any, so a failed frame leaves the statistics alone.
  for (size_t o = 0; o < active_outputs.size(); ++o)
    if (output_sizes_[o] != active_outputs[o].size())
      return Error("candidate output '" + s.output_name(static_cast<int>(o)) + "' has " +
                   std::to_string(output_sizes_[o]) + " values, the active model's " +
                   std::to_string(active_outputs[o].size()));
  for (size_t o = 0; o < active_outputs.size(); ++o) {
    s.OutputAsFloat(static_cast<int>(o), out_);
    const std::span<const float> active = active_outputs[o];
    for (size_t k = 0; k < out_.size(); ++k) {
      const double e = std::fabs(static_cast<double>(active[k]) - out_[k]);
      stats_.sum_abs_error += e;
      stats_.max_abs_error = std::max(stats_.max_abs_error, e);
    }
    stats_.values_compared += out_.size();
    if (class_outputs_[o]) {
      ++stats_.top1_compared;
      stats_.top1_agree += Top1(active) == Top1(out_);
    }
  }
  return Unit{};
}

}  // namespace outpost::agent
