// Range selection on calibration histograms (see ranges.h for the methods).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "compiler/quantize/ranges.h"
#include "compiler/quantize/tensor_stats.h"

namespace outpost::quant {
namespace {

// The histogram of |x|: bin i covers [i * w, (i + 1) * w) with w = hist_limit / (bins / 2).
std::vector<double> Folded(const TensorStats& s) {
  const size_t half = s.histogram.size() / 2;
  std::vector<double> f(half);
  for (size_t i = 0; i < half; ++i)
    f[i] = static_cast<double>(s.histogram[half + i]) +
           static_cast<double>(s.histogram[half - 1 - i]);
  return f;
}

double BinWidth(const TensorStats& s) {
  return static_cast<double>(s.hist_limit) / static_cast<double>(s.histogram.size() / 2);
}

FloatRange ClipAt(const TensorStats& s, double t) {
  const float tf = static_cast<float>(t);
  return {std::max(s.min, -tf), std::min(s.max, tf)};
}

double PercentileThreshold(const TensorStats& s, double percentile) {
  const std::vector<double> f = Folded(s);
  double total = 0;
  for (double c : f) total += c;
  const double target = percentile / 100.0 * total;
  const double w = BinWidth(s);
  double cum = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] > 0 && cum + f[i] >= target) {
      // Interpolate inside the bin, taking its values as evenly spread.
      const double frac = std::clamp((target - cum) / f[i], 0.0, 1.0);
      return (static_cast<double>(i) + frac) * w;
    }
    cum += f[i];
  }
  return s.hist_limit;
}

// Moves a little mass onto the empty bins so that KL divergence stays finite (ONNX Runtime's
// smooth_distribution). Returns false when that would empty a bin.
bool Smooth(std::vector<double>& p, double eps = 1e-4) {
  size_t zeros = 0;
  for (double v : p) zeros += v == 0;
  const size_t nonzeros = p.size() - zeros;
  if (nonzeros == 0) return false;
  const double take = eps * static_cast<double>(zeros) / static_cast<double>(nonzeros);
  for (double& v : p) {
    if (v == 0) {
      v = eps;
    } else {
      v -= take;
      if (v <= 0) return false;
    }
  }
  return true;
}

double KlDivergence(const std::vector<double>& p, const std::vector<double>& q) {
  double sp = 0, sq = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    sp += p[i];
    sq += q[i];
  }
  double kl = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] <= 0) continue;
    const double pi = p[i] / sp;
    const double qi = q[i] / sq;
    kl += pi * std::log(pi / qi);
  }
  return kl;
}

// TensorRT's entropy calibration on the |x| histogram, as NVIDIA's pytorch-quantization does it:
// for each threshold of i bins (from 128 up), P is the clipped histogram with the clipped mass
// added to its last bin, Q the first i bins merged into `levels` groups and spread back evenly
// over each group's non-empty bins; the threshold minimizing KL(P || Q) wins (the widest on a
// tie). Exact zeros are taken out first: any range represents them exactly, and a ReLU output's
// spike of zeros would otherwise dominate both distributions.
double EntropyThreshold(const TensorStats& s) {
  std::vector<double> f = Folded(s);
  const size_t n = f.size();
  f[0] = std::max(0.0, f[0] - static_cast<double>(s.zeros));
  const bool one_signed = s.min >= 0 || s.max <= 0;
  const size_t levels = one_signed ? 256 : 128;
  constexpr size_t kStartBin = 128;
  if (n <= kStartBin) return s.hist_limit;
  std::vector<double> suffix(n + 1, 0);
  for (size_t i = n; i-- > 0;) suffix[i] = suffix[i + 1] + f[i];
  if (suffix[0] == 0) return s.hist_limit;

  double best_kl = std::numeric_limits<double>::infinity();
  size_t best_i = n;
  std::vector<double> p, q;
  for (size_t i = kStartBin; i <= n; ++i) {
    p.assign(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(i));
    p[i - 1] += suffix[i];
    q.assign(i, 0.0);
    for (size_t j = 0; j < levels; ++j) {
      const size_t begin = j * i / levels;
      const size_t end = (j + 1) * i / levels;
      double sum = 0;
      size_t nonempty = 0;
      for (size_t k = begin; k < end; ++k) {
        sum += f[k];
        nonempty += f[k] != 0;
      }
      if (nonempty == 0) continue;
      for (size_t k = begin; k < end; ++k)
        if (f[k] != 0) q[k] = sum / static_cast<double>(nonempty);
    }
    if (!Smooth(p) || !Smooth(q)) continue;
    const double kl = KlDivergence(p, q);
    if (kl <= best_kl) {
      best_kl = kl;
      best_i = i;
    }
  }
  return static_cast<double>(best_i) * BinWidth(s);
}

double MseThreshold(const TensorStats& s) {
  const size_t n = s.histogram.size() / 2;
  const double w = BinWidth(s);
  double best = std::numeric_limits<double>::infinity();
  double best_t = s.hist_limit;
  // From the widest range down, so that ties keep the wider range.
  for (size_t i = n; i >= 1; --i) {
    const double t = static_cast<double>(i) * w;
    const double err = ExpectedSquaredError(s, ChooseInt8Params(ClipAt(s, t)));
    if (err < best) {
      best = err;
      best_t = t;
    }
  }
  return best_t;
}

}  // namespace

Int8Params ChooseInt8Params(FloatRange range) {
  const double lo = std::min(0.0, static_cast<double>(range.min));
  const double hi = std::max(0.0, static_cast<double>(range.max));
  Int8Params p;
  if (!(hi > lo)) return p;
  const float scale = static_cast<float>((hi - lo) / 255.0);
  if (!(scale > 0) || !std::isfinite(scale)) return p;
  p.scale = scale;
  const double zp = std::round(-128.0 - lo / static_cast<double>(scale));
  p.zero_point = static_cast<int64_t>(std::clamp(zp, -128.0, 127.0));
  return p;
}

double ExpectedSquaredError(const TensorStats& s, const Int8Params& params) {
  if (s.count == 0 || s.histogram.empty() || !(s.hist_limit > 0)) return 0;
  const size_t bins = s.histogram.size();
  const size_t half = bins / 2;
  const double w = BinWidth(s);
  const double lo = params.min();
  const double hi = params.max();
  const double rounding = static_cast<double>(params.scale) * params.scale / 12.0;
  double err = 0;
  for (size_t b = 0; b < bins; ++b) {
    double c = static_cast<double>(s.histogram[b]);
    if (b == half) c -= static_cast<double>(s.zeros);  // exact zeros: no error
    if (c <= 0) continue;
    const double x = b >= half ? (static_cast<double>(b - half) + 0.5) * w
                               : -(static_cast<double>(half - 1 - b) + 0.5) * w;
    if (x < lo) {
      err += c * (x - lo) * (x - lo);
    } else if (x > hi) {
      err += c * (x - hi) * (x - hi);
    } else {
      err += c * rounding;
    }
  }
  return err / static_cast<double>(s.count);
}

FloatRange SelectRange(const TensorStats& s, CalibrationMethod method, double percentile) {
  if (method == CalibrationMethod::kPercentile && !(percentile > 0 && percentile <= 100))
    throw Error("percentile must be in (0, 100], got " + std::to_string(percentile));
  if (s.count == 0) return {0, 0};
  if (method == CalibrationMethod::kMinMax) return {s.min, s.max};
  if (s.histogram.size() < 4 || s.histogram.size() % 2 != 0)
    throw Error(std::string("the ") + CalibrationMethodName(method) +
                " method needs a histogram, and calibration recorded none");
  if (!(s.hist_limit > 0)) return {s.min, s.max};
  switch (method) {
    case CalibrationMethod::kPercentile: return ClipAt(s, PercentileThreshold(s, percentile));
    case CalibrationMethod::kEntropy: return ClipAt(s, EntropyThreshold(s));
    case CalibrationMethod::kMse: return ClipAt(s, MseThreshold(s));
    case CalibrationMethod::kMinMax: break;
  }
  return {s.min, s.max};
}

TensorStats StatsFromValues(std::span<const float> values, int bins) {
  TensorStats s;
  AccumulateRange(s, values.data(), static_cast<int64_t>(values.size()));
  BeginHistogram(s, bins);
  AccumulateHistogram(s, values.data(), static_cast<int64_t>(values.size()));
  return s;
}

}  // namespace outpost::quant
