// Range selection on synthetic distributions with known answers: minmax keeps everything,
// percentile drops outliers, entropy and MSE clip heavy tails (and not light ones), and the
// int8 parameters represent 0 exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compiler/quantize/ranges.h"
#include "compiler/quantize/tensor_stats.h"

namespace outpost::quant {
namespace {

std::vector<float> Normal(int n, uint32_t seed, float mean = 0, float sd = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(mean, sd);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(rng);
  return v;
}

// Laplace(0, 1): a heavy tail, max |x| around ln(n).
std::vector<float> Laplace(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::exponential_distribution<float> e(1.0f);
  std::bernoulli_distribution sign(0.5);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = sign(rng) ? e(rng) : -e(rng);
  return v;
}

std::vector<float> Uniform(int n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(rng);
  return v;
}

double Mse(const TensorStats& s, FloatRange r) { return ExpectedSquaredError(s, ChooseInt8Params(r)); }

TEST(Int8Params, ZeroIsExactlyRepresentable) {
  const Int8Params p = ChooseInt8Params({-1.0f, 3.0f});
  EXPECT_FLOAT_EQ(p.scale, 4.0f / 255.0f);
  EXPECT_EQ(p.zero_point, -64);  // round(-128 + 1 / (4/255)) = round(-64.25)
  EXPECT_NEAR(p.min(), -1.0f, p.scale);
  EXPECT_NEAR(p.max(), 3.0f, p.scale);
}

TEST(Int8Params, RangeIsWidenedToContainZero) {
  const Int8Params pos = ChooseInt8Params({0.5f, 2.0f});
  EXPECT_EQ(pos.zero_point, -128);
  EXPECT_FLOAT_EQ(pos.scale, 2.0f / 255.0f);
  const Int8Params neg = ChooseInt8Params({-2.0f, -1.0f});
  EXPECT_EQ(neg.zero_point, 127);
  EXPECT_FLOAT_EQ(neg.scale, 2.0f / 255.0f);
}

TEST(Int8Params, EmptyRangeGetsUnitScale) {
  const Int8Params p = ChooseInt8Params({0.0f, 0.0f});
  EXPECT_EQ(p.scale, 1.0f);
  EXPECT_EQ(p.zero_point, 0);
}

TEST(Histogram, ZeroLandsInTheMiddleBinAndValuesMirror) {
  EXPECT_EQ(HistogramBin(0.0f, 1.0f, 16), 8);
  EXPECT_EQ(HistogramBin(1.0f, 1.0f, 16), 15);
  EXPECT_EQ(HistogramBin(-1.0f, 1.0f, 16), 0);
  EXPECT_EQ(HistogramBin(0.3f, 1.0f, 16), 8 + 2);
  EXPECT_EQ(HistogramBin(-0.3f, 1.0f, 16), 8 - 1 - 2);
  EXPECT_EQ(HistogramBin(5.0f, 1.0f, 16), 15);  // beyond the limit: end bin
  EXPECT_EQ(HistogramBin(0.7f, 0.0f, 16), 8);   // no range: everything in the middle
}

TEST(Histogram, StatsCountEveryFiniteValue) {
  const std::vector<float> v = {0.0f, 0.0f, 1.5f, -2.0f, NAN, INFINITY, 3.0f};
  const TensorStats s = StatsFromValues(v, 64);
  EXPECT_EQ(s.count, 5u);
  EXPECT_EQ(s.zeros, 2u);
  EXPECT_TRUE(s.has_nan_or_inf);
  EXPECT_EQ(s.min, -2.0f);
  EXPECT_EQ(s.max, 3.0f);
  EXPECT_EQ(s.hist_limit, 3.0f);
  uint64_t total = 0;
  for (uint64_t c : s.histogram) total += c;
  EXPECT_EQ(total, 5u);
  EXPECT_EQ(s.histogram[32], 2u);  // the zeros
}

TEST(Ranges, MinMaxKeepsEverything) {
  std::vector<float> v = Normal(10000, 1);
  v.push_back(40.0f);
  const TensorStats s = StatsFromValues(v);
  const FloatRange r = SelectRange(s, CalibrationMethod::kMinMax, 0);
  EXPECT_EQ(r.max, 40.0f);
  EXPECT_EQ(r.min, s.min);
}

TEST(Ranges, PercentileClipsOutliers) {
  std::vector<float> v = Normal(100000, 2);
  for (int i = 0; i < 10; ++i) v.push_back(i % 2 ? 50.0f : -50.0f);
  const TensorStats s = StatsFromValues(v);
  const FloatRange r = SelectRange(s, CalibrationMethod::kPercentile, 99.9);
  // |x| of a standard normal has its 99.9th percentile at 3.29.
  EXPECT_NEAR(r.max, 3.29f, 0.15f);
  EXPECT_NEAR(r.min, -3.29f, 0.15f);
  const FloatRange all = SelectRange(s, CalibrationMethod::kPercentile, 100.0);
  EXPECT_EQ(all.max, 50.0f);
}

TEST(Ranges, PercentileOfAOneSignedTensorStartsAtZero) {
  std::vector<float> v = Uniform(50000, 3, 0.0f, 10.0f);
  const TensorStats s = StatsFromValues(v);
  const FloatRange r = SelectRange(s, CalibrationMethod::kPercentile, 90.0);
  EXPECT_GE(r.min, 0.0f);
  EXPECT_NEAR(r.max, 9.0f, 0.1f);
}

TEST(Ranges, EntropyAndMseClipAHeavyTail) {
  const TensorStats s = StatsFromValues(Laplace(200000, 4));
  const FloatRange mm = SelectRange(s, CalibrationMethod::kMinMax, 0);
  const FloatRange kl = SelectRange(s, CalibrationMethod::kEntropy, 0);
  const FloatRange mse = SelectRange(s, CalibrationMethod::kMse, 0);
  const float max_abs = std::max(-mm.min, mm.max);
  EXPECT_GT(max_abs, 9.0f);  // ln(200000) ~ 12
  EXPECT_LT(kl.max, 0.8f * max_abs);
  EXPECT_LT(mse.max, 0.8f * max_abs);
  // ... but keep the bulk of the distribution (P(|x| > 4) = 1.8%).
  EXPECT_GT(kl.max, 4.0f);
  EXPECT_GT(mse.max, 4.0f);
  // MSE minimizes exactly the error we measure; both beat minmax on it.
  EXPECT_LT(Mse(s, mse), Mse(s, mm));
  EXPECT_LT(Mse(s, kl), Mse(s, mm));
  EXPECT_LE(Mse(s, mse), Mse(s, kl) * 1.0001);
}

TEST(Ranges, EntropyAndMseKeepALightTail) {
  // Uniform values: clipping only adds error, so both methods keep (almost) the full range.
  const TensorStats s = StatsFromValues(Uniform(100000, 5, -3.0f, 3.0f));
  const FloatRange kl = SelectRange(s, CalibrationMethod::kEntropy, 0);
  const FloatRange mse = SelectRange(s, CalibrationMethod::kMse, 0);
  EXPECT_GT(kl.max, 2.7f);
  EXPECT_GT(mse.max, 2.85f);
  EXPECT_LT(kl.min, -2.7f);
  EXPECT_LT(mse.min, -2.85f);
}

TEST(Ranges, MseIgnoresExactZerosOfAReluTensor) {
  // Half exact zeros (a ReLU output) and a half-normal: zeros cost nothing whatever the range,
  // so the choice must match that of the same data without them.
  std::vector<float> v;
  for (float x : Normal(40000, 6)) v.push_back(std::fabs(x));
  const FloatRange without = SelectRange(StatsFromValues(v), CalibrationMethod::kMse, 0);
  v.resize(80000, 0.0f);
  const TensorStats s = StatsFromValues(v);
  const FloatRange with = SelectRange(s, CalibrationMethod::kMse, 0);
  EXPECT_EQ(with.min, 0.0f);
  EXPECT_NEAR(with.max, without.max, 0.02f * without.max);
}

TEST(Ranges, OneSignedTensorsKeepTheirZeroEnd) {
  std::vector<float> v;
  for (float x : Laplace(100000, 7)) v.push_back(std::max(x, 0.0f));
  const TensorStats s = StatsFromValues(v);
  for (CalibrationMethod m : {CalibrationMethod::kPercentile, CalibrationMethod::kEntropy,
                              CalibrationMethod::kMse}) {
    const FloatRange r = SelectRange(s, m, 99.9);
    EXPECT_EQ(r.min, 0.0f) << CalibrationMethodName(m);
    EXPECT_GT(r.max, 2.0f) << CalibrationMethodName(m);
    EXPECT_LE(r.max, s.max) << CalibrationMethodName(m);
  }
}

TEST(Ranges, RefusesWhatItCannotDo) {
  TensorStats no_histogram;
  AccumulateRange(no_histogram, std::vector<float>{1.0f, -1.0f}.data(), 2);
  EXPECT_NO_THROW(SelectRange(no_histogram, CalibrationMethod::kMinMax, 0));
  for (CalibrationMethod m : {CalibrationMethod::kPercentile, CalibrationMethod::kEntropy,
                              CalibrationMethod::kMse}) {
    try {
      SelectRange(no_histogram, m, 99.0);
      ADD_FAILURE() << CalibrationMethodName(m) << " worked without a histogram";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("histogram"), std::string::npos) << e.what();
    }
  }
  const TensorStats s = StatsFromValues(Normal(100, 8));
  EXPECT_THROW(SelectRange(s, CalibrationMethod::kPercentile, 0.0), Error);
  EXPECT_THROW(SelectRange(s, CalibrationMethod::kPercentile, 100.5), Error);
}

TEST(Ranges, ExpectedErrorGrowsWithClipping) {
  const TensorStats s = StatsFromValues(Normal(50000, 9));
  // Clipping a normal at 1 sigma is far worse than at 4 sigma.
  EXPECT_GT(Mse(s, {-1.0f, 1.0f}), 10 * Mse(s, {-4.0f, 4.0f}));
  // A constant tensor loses nothing.
  const std::vector<float> zeros(100, 0.0f);
  EXPECT_EQ(ExpectedSquaredError(StatsFromValues(zeros), ChooseInt8Params({0, 0})), 0.0);
}

}  // namespace
}  // namespace outpost::quant
