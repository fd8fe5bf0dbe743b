#include "pipeline/postprocess/anomaly_stage.h"

#include <cmath>
#include <limits>
#include <string>

namespace outpost::pipeline {

double ReconstructionError(std::span<const float> in, std::span<const float> out,
                           ReconstructionMetric metric) {
  // Summed in double: a 224x224x3 input has 150k terms, too many for a float sum.
  double sum = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const double d = static_cast<double>(in[i]) - static_cast<double>(out[i]);
    sum += metric == ReconstructionMetric::kMse ? d * d : std::fabs(d);
  }
  return in.empty() ? 0.0 : sum / static_cast<double>(in.size());
}

Expected<AnomalyStage> AnomalyStage::Create(const AnomalyOptions& o) {
  if (o.warmup_frames < 0) return Error("anomaly: warmup_frames must be >= 0");
  if (o.warmup_frames == 0 && !(o.threshold >= 0))
    return Error("anomaly: give a threshold >= 0, or warmup_frames for a learnt baseline");
  if (o.warmup_frames > 0 && !(o.sigmas >= 0)) return Error("anomaly: sigmas must be >= 0");
  AnomalyStage s;
  s.options_ = o;
  return s;
}

double AnomalyStage::baseline_std() const {
  return count_ > 0 ? std::sqrt(m2_ / static_cast<double>(count_)) : 0.0;
}

Expected<AnomalyScore> AnomalyStage::Run(std::span<const float> input,
                                         std::span<const float> output) {
  if (input.empty() || input.size() != output.size())
    return Error("anomaly: input has " + std::to_string(input.size()) +
                 " values and reconstruction " + std::to_string(output.size()));
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  const double error = ReconstructionError(input, output, options_.metric);
  AnomalyScore r;
  r.error = static_cast<float>(error);
  if (options_.warmup_frames == 0) {
    r.threshold = options_.threshold;
    r.anomalous = !(error <= options_.threshold);  // NaN counts as anomalous
    return r;
  }
  if (count_ < options_.warmup_frames) {
    r.warming_up = true;
    r.threshold = kNaN;
    r.z_score = kNaN;
    if (std::isfinite(error)) {
      ++count_;
      const double delta = error - mean_;
      mean_ += delta / static_cast<double>(count_);
      m2_ += delta * (error - mean_);
    }
    return r;
  }
  const double sd = baseline_std();
  r.threshold = static_cast<float>(mean_ + options_.sigmas * sd);
  r.z_score = sd > 0 ? static_cast<float>((error - mean_) / sd) : kNaN;
  r.anomalous = !(error <= mean_ + options_.sigmas * sd);
  return r;
}

}  // namespace outpost::pipeline
