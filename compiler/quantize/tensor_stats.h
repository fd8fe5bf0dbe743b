// Accumulating TensorStats value by value: the first calibration pass records range, count,
// zeros and non-finite values; the second, once every tensor's range is known, the histogram.
#pragma once

#include <cmath>
#include <cstdint>

#include "compiler/quantize/quantizer.h"

namespace outpost::quant {

// Pass 1 over `n` values. Non-finite values only set has_nan_or_inf.
inline void AccumulateRange(TensorStats& s, const float* v, int64_t n) {
  float lo = s.count ? s.min : INFINITY;
  float hi = s.count ? s.max : -INFINITY;
  uint64_t finite = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float x = v[i];
    if (!std::isfinite(x)) {
      s.has_nan_or_inf = true;
      continue;
    }
    ++finite;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    if (x == 0.0f) ++s.zeros;
  }
  if (finite == 0) return;
  s.min = lo;
  s.max = hi;
  s.count += finite;
}

// Starts the histogram over [-max|x|, max|x|] with `bins` (even) bins.
inline void BeginHistogram(TensorStats& s, int bins) {
  s.hist_limit = std::fmax(std::fabs(s.min), std::fabs(s.max));
  s.histogram.assign(static_cast<size_t>(bins), 0);
}

// Bin of `x`: bins/2 + floor(x / width) for x >= 0 (so 0 lands at bins/2 exactly) and its
// mirror image below; values beyond the limit land in the end bins.
inline int HistogramBin(float x, float limit, int bins) {
  const int half = bins / 2;
  if (!(limit > 0)) return half;
  const double per = static_cast<double>(half) / static_cast<double>(limit);
  if (x >= 0) {
    const double k = std::floor(static_cast<double>(x) * per);
    return half + static_cast<int>(k >= half ? half - 1 : k);
  }
  const double k = std::floor(-static_cast<double>(x) * per);
  return half - 1 - static_cast<int>(k >= half ? half - 1 : k);
}

// Pass 2 over `n` values (non-finite ones skipped).
inline void AccumulateHistogram(TensorStats& s, const float* v, int64_t n) {
  const int bins = static_cast<int>(s.histogram.size());
  for (int64_t i = 0; i < n; ++i)
    if (std::isfinite(v[i])) ++s.histogram[HistogramBin(v[i], s.hist_limit, bins)];
}

}  // namespace outpost::quant
