// QuantizeGraph(): the structure of the int8 graph (conversions at the edges and around float
// nodes, int8 per-channel weights, int32 bias, inherited and fixed output parameters), that it
// runs and stays close to the float graph, and every refusal.
#include <gtest/gtest.h>

#include <cmath>

#include "compiler/quantize/ranges.h"
#include "tests/quantize/quant_test_util.h"

namespace outpost::quant {
namespace {

using opm::DType;
using opm::OpCode;
using testing::FindNode;
using testing::FindTensor;
using testing::Ops;
using testing::RandomData;
using testing::SmallConvNet;

CalibrationResult Stats(const ir::Graph& g, int n = 150, uint32_t seed = 1) {
  Expected<CalibrationResult> r = Calibrate(g, RandomData(g, n, seed, 0.3f, 1.0f));
  if (!r.ok()) throw Error(r.message());
  return r.value();
}

ir::Graph Quantize(const ir::Graph& g, const CalibrationResult& s, const QuantizeOptions& o = {},
                   QuantizeReport* report = nullptr) {
  Expected<ir::Graph> q = QuantizeGraph(g, s, o, report);
  if (!q.ok()) throw Error(q.message());
  return q.value();
}

std::string QuantizeError(const ir::Graph& g, const CalibrationResult& s,
                          const QuantizeOptions& o = {}) {
  Expected<ir::Graph> q = QuantizeGraph(g, s, o);
  EXPECT_FALSE(q.ok());
  return q.ok() ? "" : q.message();
}

const ir::Tensor& T(const ir::Graph& g, const std::string& name) {
  const int i = FindTensor(g, name);
  if (i < 0) throw Error("no tensor " + name);
  return g.tensors[i];
}

TEST(QuantizeGraph, FullInt8StructureWithFloatModelIO) {
  const ir::Graph f = SmallConvNet();
  const CalibrationResult s = Stats(f);
  QuantizeReport report;
  const ir::Graph q = Quantize(f, s, {}, &report);

  EXPECT_EQ(Ops(q), (std::vector<OpCode>{OpCode::QUANTIZE, OpCode::CONV_2D, OpCode::MAX_POOL_2D,
                                         OpCode::RESHAPE, OpCode::FULLY_CONNECTED,
                                         OpCode::DEQUANTIZE}));
  // Model I/O: float, same names.
  EXPECT_EQ(q.tensors[q.inputs[0]].name, "x");
  EXPECT_EQ(q.tensors[q.inputs[0]].dtype, DType::FLOAT32);
  EXPECT_EQ(q.tensors[q.outputs[0]].name, "y");
  EXPECT_EQ(q.tensors[q.outputs[0]].dtype, DType::FLOAT32);
  EXPECT_EQ(q.tensors[q.nodes[5].inputs[0]].name, "y_int8");
  EXPECT_EQ(q.tensors[q.nodes[0].outputs[0]].name, "x_int8");

  // Activations keep their names and get parameters from their calibrated ranges.
  const ir::Tensor& conv = T(q, "conv.out");
  EXPECT_EQ(conv.dtype, DType::INT8);
  ASSERT_EQ(conv.quant.scale.size(), 1u);
  EXPECT_EQ(conv.quant.zero_point[0], -128);  // fused ReLU: range [0, max]
  EXPECT_NEAR(conv.quant.scale[0], s.tensors.at("conv.out").max / 255.0f, 1e-6f);
  // Data movement inherits the input's parameters.
  for (const char* name : {"pool.out", "flatten.out"}) {
    EXPECT_EQ(T(q, name).quant.scale, conv.quant.scale) << name;
    EXPECT_EQ(T(q, name).quant.zero_point, conv.quant.zero_point) << name;
  }

  // Weights: int8 symmetric per output channel, each channel reaching +-127.
  const ir::Node* cn = FindNode(q, "conv");
  ASSERT_NE(cn, nullptr);
  const ir::Tensor& w = q.tensors[cn->inputs[1]];
  EXPECT_EQ(w.name, "conv.w_int8");
  EXPECT_EQ(w.dtype, DType::INT8);
  EXPECT_EQ(w.quant.axis, 0);
  ASSERT_EQ(w.quant.scale.size(), 4u);
  EXPECT_EQ(w.quant.zero_point, std::vector<int64_t>(4, 0));
  const ir::Tensor& wf = T(f, "conv.w");
  for (int c = 0; c < 4; ++c) {
    int peak = 0;
    float max_abs = 0;
    for (int k = 0; k < 18; ++k) {
      peak = std::max(peak, std::abs(static_cast<int>(w.values<int8_t>()[c * 18 + k])));
      max_abs = std::max(max_abs, std::fabs(wf.values<float>()[c * 18 + k]));
    }
    EXPECT_EQ(peak, 127) << c;
    EXPECT_FLOAT_EQ(w.quant.scale[c], max_abs / 127.0f) << c;
  }
  // Bias: int32 at scale s_in * s_w[c] (implied, not stored).
  const ir::Tensor& b = q.tensors[cn->inputs[2]];
  EXPECT_EQ(b.dtype, DType::INT32);
  EXPECT_FALSE(b.quant.present());
  const float s_in = T(q, "x_int8").quant.scale[0];
  for (int c = 0; c < 4; ++c)
    EXPECT_EQ(b.values<int32_t>()[c],
              static_cast<int32_t>(std::round(T(f, "conv.b").values<float>()[c] /
                                              (s_in * w.quant.scale[c]))));

  // The report.
  ASSERT_EQ(report.layers.size(), 4u);
  for (const LayerReport& l : report.layers) EXPECT_TRUE(l.quantized) << l.node;
  EXPECT_EQ(report.layers[0].op, "CONV_2D");
  EXPECT_EQ(report.layers[0].detail, "weights per-channel");
  EXPECT_EQ(report.layers[0].out_min, 0.0f);
  EXPECT_NEAR(report.layers[0].out_max, s.tensors.at("conv.out").max, 1e-5f);
  EXPECT_GT(report.float_weight_bytes, 3 * report.weight_bytes);
}

TEST(QuantizeGraph, RunsCloseToTheFloatGraph) {
  const ir::Graph f = SmallConvNet();
  const ir::Graph q = Quantize(f, Stats(f));
  const Dataset test = RandomData(f, 20, 99, 0.3f, 1.0f);
  double err = 0, mag = 0;
  for (const auto& sample : test.samples) {
    const std::vector<float> a = testing::RunFloat(f, sample);
    const std::vector<float> b = testing::RunFloat(q, sample);
    for (size_t i = 0; i < a.size(); ++i) {
      err += (a[i] - b[i]) * (a[i] - b[i]);
      mag += a[i] * a[i];
    }
  }
  // int8 all the way: SQNR above 25 dB on this small net.
  EXPECT_GT(10 * std::log10(mag / err), 25.0);
}

TEST(QuantizeGraph, PerTensorWeights) {
  const ir::Graph f = SmallConvNet();
  QuantizeOptions o;
  o.per_channel = false;
  QuantizeReport report;
  const ir::Graph q = Quantize(f, Stats(f), o, &report);
  const ir::Tensor& w = q.tensors[FindNode(q, "fc")->inputs[1]];
  EXPECT_EQ(w.quant.axis, -1);
  EXPECT_EQ(w.quant.scale.size(), 1u);
  EXPECT_EQ(report.layers[0].detail, "weights per-tensor");
}

TEST(QuantizeGraph, FloatNodesGetConversionsAroundThem) {
  const ir::Graph f = SmallConvNet();
  QuantizeOptions o;
  o.float_nodes = {"pool"};
  QuantizeReport report;
  const ir::Graph q = Quantize(f, Stats(f), o, &report);
  EXPECT_EQ(Ops(q), (std::vector<OpCode>{OpCode::QUANTIZE, OpCode::CONV_2D, OpCode::DEQUANTIZE,
                                         OpCode::MAX_POOL_2D, OpCode::RESHAPE, OpCode::QUANTIZE,
                                         OpCode::FULLY_CONNECTED, OpCode::DEQUANTIZE}));
  EXPECT_EQ(T(q, "pool.out").dtype, DType::FLOAT32);
  EXPECT_EQ(T(q, "conv.out_float").dtype, DType::FLOAT32);
  EXPECT_EQ(T(q, "flatten.out").dtype, DType::FLOAT32);  // follows its float input
  EXPECT_EQ(T(q, "flatten.out_int8").dtype, DType::INT8);
  EXPECT_EQ(report.layers[1].why_float, "kept float on request");
  EXPECT_NE(report.layers[2].why_float.find("input is float"), std::string::npos);
  EXPECT_TRUE(report.layers[3].quantized);
}

TEST(QuantizeGraph, OnlyNodesLimitsTheInt8Part) {
  const ir::Graph f = SmallConvNet();
  QuantizeOptions o;
  o.only_nodes = {"fc"};
  QuantizeReport report;
  const ir::Graph q = Quantize(f, Stats(f), o, &report);
  EXPECT_EQ(Ops(q), (std::vector<OpCode>{OpCode::CONV_2D, OpCode::MAX_POOL_2D, OpCode::RESHAPE,
                                         OpCode::QUANTIZE, OpCode::FULLY_CONNECTED,
                                         OpCode::DEQUANTIZE}));
  EXPECT_EQ(report.layers[0].why_float, "not among the nodes to quantize");
}

TEST(QuantizeGraph, OpsWithoutAnInt8KernelStayFloat) {
  const ir::Graph f = SmallConvNet();
  QuantizeOptions o;
  // A runtime with every kernel but the int8 fully connected one.
  QuantizeOptions real;
  const auto has = [](OpCode op, DType dt) {
    if (op == OpCode::FULLY_CONNECTED && dt == DType::INT8) return false;
    return true;
  };
  o.has_kernel = has;
  QuantizeReport report;
  const ir::Graph q = Quantize(f, Stats(f), o, &report);
  EXPECT_EQ(report.layers[3].why_float, "no int8 kernel");
  EXPECT_EQ(q.tensors[q.outputs[0]].name, "y");
  EXPECT_EQ(Ops(q).back(), OpCode::FULLY_CONNECTED);
  EXPECT_EQ(T(q, "fc.w").dtype, DType::FLOAT32);
  // And this build's own resolver has no int8 DIV: a DIV stays float.
  testing::GraphBuilder b;
  const int x = b.Input("x", {1, 4});
  const int two = b.Const("two", {1}, {2.0f});
  const int d = b.Node(OpCode::DIV, {x, two}, {1, 4}, testing::BinaryOpts(), "div");
  const int r = b.Node(OpCode::RELU, {d}, {1, 4}, {}, "relu");
  b.Output(r);
  QuantizeReport r2;
  const ir::Graph q2 = Quantize(b.g, Stats(b.g), real, &r2);
  EXPECT_EQ(r2.layers[0].why_float, "no int8 kernel");
  EXPECT_TRUE(r2.layers[1].quantized);
  EXPECT_EQ(Ops(q2), (std::vector<OpCode>{OpCode::DIV, OpCode::QUANTIZE, OpCode::RELU,
                                          OpCode::DEQUANTIZE}));
}

TEST(QuantizeGraph, Int8ModelIO) {
  const ir::Graph f = SmallConvNet();
  QuantizeOptions o;
  o.int8_io = true;
  const CalibrationResult s = Stats(f);
  const ir::Graph q = Quantize(f, s, o);
  EXPECT_EQ(Ops(q), (std::vector<OpCode>{OpCode::CONV_2D, OpCode::MAX_POOL_2D, OpCode::RESHAPE,
                                         OpCode::FULLY_CONNECTED}));
  const ir::Tensor& in = q.tensors[q.inputs[0]];
  EXPECT_EQ(in.name, "x");
  EXPECT_EQ(in.dtype, DType::INT8);
  const Int8Params want = ChooseInt8Params({s.tensors.at("x").min, s.tensors.at("x").max});
  EXPECT_EQ(in.quant.scale[0], want.scale);
  EXPECT_EQ(in.quant.zero_point[0], want.zero_point);
  EXPECT_EQ(q.tensors[q.outputs[0]].name, "y");
  EXPECT_EQ(q.tensors[q.outputs[0]].dtype, DType::INT8);
  EXPECT_EQ(q.info.input_specs.size(), f.info.input_specs.size());
}

TEST(QuantizeGraph, FixedOutputParametersForSoftmaxSigmoidTanh) {
  for (OpCode op : {OpCode::SOFTMAX, OpCode::SIGMOID, OpCode::TANH}) {
    testing::GraphBuilder b;
    const int x = b.Input("x", {1, 8});
    const int w = b.RandomConst("w", {6, 8}, 3);
    const int h = b.Node(OpCode::FULLY_CONNECTED, {x, w}, {1, 6}, testing::FcOpts(), "fc");
    const int y = b.Node(op, {h}, {1, 6},
                         op == OpCode::SOFTMAX ? testing::SoftmaxOpts() : opm::OpOptionsUnion(),
                         "act");
    b.Output(y);
    const ir::Graph q = Quantize(b.g, Stats(b.g));
    const ir::Tensor& t = T(q, "act.out_int8");
    const float scale = op == OpCode::TANH ? 1.0f / 128 : 1.0f / 256;
    const int64_t zp = op == OpCode::TANH ? 0 : -128;
    EXPECT_EQ(t.quant.scale[0], scale) << opm::EnumNameOpCode(op);
    EXPECT_EQ(t.quant.zero_point[0], zp) << opm::EnumNameOpCode(op);
    // A fully connected layer without bias keeps none.
    EXPECT_EQ(FindNode(q, "fc")->inputs.size(), 2u);
  }
}

TEST(QuantizeGraph, FusedHardSwishBecomesASeparateInt8Op) {
  const ir::Graph f = SmallConvNet(opm::Activation::HARD_SWISH);
  const CalibrationResult s = Stats(f);
  ASSERT_TRUE(s.tensors.count("conv.out_pre_hardswish"));
  QuantizeReport report;
  const ir::Graph q = Quantize(f, s, {}, &report);
  const ir::Node* conv = FindNode(q, "conv");
  EXPECT_EQ(conv->options.AsConv2DOptions()->activation, opm::Activation::NONE);
  EXPECT_EQ(q.tensors[conv->outputs[0]].name, "conv.out_pre_hardswish");
  const ir::Node* hs = FindNode(q, "conv/hard_swish");
  ASSERT_NE(hs, nullptr);
  EXPECT_EQ(hs->op, OpCode::HARD_SWISH);
  EXPECT_EQ(q.tensors[hs->outputs[0]].name, "conv.out");
  EXPECT_EQ(q.tensors[hs->outputs[0]].dtype, DType::INT8);
  // Still close to the float model.
  const std::vector<float> sample = RandomData(f, 1, 5, 0.3f).samples[0];
  const std::vector<float> a = testing::RunFloat(f, sample), b = testing::RunFloat(q, sample);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 0.1 + 0.1 * std::fabs(a[i]));
}

TEST(QuantizeGraph, ResidualAddAndConcatRequantize) {
  testing::GraphBuilder b;
  const int x = b.Input("x", {1, 4});
  const int w = b.RandomConst("w", {4, 4}, 7);
  const int h = b.Node(OpCode::FULLY_CONNECTED, {x, w}, {1, 4}, testing::FcOpts(), "fc");
  const int add = b.Node(OpCode::ADD, {h, x}, {1, 4}, testing::BinaryOpts(), "add");
  const int k = b.Const("k", {1, 4}, {1.0f, -2.0f, 0.5f, 3.0f});
  const int mul = b.Node(OpCode::MUL, {add, k}, {1, 4}, testing::BinaryOpts(), "mul");
  opm::ConcatOptionsT co;
  co.axis = 1;
  opm::OpOptionsUnion cu;
  cu.Set(co);
  const int cat = b.Node(OpCode::CONCAT, {mul, x}, {1, 8}, cu, "cat");
  b.Output(cat);
  const CalibrationResult s = Stats(b.g, 200, 3);
  const ir::Graph q = Quantize(b.g, s);
  // The constant operand is int8 over its own range.
  const ir::Tensor& kq = T(q, "k_int8");
  EXPECT_EQ(kq.dtype, DType::INT8);
  EXPECT_NEAR(kq.quant.scale[0], 5.0f / 255.0f, 1e-7f);
  // Each requantizing op has the parameters of its own range.
  for (const char* name : {"add.out", "mul.out"}) {
    const TensorStats& st = s.tensors.at(name);
    const Int8Params p = ChooseInt8Params({st.min, st.max});
    EXPECT_EQ(T(q, name).quant.scale[0], p.scale) << name;
  }
  const std::vector<float> sample = RandomData(b.g, 1, 8, 0.3f).samples[0];
  const std::vector<float> fa = testing::RunFloat(b.g, sample), qa = testing::RunFloat(q, sample);
  for (size_t i = 0; i < fa.size(); ++i) EXPECT_NEAR(fa[i], qa[i], 0.15) << i;
}

TEST(QuantizeGraph, NothingToQuantize) {
  const ir::Graph f = SmallConvNet();
  QuantizeOptions o;
  o.has_kernel = [](OpCode, DType dt) { return dt != DType::INT8; };
  const std::string e = QuantizeError(f, Stats(f), o);
  EXPECT_EQ(e.rfind("nothing to quantize", 0), 0u) << e;
  EXPECT_NE(e.find("no int8 kernel: CONV_2D FULLY_CONNECTED MAX_POOL_2D"), std::string::npos)
      << e;
  QuantizeOptions all_float;
  all_float.float_nodes = {"conv", "pool", "flatten", "fc"};
  EXPECT_NE(QuantizeError(f, Stats(f), all_float).find("kept float on request"),
            std::string::npos);
}

TEST(QuantizeGraph, MissingStatisticsAreNamed) {
  const ir::Graph f = SmallConvNet();
  CalibrationResult s = Stats(f);
  s.tensors.erase("pool.out");  // inherited: not needed
  EXPECT_TRUE(QuantizeGraph(f, s, {}).ok());
  s.tensors.erase("conv.out");
  const std::string e = QuantizeError(f, s);
  EXPECT_NE(e.find("no calibration statistics for tensor 'conv.out'"), std::string::npos) << e;
  EXPECT_NE(QuantizeError(f, CalibrationResult{}).find("tensor 'x'"), std::string::npos);
}

TEST(QuantizeGraph, NanOrInfIsAnErrorNamingTheTensor) {
  ir::Graph f = SmallConvNet();
  CalibrationResult s = Stats(f);
  s.tensors.at("conv.out").has_nan_or_inf = true;
  const std::string e = QuantizeError(f, s);
  EXPECT_NE(e.find("tensor 'conv.out'"), std::string::npos) << e;
  EXPECT_NE(e.find("NaN or Inf"), std::string::npos) << e;

  const CalibrationResult good = Stats(f);
  f.tensors[FindTensor(f, "conv.w")].mutable_values<float>()[0] = INFINITY;
  const std::string w = QuantizeError(f, good);
  EXPECT_NE(w.find("weight tensor 'conv.w' holds Inf"), std::string::npos) << w;
}

TEST(QuantizeGraph, RefusesAQuantizedGraph) {
  const ir::Graph f = SmallConvNet();
  const CalibrationResult s = Stats(f);
  const ir::Graph q = Quantize(f, s);
  EXPECT_NE(QuantizeError(q, s).find("the model is already quantized (tensor '"),
            std::string::npos);
  Expected<CalibrationResult> c = Calibrate(q, RandomData(f, 5, 3));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.message().find("quantize the float model"), std::string::npos) << c.message();
}

TEST(QuantizeGraph, RefusesABadPercentileNamingTheTensor) {
  const ir::Graph f = SmallConvNet();
  QuantizeOptions o;
  o.method = CalibrationMethod::kPercentile;
  o.percentile = 0;
  EXPECT_NE(QuantizeError(f, Stats(f), o).find("percentile"), std::string::npos);
  CalibrationOptions one_pass;
  one_pass.histograms = false;
  const CalibrationResult s = Calibrate(f, RandomData(f, 20, 2), one_pass).value();
  o.percentile = 99.9;
  const std::string e = QuantizeError(f, s, o);
  EXPECT_NE(e.find("tensor 'x': the percentile method needs a histogram"), std::string::npos)
      << e;
}

TEST(QuantizeGraph, EveryMethodGivesARunnableGraph) {
  const ir::Graph f = SmallConvNet();
  const CalibrationResult s = Stats(f);
  const std::vector<float> sample = RandomData(f, 1, 11, 0.3f).samples[0];
  const std::vector<float> want = testing::RunFloat(f, sample);
  for (CalibrationMethod m : {CalibrationMethod::kMinMax, CalibrationMethod::kPercentile,
                              CalibrationMethod::kEntropy, CalibrationMethod::kMse}) {
    QuantizeOptions o;
    o.method = m;
    const ir::Graph q = Quantize(f, s, o);
    const std::vector<float> got = testing::RunFloat(q, sample);
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 0.25 + 0.1 * std::fabs(want[i])) << CalibrationMethodName(m);
  }
}

}  // namespace
}  // namespace outpost::quant
