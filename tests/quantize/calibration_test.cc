// Calibrate(): what it records for every float activation, and the bad input it refuses.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/quantize/quant_test_util.h"

namespace outpost::quant {
namespace {

using testing::RandomData;
using testing::SmallConvNet;

std::string CalibrationError(const ir::Graph& g, const Dataset& d) {
  Expected<CalibrationResult> r = Calibrate(g, d);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.message();
}

TEST(Calibrate, RecordsRangesHistogramsAndChannelMeans) {
  const ir::Graph g = SmallConvNet();
  const Dataset d = RandomData(g, 120, 1, 0.5f, 1.0f);
  int64_t progress_calls = 0, last_total = 0;
  Expected<CalibrationResult> r =
      Calibrate(g, d, {}, [&](int64_t, int64_t total) {
        ++progress_calls;
        last_total = total;
      });
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->samples, 120);
  EXPECT_EQ(progress_calls, 240);  // two passes
  EXPECT_EQ(last_total, 240);
  for (const char* name : {"x", "conv.out", "pool.out", "flatten.out", "y"})
    EXPECT_TRUE(r->tensors.count(name)) << name;
  EXPECT_FALSE(r->tensors.count("conv.w"));  // constants are not activations

  // The input's statistics are those of the data itself.
  const TensorStats& x = r->tensors.at("x");
  float lo = INFINITY, hi = -INFINITY;
  double sum_c1 = 0;
  for (const auto& s : d.samples) {
    for (float v : s) lo = std::min(lo, v), hi = std::max(hi, v);
    for (size_t k = 36; k < 72; ++k) sum_c1 += s[k];
  }
  EXPECT_EQ(x.min, lo);
  EXPECT_EQ(x.max, hi);
  EXPECT_EQ(x.count, 120u * 72u);
  ASSERT_EQ(x.channel_mean.size(), 2u);
  EXPECT_NEAR(x.channel_mean[1], sum_c1 / (120.0 * 36.0), 1e-9);
  EXPECT_EQ(x.histogram.size(), 2048u);
  EXPECT_EQ(x.hist_limit, std::max(-lo, hi));
  uint64_t total = 0;
  for (uint64_t c : x.histogram) total += c;
  EXPECT_EQ(total, x.count);

  // The fused ReLU shows in the convolution's output.
  const TensorStats& c = r->tensors.at("conv.out");
  EXPECT_EQ(c.min, 0.0f);
  EXPECT_GT(c.max, 0.0f);
  EXPECT_GT(c.zeros, 0u);
  EXPECT_EQ(c.channel_mean.size(), 4u);
  // Max pooling and flattening cannot widen the range.
  EXPECT_LE(r->tensors.at("pool.out").max, c.max);
  EXPECT_EQ(r->tensors.at("flatten.out").max, r->tensors.at("pool.out").max);
  EXPECT_TRUE(r->warnings.empty()) << r->warnings.front();
}

TEST(Calibrate, WithoutHistogramsMakesOnePass) {
  const ir::Graph g = SmallConvNet();
  CalibrationOptions o;
  o.histograms = false;
  int64_t calls = 0;
  Expected<CalibrationResult> r =
      Calibrate(g, RandomData(g, 100, 2), o, [&](int64_t, int64_t) { ++calls; });
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(calls, 100);
  EXPECT_TRUE(r->tensors.at("conv.out").histogram.empty());
  EXPECT_GT(r->tensors.at("conv.out").max, 0.0f);
}

TEST(Calibrate, WarnsAboutFewSamplesAndDeadTensors) {
  testing::GraphBuilder b;
  const int x = b.Input("x", {1, 4});
  b.Output(b.Node(opm::OpCode::RELU, {x}, {1, 4}, {}, "relu"));
  Expected<CalibrationResult> r = Calibrate(b.g, RandomData(b.g, 10, 3, -5.0f, 0.1f));
  ASSERT_TRUE(r.ok()) << r.message();
  std::string all;
  for (const auto& w : r->warnings) all += w + "\n";
  EXPECT_NE(all.find("only 10 calibration samples"), std::string::npos) << all;
  EXPECT_NE(all.find("'relu.out' was 0 on every calibration sample"), std::string::npos) << all;
}

TEST(Calibrate, RefusesEmptyData) {
  const ir::Graph g = SmallConvNet();
  Dataset d;
  d.sample_shape = {1, 2, 6, 6};
  EXPECT_NE(CalibrationError(g, d).find("empty"), std::string::npos);
}

TEST(Calibrate, RefusesDataOfTheWrongShape) {
  const ir::Graph g = SmallConvNet();
  Dataset d = RandomData(g, 5, 4);
  d.sample_shape = {1, 2, 36};
  const std::string e = CalibrationError(g, d);
  EXPECT_NE(e.find("[1,2,36]"), std::string::npos) << e;
  EXPECT_NE(e.find("'x' takes [1,2,6,6]"), std::string::npos) << e;

  Dataset short_sample = RandomData(g, 5, 4);
  short_sample.samples[3].resize(70);
  const std::string e2 = CalibrationError(g, short_sample);
  EXPECT_NE(e2.find("sample 3 has 70 values"), std::string::npos) << e2;
}

TEST(Calibrate, RefusesNanOrInfInTheData) {
  const ir::Graph g = SmallConvNet();
  Dataset d = RandomData(g, 5, 5);
  d.samples[2][17] = NAN;
  EXPECT_NE(CalibrationError(g, d).find("sample 2 holds NaN (value 17"), std::string::npos);
  d.samples[2][17] = 0;
  d.samples[4][0] = -INFINITY;
  EXPECT_NE(CalibrationError(g, d).find("sample 4 holds Inf"), std::string::npos);
}

TEST(Calibrate, RefusesNanInAWeightNamingIt) {
  ir::Graph g = SmallConvNet();
  const int w = testing::FindTensor(g, "fc.w");
  g.tensors[w].mutable_values<float>()[7] = NAN;
  const std::string e = CalibrationError(g, RandomData(g, 5, 6));
  EXPECT_NE(e.find("weight tensor 'fc.w' holds NaN (element 7"), std::string::npos) << e;
}

TEST(Calibrate, RefusesModelsWithSeveralInputs) {
  testing::GraphBuilder b;
  const int a = b.Input("a", {1, 4});
  const int c = b.Input("b", {1, 4});
  b.Output(b.Node(opm::OpCode::ADD, {a, c}, {1, 4}, testing::BinaryOpts(), "add"));
  Dataset d;
  d.sample_shape = {1, 4};
  d.samples.push_back(std::vector<float>(4, 0.0f));
  EXPECT_NE(CalibrationError(b.g, d).find("one input"), std::string::npos);
}

TEST(Calibrate, RefusesBadHistogramSizes) {
  const ir::Graph g = SmallConvNet();
  CalibrationOptions o;
  o.histogram_bins = 63;
  EXPECT_FALSE(Calibrate(g, RandomData(g, 5, 7), o).ok());
}

}  // namespace
}  // namespace outpost::quant
