// Weight-only modes (fp16 and int8 storage, activations float) and bias correction.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/quantize/quant_test_util.h"

namespace outpost::quant {
namespace {

using opm::DType;
using opm::OpCode;
using testing::FindNode;
using testing::FindTensor;
using testing::RandomData;
using testing::SmallConvNet;

int Count(const ir::Graph& g, OpCode op) {
  int n = 0;
  for (const ir::Node& node : g.nodes) n += node.op == op;
  return n;
}

TEST(WeightOnly, Fp16StoresHalvesAndComputesInFloat) {
  const ir::Graph f = SmallConvNet();
  QuantizeOptions o;
  o.weight_only = WeightOnly::kFloat16;
  QuantizeReport report;
  Expected<ir::Graph> q = QuantizeGraph(f, {}, o, &report);  // no calibration needed
  ASSERT_TRUE(q.ok()) << q.message();
  EXPECT_EQ(Count(*q, OpCode::DEQUANTIZE), 2);
  EXPECT_EQ(Count(*q, OpCode::QUANTIZE), 0);
  for (const char* name : {"conv.w_fp16", "fc.w_fp16"})
    EXPECT_EQ(q->tensors[FindTensor(*q, name)].dtype, DType::FLOAT16) << name;
  for (const ir::Tensor& t : q->tensors) {
    if (!t.constant) {
      EXPECT_EQ(t.dtype, DType::FLOAT32) << t.name;
    }
  }
  // Each weight is dequantized right before the node reading it.
  const ir::Node* conv = FindNode(*q, "conv");
  EXPECT_EQ(q->tensors[conv->inputs[1]].name, "conv.w_dequantized");
  EXPECT_EQ(q->nodes[0].op, OpCode::DEQUANTIZE);
  EXPECT_EQ(q->nodes[1].name, "conv");
  EXPECT_TRUE(report.layers[0].quantized);
  EXPECT_EQ(report.layers[0].detail, "weights fp16");
  EXPECT_EQ(report.layers[1].why_float, "no weights");
  // Weights halve (biases stay float32).
  const uint64_t weights = (72 + 180) * 4, biases = (4 + 5) * 4;
  EXPECT_EQ(report.float_weight_bytes, weights + biases);
  EXPECT_EQ(report.weight_bytes, weights / 2 + biases);

  const std::vector<float> sample = RandomData(f, 1, 3).samples[0];
  const std::vector<float> a = testing::RunFloat(f, sample), b = testing::RunFloat(*q, sample);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 2e-3 + 2e-3 * std::fabs(a[i]));
}

TEST(WeightOnly, Int8StoresPerChannelWeights) {
  const ir::Graph f = SmallConvNet();
  QuantizeOptions o;
  o.weight_only = WeightOnly::kInt8;
  QuantizeReport report;
  Expected<ir::Graph> q = QuantizeGraph(f, {}, o, &report);
  ASSERT_TRUE(q.ok()) << q.message();
  const ir::Tensor& w = q->tensors[FindTensor(*q, "fc.w_int8")];
  EXPECT_EQ(w.dtype, DType::INT8);
  EXPECT_EQ(w.quant.axis, 0);
  EXPECT_EQ(w.quant.scale.size(), 5u);
  EXPECT_EQ(report.layers[3].detail, "weights int8 per-channel");
  const std::vector<float> sample = RandomData(f, 1, 4).samples[0];
  const std::vector<float> a = testing::RunFloat(f, sample), b = testing::RunFloat(*q, sample);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 0.03 + 0.02 * std::fabs(a[i]));

  o.per_channel = false;
  Expected<ir::Graph> pt = QuantizeGraph(f, {}, o);
  ASSERT_TRUE(pt.ok()) << pt.message();
  EXPECT_EQ(pt->tensors[FindTensor(*pt, "fc.w_int8")].quant.axis, -1);
}

TEST(WeightOnly, KeepFloatNodesKeepTheirWeights) {
  const ir::Graph f = SmallConvNet();
  QuantizeOptions o;
  o.weight_only = WeightOnly::kFloat16;
  o.float_nodes = {"fc"};
  Expected<ir::Graph> q = QuantizeGraph(f, {}, o);
  ASSERT_TRUE(q.ok()) << q.message();
  EXPECT_EQ(q->tensors[FindTensor(*q, "fc.w")].dtype, DType::FLOAT32);
  EXPECT_TRUE(q->tensors[FindTensor(*q, "fc.w")].constant);
  EXPECT_EQ(Count(*q, OpCode::DEQUANTIZE), 1);
}

TEST(WeightOnly, NothingToQuantizeWithoutWeights) {
  testing::GraphBuilder b;
  const int x = b.Input("x", {1, 4});
  b.Output(b.Node(OpCode::RELU, {x}, {1, 4}, {}, "relu"));
  for (WeightOnly m : {WeightOnly::kFloat16, WeightOnly::kInt8}) {
    QuantizeOptions o;
    o.weight_only = m;
    Expected<ir::Graph> q = QuantizeGraph(b.g, {}, o);
    ASSERT_FALSE(q.ok());
    EXPECT_NE(q.message().find("nothing to quantize: the model has no"), std::string::npos)
        << q.message();
  }
}

TEST(WeightOnly, RefusesNanWeights) {
  ir::Graph f = SmallConvNet();
  f.tensors[FindTensor(f, "conv.w")].mutable_values<float>()[5] = NAN;
  QuantizeOptions o;
  o.weight_only = WeightOnly::kFloat16;
  Expected<ir::Graph> q = QuantizeGraph(f, {}, o);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.message().find("'conv.w' holds NaN (element 5"), std::string::npos) << q.message();
}

// A fully connected layer whose inputs have a large mean (about 3) and whose small weights are
// all rounded the same way by per-tensor quantization: the int8 output is biased by about
// sum(W' - W) * 3 per channel, which bias correction removes.
struct BiasedLayer {
  ir::Graph graph;
  Dataset data;
  BiasedLayer() {
    testing::GraphBuilder b;
    const int x = b.Input("x", {1, 16});
    std::vector<float> w(4 * 16);
    for (int k = 0; k < 16; ++k) {
      w[k] = k % 2 ? 1.0f : -1.0f;          // channel 0 sets the per-tensor scale: 1/127
      w[16 + k] = 0.0061f;                  // 0.77 steps -> 1 step: +0.0018 each
      w[32 + k] = -0.0061f;
      w[48 + k] = 0.0105f;                  // 1.33 steps -> 1 step: -0.0026 each
    }
    const int wt = b.Const("w", {4, 16}, w);
    const int bt = b.Const("b", {4}, {0.0f, 0.0f, 0.0f, 0.0f});
    b.Output(b.Node(OpCode::FULLY_CONNECTED, {x, wt, bt}, {1, 4}, testing::FcOpts(), "fc"));
    graph = b.g;
    data = RandomData(graph, 200, 21, 3.0f, 0.3f);
  }
};

// Mean over the data of (int8 output - float output), per output channel.
std::vector<double> MeanError(const ir::Graph& f, const ir::Graph& q, const Dataset& d) {
  std::vector<double> e(4, 0.0);
  for (const auto& s : d.samples) {
    const std::vector<float> a = testing::RunFloat(f, s), b = testing::RunFloat(q, s);
    for (size_t c = 0; c < 4; ++c) e[c] += (b[c] - a[c]) / static_cast<double>(d.samples.size());
  }
  return e;
}

TEST(BiasCorrection, RemovesTheMeanErrorOfQuantizedWeights) {
  BiasedLayer l;
  const CalibrationResult s = Calibrate(l.graph, l.data).value();
  QuantizeOptions o;
  o.per_channel = false;
  const ir::Graph plain = QuantizeGraph(l.graph, s, o).value();
  o.bias_correction = true;
  QuantizeReport report;
  const ir::Graph corrected = QuantizeGraph(l.graph, s, o, &report).value();
  EXPECT_EQ(report.layers[0].detail, "weights per-tensor, bias corrected");
  const Dataset test = RandomData(l.graph, 60, 22, 3.0f, 0.3f);
  const std::vector<double> before = MeanError(l.graph, plain, test);
  const std::vector<double> after = MeanError(l.graph, corrected, test);
  for (size_t c = 1; c < 4; ++c) {
    EXPECT_GT(std::fabs(before[c]), 0.05) << c;  // the systematic error is there...
    EXPECT_LT(std::fabs(after[c]), 0.3 * std::fabs(before[c])) << c;  // ...and mostly gone
  }
}

TEST(BiasCorrection, WorksForWeightOnlyInt8AndAddsAMissingBias) {
  BiasedLayer l;
  // Drop the bias: correction must create one.
  l.graph.nodes[0].inputs.resize(2);
  l.graph.RemoveUnusedTensors();
  const CalibrationResult s = Calibrate(l.graph, l.data).value();
  QuantizeOptions o;
  o.per_channel = false;
  o.weight_only = WeightOnly::kInt8;
  const ir::Graph plain = QuantizeGraph(l.graph, s, o).value();
  o.bias_correction = true;
  const ir::Graph corrected = QuantizeGraph(l.graph, s, o).value();
  EXPECT_GE(FindTensor(corrected, "w_bias_corrected"), 0);
  const Dataset test = RandomData(l.graph, 60, 23, 3.0f, 0.3f);
  const std::vector<double> before = MeanError(l.graph, plain, test);
  const std::vector<double> after = MeanError(l.graph, corrected, test);
  for (size_t c = 1; c < 4; ++c) EXPECT_LT(std::fabs(after[c]), 0.2 * std::fabs(before[c])) << c;
}

TEST(BiasCorrection, WithoutChannelMeansItWarnsAndSkips) {
  BiasedLayer l;
  CalibrationResult s = Calibrate(l.graph, l.data).value();
  s.tensors.at("x").channel_mean.clear();
  QuantizeOptions o;
  o.bias_correction = true;
  QuantizeReport report;
  ASSERT_TRUE(QuantizeGraph(l.graph, s, o, &report).ok());
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_NE(report.warnings[0].find("bias correction skipped for node 'fc'"), std::string::npos);
  EXPECT_EQ(report.layers[0].detail, "weights per-channel");
}

}  // namespace
}  // namespace outpost::quant
