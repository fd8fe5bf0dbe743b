// Cross-layer equalization: same function, equal per-channel ranges across each pair, the pairs
// it must refuse, and less per-tensor int8 weight error on a badly balanced model.
#include <gtest/gtest.h>

#include "compiler/emit/graph_runner.h"
#include "compiler/quantize/cross_layer_equalization.h"
#include "compiler/quantize/layer_sqnr.h"
#include "tests/quantize/gate_test_util.h"

namespace outpost::testing {
namespace {

using opm::Activation;
using opm::OpCode;

std::vector<float> RunFloat(const ir::Graph& g, const std::vector<float>& x) {
  return Floats(emit::RunGraph(g, {Bytes(x)})[0]);
}

// Runs both graphs on a few random inputs; returns the worst relative error.
double WorstError(const ir::Graph& a, const ir::Graph& b, size_t input_size, float amplitude = 1) {
  double worst = 0;
  for (uint32_t seed = 100; seed < 104; ++seed) {
    const std::vector<float> x = RandomFloats(input_size, seed, -amplitude, amplitude);
    worst = std::max(worst, RelativeError(RunFloat(b, x), RunFloat(a, x)));
  }
  return worst;
}

// Per-channel ranges of the second layer's weights, for input channel c (conv [O, C/g, kh, kw]).
std::vector<double> InputRanges(const ir::Graph& g, const std::string& node, int64_t channels) {
  const ir::Node* n = FindNode(g, node);
  const ir::Tensor& w = g.tensors[n->inputs[1]];
  const auto v = w.values<float>();
  std::vector<double> r(channels, 0);
  if (n->op == OpCode::FULLY_CONNECTED) {
    const int64_t inner = w.shape[1] / channels;
    for (int64_t o = 0; o < w.shape[0]; ++o)
      for (int64_t k = 0; k < w.shape[1]; ++k)
        r[k / inner] = std::max(r[k / inner], std::fabs(double(v[o * w.shape[1] + k])));
    return r;
  }
  const int groups = n->options.AsConv2DOptions()->groups;
  const int64_t cg = w.shape[1], taps = w.shape[2] * w.shape[3], og = w.shape[0] / groups;
  for (int64_t o = 0; o < w.shape[0]; ++o)
    for (int64_t l = 0; l < cg; ++l)
      for (int64_t k = 0; k < taps; ++k) {
        const int64_t c = (o / og) * cg + l;
        r[c] = std::max(r[c], std::fabs(double(v[(o * cg + l) * taps + k])));
      }
  return r;
}

// Largest |r1_i / r2_i - 1| over the channels of the pair (first, second).
double Imbalance(const ir::Graph& g, const std::string& first, const std::string& second) {
  const std::vector<double> r1 = ChannelRanges(g.tensors[FindNode(g, first)->inputs[1]]);
  const std::vector<double> r2 = InputRanges(g, second, static_cast<int64_t>(r1.size()));
  double worst = 0;
  for (size_t c = 0; c < r1.size(); ++c) worst = std::max(worst, std::fabs(r1[c] / r2[c] - 1));
  return worst;
}

const std::vector<float> kSpread = {0.01f, 0.1f, 1.0f, 10.0f, 30.0f, 0.03f};

// x[1,3,8,8] -conv 6 (relu)-> maxpool -> conv 4
GraphBuilder ConvPoolConv() {
  GraphBuilder b;
  const int x = b.Input("x", {1, 3, 8, 8});
  const int w1 = b.Const("w1", {6, 3, 3, 3}, ScaledRandom(6 * 27, 1, kSpread));
  const int b1 = b.Const("b1", {6}, ScaledRandom(6, 2, kSpread));
  const int c1 = b.Node(OpCode::CONV_2D, {x, w1, b1}, {1, 6, 8, 8},
                        ConvAct(1, 1, 1, Activation::RELU), "conv1");
  const int p = b.Node(OpCode::MAX_POOL_2D, {c1}, {1, 6, 4, 4}, PoolOpts(2, 2), "pool");
  const int w2 = b.RandomConst("w2", {4, 6, 3, 3}, 3);
  const int b2 = b.RandomConst("b2", {4}, 4);
  b.Output(b.Node(OpCode::CONV_2D, {p, w2, b2}, {1, 4, 4, 4}, ConvOpts(1, 1), "conv2"));
  return b;
}

TEST(CrossLayerEqualization, ConvPoolConvKeepsFunctionAndEqualizesRanges) {
  const GraphBuilder b = ConvPoolConv();
  ASSERT_GT(Imbalance(b.g, "conv1", "conv2"), 10.0);  // the model really is unbalanced
  quant::EqualizationReport report;
  const ir::Graph eq = quant::EqualizeCrossLayer(b.g, &report);
  ASSERT_EQ(report.pairs.size(), 1u);
  EXPECT_EQ(report.pairs[0], std::make_pair(std::string("conv1"), std::string("conv2")));
  EXPECT_GE(report.iterations, 1);
  EXPECT_LT(Imbalance(eq, "conv1", "conv2"), 1e-5);
  EXPECT_LT(WorstError(b.g, eq, 3 * 64), 1e-5);
}

TEST(CrossLayerEqualization, DepthwiseChainConvergesOnEveryPair) {
  // conv 1x1 (relu) -> depthwise 3x3 (relu) -> conv 1x1: two pairs sharing the depthwise layer,
  // whose channel i is both an output and its own input.
  GraphBuilder b;
  const int x = b.Input("x", {1, 4, 6, 6});
  const int w1 = b.Const("w1", {6, 4, 1, 1}, ScaledRandom(24, 11, kSpread));
  const int c1 = b.Node(OpCode::CONV_2D, {x, w1, b.RandomConst("b1", {6}, 12)}, {1, 6, 6, 6},
                        ConvAct(1, 0, 1, Activation::RELU), "expand");
  const int w2 = b.Const("w2", {6, 1, 3, 3}, ScaledRandom(54, 13, {5, 0.2f, 1, 40, 0.05f, 2}));
  const int c2 = b.Node(OpCode::CONV_2D, {c1, w2, b.RandomConst("b2", {6}, 14)}, {1, 6, 6, 6},
                        ConvAct(1, 1, 6, Activation::RELU), "depthwise");
  const int w3 = b.RandomConst("w3", {5, 6, 1, 1}, 15);
  b.Output(b.Node(OpCode::CONV_2D, {c2, w3, -1}, {1, 5, 6, 6}, ConvOpts(1, 0), "project"));
  quant::EqualizationReport report;
  const ir::Graph eq = quant::EqualizeCrossLayer(b.g, &report);
  ASSERT_EQ(report.pairs.size(), 2u);
  EXPECT_GT(report.iterations, 1);  // equalizing the second pair disturbs the first again
  EXPECT_LT(Imbalance(eq, "expand", "depthwise"), 1e-4);
  EXPECT_LT(Imbalance(eq, "depthwise", "project"), 1e-4);
  EXPECT_LT(WorstError(b.g, eq, 4 * 36), 1e-5);
}

TEST(CrossLayerEqualization, GroupedConvScalesEachGroupsOwnInputs) {
  GraphBuilder b;
  const int x = b.Input("x", {1, 2, 5, 5});
  const int w1 = b.Const("w1", {6, 2, 3, 3}, ScaledRandom(108, 21, kSpread));
  const int c1 = b.Node(OpCode::CONV_2D, {x, w1, b.RandomConst("b1", {6}, 22)}, {1, 6, 5, 5},
                        ConvAct(1, 1, 1, Activation::RELU), "conv1");
  // groups 2: input channels 0-2 feed outputs 0-3, channels 3-5 feed outputs 4-7.
  const int w2 = b.RandomConst("w2", {8, 3, 3, 3}, 23);
  b.Output(b.Node(OpCode::CONV_2D, {c1, w2, -1}, {1, 8, 5, 5}, ConvOpts(1, 1, 2), "grouped"));
  quant::EqualizationReport report;
  const ir::Graph eq = quant::EqualizeCrossLayer(b.g, &report);
  ASSERT_EQ(report.pairs.size(), 1u);
  EXPECT_LT(Imbalance(eq, "conv1", "grouped"), 1e-5);
  EXPECT_LT(WorstError(b.g, eq, 2 * 25), 1e-5);
}

TEST(CrossLayerEqualization, ConvFlattenFullyConnectedChain) {
  // conv (relu) -> avgpool -> flatten -> fc (relu) -> fc: a conv -> fc pair through the flatten
  // (each channel owns a block of 4 columns) and an fc -> fc pair.
  GraphBuilder b;
  const int x = b.Input("x", {1, 2, 4, 4});
  const int w1 = b.Const("w1", {6, 2, 3, 3}, ScaledRandom(108, 31, kSpread));
  const int c1 = b.Node(OpCode::CONV_2D, {x, w1, b.RandomConst("b1", {6}, 32)}, {1, 6, 4, 4},
                        ConvAct(1, 1, 1, Activation::RELU), "conv");
  opm::OpOptionsUnion pool = PoolOpts(2, 2);
  const int p = b.Node(OpCode::AVERAGE_POOL_2D, {c1}, {1, 6, 2, 2}, pool, "avgpool");
  const int f = b.Node(OpCode::RESHAPE, {p}, {1, 24}, ReshapeOpts(), "flatten");
  const int w2 = b.Const("w2", {8, 24}, ScaledRandom(192, 33, {1, 50, 0.02f, 1, 3, 0.3f, 8, 1}));
  const int h = b.Node(OpCode::FULLY_CONNECTED, {f, w2, b.RandomConst("b2", {8}, 34)}, {1, 8},
                       FcOpts(Activation::RELU), "fc1");
  const int w3 = b.RandomConst("w3", {3, 8}, 35);
  b.Output(b.Node(OpCode::FULLY_CONNECTED, {h, w3, b.RandomConst("b3", {3}, 36)}, {1, 3}, FcOpts(),
                  "fc2"));
  quant::EqualizationReport report;
  const ir::Graph eq = quant::EqualizeCrossLayer(b.g, &report);
  ASSERT_EQ(report.pairs.size(), 2u);
  EXPECT_EQ(report.pairs[0].second, "fc1");
  EXPECT_EQ(report.pairs[1].second, "fc2");
  EXPECT_LT(Imbalance(eq, "conv", "fc1"), 1e-4);
  EXPECT_LT(Imbalance(eq, "fc1", "fc2"), 1e-4);
  EXPECT_LT(WorstError(b.g, eq, 2 * 16), 1e-5);
}

TEST(CrossLayerEqualization, RefusesPairsThatWouldChangeTheFunction) {
  GraphBuilder b;
  const int x = b.Input("x", {1, 3, 4, 4});
  // conv1's output also feeds a residual add: rescaling it would change the add.
  const int c1 = b.Node(OpCode::CONV_2D, {x, b.RandomConst("w1", {3, 3, 1, 1}, 41), -1},
                        {1, 3, 4, 4}, ConvAct(1, 0, 1, Activation::RELU), "conv1");
  const int c2 = b.Node(OpCode::CONV_2D, {c1, b.RandomConst("w2", {3, 3, 1, 1}, 42), -1},
                        {1, 3, 4, 4}, ConvAct(1, 0, 1, Activation::CLIP, 0, 6), "conv2");
  const int add = b.Node(OpCode::ADD, {c1, c2}, {1, 3, 4, 4}, BinaryOpts(), "add");
  // conv3 is followed by ReLU6 (fused): not scale-invariant unless allowed.
  const int c3 = b.Node(OpCode::CONV_2D, {add, b.RandomConst("w3", {3, 3, 1, 1}, 43), -1},
                        {1, 3, 4, 4}, ConvAct(1, 0, 1, Activation::CLIP, 0, 6), "conv3");
  // conv4 -> hard-swish -> conv5: hard-swish is not positively homogeneous.
  const int c4 = b.Node(OpCode::CONV_2D, {c3, b.RandomConst("w4", {3, 3, 1, 1}, 44), -1},
                        {1, 3, 4, 4}, ConvOpts(1, 0), "conv4");
  const int hs = b.Node(OpCode::HARD_SWISH, {c4}, {1, 3, 4, 4}, {}, "hswish");
  b.Output(b.Node(OpCode::CONV_2D, {hs, b.RandomConst("w5", {2, 3, 1, 1}, 45), -1}, {1, 2, 4, 4},
                  ConvOpts(1, 0), "conv5"));
  quant::EqualizationReport report;
  const ir::Graph eq = quant::EqualizeCrossLayer(b.g, &report);
  EXPECT_TRUE(report.pairs.empty());
  ASSERT_EQ(report.skipped.size(), 4u);  // conv1, conv2, conv3, conv4
  EXPECT_EQ(report.skipped[0].first, "conv1");
  EXPECT_NE(report.skipped[0].second.find("2 readers"), std::string::npos);
  EXPECT_EQ(report.skipped[2].first, "conv3");
  EXPECT_NE(report.skipped[2].second.find("ReLU6"), std::string::npos);
  EXPECT_NE(report.skipped[3].second.find("HARD_SWISH"), std::string::npos);
  EXPECT_EQ(WorstError(b.g, eq, 48), 0.0);  // untouched
}

TEST(CrossLayerEqualization, Relu6BecomesReluWhenAllowed) {
  GraphBuilder b;
  const int x = b.Input("x", {1, 3, 5, 5});
  const int w1 = b.Const("w1", {6, 3, 3, 3}, ScaledRandom(162, 51, kSpread));
  const int c1 = b.Node(OpCode::CONV_2D, {x, w1, -1}, {1, 6, 5, 5},
                        ConvAct(1, 1, 1, Activation::CLIP, 0, 6), "conv1");
  const int c2 = b.Node(OpCode::CONV_2D, {c1, b.RandomConst("w2", {6, 6, 1, 1}, 52), -1},
                        {1, 6, 5, 5}, ConvOpts(1, 0), "conv2");
  const int clip = b.Node(OpCode::CLIP, {c2}, {1, 6, 5, 5}, ClipOpts(0, 6), "relu6");
  b.Output(b.Node(OpCode::CONV_2D, {clip, b.RandomConst("w3", {2, 6, 1, 1}, 53), -1}, {1, 2, 5, 5},
                  ConvOpts(1, 0), "conv3"));

  quant::EqualizationReport exact;
  quant::EqualizeCrossLayer(b.g, &exact);
  EXPECT_TRUE(exact.pairs.empty());

  quant::EqualizationOptions options;
  options.relu6_to_relu = true;
  quant::EqualizationReport report;
  const ir::Graph eq = quant::EqualizeCrossLayer(b.g, options, &report);
  ASSERT_EQ(report.pairs.size(), 2u);
  EXPECT_EQ(report.relu6_replaced, (std::vector<std::string>{"conv1", "relu6"}));
  EXPECT_EQ(FindNode(eq, "relu6")->op, OpCode::RELU);
  EXPECT_EQ(FindNode(eq, "conv1")->options.AsConv2DOptions()->activation, Activation::RELU);
  // Where no value reaches 6 the function is unchanged; where values do, it is not.
  EXPECT_LT(WorstError(b.g, eq, 75, 0.01f), 1e-5);
  EXPECT_GT(WorstError(b.g, eq, 75, 50.0f), 1e-2);
}

TEST(CrossLayerEqualization, SharedWeightsAreCopiedNotChangedForTheOtherReader) {
  GraphBuilder b;
  const int x = b.Input("x", {1, 4, 3, 3});
  const int w = b.Const("w", {4, 4, 1, 1}, ScaledRandom(16, 61, {0.01f, 1, 10, 100}));
  const int c1 = b.Node(OpCode::CONV_2D, {x, w, -1}, {1, 4, 3, 3},
                        ConvAct(1, 0, 1, Activation::RELU), "conv1");
  const int c2 = b.Node(OpCode::CONV_2D, {c1, b.RandomConst("w2", {4, 4, 1, 1}, 62), -1},
                        {1, 4, 3, 3}, ConvOpts(1, 0), "conv2");
  const int c3 = b.Node(OpCode::CONV_2D, {x, w, -1}, {1, 4, 3, 3}, ConvOpts(1, 0), "other");
  b.Output(c2);
  b.Output(c3);
  quant::EqualizationReport report;
  const ir::Graph eq = quant::EqualizeCrossLayer(b.g, &report);
  ASSERT_EQ(report.pairs.size(), 1u);
  EXPECT_NE(FindNode(eq, "conv1")->inputs[1], FindNode(eq, "other")->inputs[1]);
  for (uint32_t seed = 1; seed < 3; ++seed) {
    const auto in = Bytes(RandomFloats(36, seed));
    const auto want = emit::RunGraph(b.g, {in});
    const auto got = emit::RunGraph(eq, {in});
    EXPECT_LT(RelativeError(Floats(got[0]), Floats(want[0])), 1e-5);
    EXPECT_EQ(got[1], want[1]);  // the other reader's weights are untouched
  }
}

// Output channel ranges of conv1 span four decades, compensated by conv2's input weights:
// per-tensor int8 then rounds the small channels of conv1 to almost nothing.
GraphBuilder Unbalanced() {
  GraphBuilder b;
  const int x = b.Input("x", {1, 3, 8, 8});
  const std::vector<float> spread = {0.01f, 0.05f, 0.2f, 1, 5, 20, 100, 0.02f};
  const int w1 = b.Const("w1", {8, 3, 3, 3}, ScaledRandom(216, 71, spread));
  const int b1 = b.Const("b1", {8}, ScaledRandom(8, 72, spread));
  const int c1 = b.Node(OpCode::CONV_2D, {x, w1, b1}, {1, 8, 8, 8},
                        ConvAct(1, 1, 1, Activation::RELU), "conv1");
  std::vector<float> w2v = RandomFloats(4 * 8 * 9, 73);
  for (int o = 0; o < 4; ++o)
    for (int c = 0; c < 8; ++c)
      for (int k = 0; k < 9; ++k) w2v[(o * 8 + c) * 9 + k] /= spread[c];
  const int w2 = b.Const("w2", {4, 8, 3, 3}, w2v);
  b.Output(b.Node(OpCode::CONV_2D, {c1, w2, -1}, {1, 4, 8, 8}, ConvOpts(1, 1), "conv2"));
  return b;
}

TEST(CrossLayerEqualization, CutsPerTensorInt8WeightErrorOnAnUnbalancedModel) {
  const GraphBuilder b = Unbalanced();
  const ir::Graph eq = quant::EqualizeCrossLayer(b.g);
  double before = 0, after = 0;
  const ir::Graph q_before = FakeQuantWeightsPerTensor(b.g);
  const ir::Graph q_after = FakeQuantWeightsPerTensor(eq);
  for (uint32_t seed = 1; seed < 5; ++seed) {
    const std::vector<float> in = RandomFloats(192, seed);
    const std::vector<float> want = RunFloat(b.g, in);
    before += Mse(RunFloat(q_before, in), want);
    after += Mse(RunFloat(q_after, in), want);
  }
  EXPECT_LT(after * 20, before) << "before " << before << " after " << after;
}

// The same model through the real pipeline: calibration, per-tensor int8 quantization (weights
// and activations), the integer kernels. The output SQNR against the float model rises.
TEST(CrossLayerEqualization, RaisesInt8OutputSqnrThroughTheQuantizer) {
  const GraphBuilder b = Unbalanced();
  const ir::Graph eq = quant::EqualizeCrossLayer(b.g);
  quant::Dataset data;
  data.sample_shape = {1, 3, 8, 8};
  for (uint32_t seed = 0; seed < 32; ++seed) data.samples.push_back(RandomFloats(192, 900 + seed));
  quant::QuantizeOptions per_tensor;
  per_tensor.per_channel = false;
  auto output_sqnr = [&](const ir::Graph& g) {
    auto stats = quant::Calibrate(g, data);
    EXPECT_TRUE(stats.ok()) << stats.message();
    auto q = quant::QuantizeGraph(g, *stats, per_tensor);
    EXPECT_TRUE(q.ok()) << q.message();
    auto r = quant::MeasureLayerSqnr(b.g, *q, data);  // always against the original
    EXPECT_TRUE(r.ok()) << r.message();
    return r->tensors.back().sqnr_db;
  };
  const double before = output_sqnr(b.g), after = output_sqnr(eq);
  EXPECT_GT(after, before + 10.0) << "before " << before << " dB, after " << after << " dB";
}

}  // namespace
}  // namespace outpost::testing
