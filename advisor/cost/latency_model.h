// The Advisor's latency cost model for one engine of one target (docs/advisor.md):
//
//   latency = sum over ops of  max(MACs / rate[class, precision], bytes moved / bandwidth)
//                              + per-op overhead
//
// A roofline per op with a fixed dispatch cost. The rates are effective rates (what kernels
// reach on real layers, not a vendor peak), fitted per target: on this host from per-op times
// measured with io::Session's profiler (FitFromProfiles), elsewhere from published whole-model
// latencies (calibration points).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "advisor/catalog/hardware_catalog.h"
#include "advisor/cost/op_features.h"
#include "common/expected.h"
#include "io/model_file.h"

namespace outpost::advisor {

inline constexpr int kNumPrecisions = 4;

struct EngineCostModel {
  std::string target;  // catalog id
  std::string engine;  // engine type
  // Effective MACs per second by [op class][precision]; empty where nothing was fitted.
  std::array<std::array<std::optional<double>, kNumPrecisions>, kNumOpClasses> macs_per_s{};
  double bytes_per_s = 0;    // effective bandwidth of MAC-free ops
  double op_overhead_s = 0;  // fixed cost of dispatching one op

  std::optional<double>& rate(OpClass c, Precision p) {
    return macs_per_s[static_cast<int>(c)][static_cast<int>(p)];
  }
  const std::optional<double>& rate(OpClass c, Precision p) const {
    return macs_per_s[static_cast<int>(c)][static_cast<int>(p)];
  }
  // Whether any MAC class has a rate at this precision.
  bool HasPrecision(Precision p) const;
};

struct LatencyPrediction {
  double seconds = 0;
  std::vector<double> op_seconds;  // per op, in the order of the features
};

// Predicts the latency of `ops` on `model`. A MAC op whose class has no rate at its precision
// uses the dense-conv rate of that precision (the class prior); a precision the engine has no
// rate for at all is an error naming the precisions it has.
Expected<LatencyPrediction> PredictLatency(const EngineCostModel& model, const std::vector<OpFeatures>& ops);

// One model's ops with the median time of each op over several profiled runs.
struct ProfiledModel {
  std::string name;
  std::vector<OpFeatures> ops;
  std::vector<double> op_seconds;  // median per op
  double total_seconds = 0;        // median of the whole run's op-time sums
};

// Runs `model` `runs` times (after one warm-up) on the host with io::Session's per-op profiler
// and one thread; fills the median time of every op. The model's embedded self-test input is
// used when it has one (zeros otherwise: the kernels here do not branch on values).
Expected<ProfiledModel> ProfileOnHost(const io::LoadedModel& model, const std::string& name, int runs);

// Fits a cost model from measured per-op times: the per-op overhead is the 10th percentile of
// the times of the MAC-free ops, the bandwidth the 90th percentile of their bytes moved per
// second (overhead removed), and each
// (class, precision) rate is MACs over time of its ops (overhead removed). Error when there is
// nothing to fit.
Expected<EngineCostModel> FitFromProfiles(const std::string& target, const std::string& engine,
                                          const std::vector<ProfiledModel>& profiles);

}  // namespace outpost::advisor
