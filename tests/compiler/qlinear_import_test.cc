// QLinearConv, QLinearMatMul, ConvInteger and MatMulInteger: integer ops with the node's own
// scales; uint8 graph inputs and outputs convert at the edges.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tests/compiler/onnx_model_builder.h"
#include "tests/compiler/qdq_test_util.h"

namespace outpost::testing {
namespace {

using ir::DType;
using ir::OpCode;
using onnx::TensorProto;

// QLinearConv on uint8 x [1, 2, 4, 4], uint8 weights [3, 2, 3, 3] per output channel with
// zero points, int32 bias, uint8 y.
TEST(QLinear, ConvOnUint8RunsOnIntegersWithTheModelsScales) {
  const float sx = 0.02f, sy = 0.1f;
  const std::vector<float> sw = {0.004f, 0.007f, 0.003f};
  const std::vector<int> zw = {120, 128, 135};
  const std::vector<int> w = PseudoInts(3 * 2 * 9, 60, 200, 3);
  const std::vector<int> bias = {500, -1200, 30};
  OnnxModelBuilder m(10);
  m.Input("x", {1, 2, 4, 4}, TensorProto::UINT8).Output("y");
  m.Scalar("sx", sx).ZeroPoint("zx", TensorProto::UINT8, 100);
  m.Init("w", TensorProto::UINT8, {3, 2, 3, 3}, w).Floats("sw", {3}, sw);
  m.Init("zw", TensorProto::UINT8, {3}, zw);
  m.Scalar("sy", sy).ZeroPoint("zy", TensorProto::UINT8, 90);
  m.Init("b", TensorProto::INT32, {3}, bias);
  SetIntsAttr(m.Node("QLinearConv", {"x", "sx", "zx", "w", "sw", "zw", "sy", "zy", "b"}, {"y"}),
              "pads", {1, 1, 1, 1});
  Expected<ir::Graph> imported = m.Import();
  ASSERT_TRUE(imported.ok()) << imported.message();
  const ir::Graph g = Optimized(imported.value());
  // UINT8 -> INT8 at the input, the convolution, INT8 -> UINT8 at the output.
  ASSERT_EQ(Ops(g), (std::vector<OpCode>{OpCode::QUANTIZE, OpCode::CONV_2D, OpCode::QUANTIZE}));
  const ir::Node& conv = g.nodes[1];
  EXPECT_EQ(g.tensors[g.inputs[0]].dtype, DType::UINT8);
  EXPECT_EQ(g.tensors[g.inputs[0]].quant.zero_point, std::vector<int64_t>{100});
  EXPECT_EQ(g.tensors[conv.inputs[0]].quant.zero_point, std::vector<int64_t>{-28});
  const ir::Tensor& wt = g.tensors[conv.inputs[1]];
  EXPECT_EQ(wt.dtype, DType::INT8);
  EXPECT_EQ(wt.quant.zero_point, (std::vector<int64_t>{-8, 0, 7}));
  EXPECT_EQ(static_cast<int>(wt.values<int8_t>()[0]), w[0] - 128);
  EXPECT_EQ(g.tensors[conv.inputs[2]].dtype, DType::INT32);
  EXPECT_EQ(g.tensors[g.outputs[0]].dtype, DType::UINT8);
  EXPECT_EQ(g.tensors[g.outputs[0]].quant.zero_point, std::vector<int64_t>{90});

  // ONNX: integer convolution of (x - zx) * (w - zw) plus bias, times sx * sw / sy, rounded
  // half to even, plus zy, saturated.
  const std::vector<int> xi = PseudoInts(32, 0, 255, 17);
  std::vector<double> xd(xi.size()), wd(w.size());
  for (size_t i = 0; i < xi.size(); ++i) xd[i] = xi[i] - 100;
  for (size_t i = 0; i < w.size(); ++i) wd[i] = w[i] - zw[i / 18];
  const std::vector<double> acc = Conv(xd, 2, 4, 4, wd, 3, 3, 1, {});
  std::vector<uint8_t> x8(xi.begin(), xi.end()), want(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    const int o = static_cast<int>(i / 16);
    const double v = (acc[i] + bias[o]) * (static_cast<double>(sx) * sw[o] / sy);
    want[i] = static_cast<uint8_t>(std::clamp(std::nearbyint(v) + 90, 0.0, 255.0));
  }
  const std::vector<uint8_t> got = RunOn<uint8_t>(g, x8);
  ASSERT_EQ(got.size(), want.size());
  int exact = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_LE(std::abs(got[i] - want[i]), 1) << i;
    exact += got[i] == want[i];
  }
  EXPECT_GE(exact, static_cast<int>(got.size()) * 9 / 10);
}

// MatMulInteger and ConvInteger: INT32 raw accumulators, no output parameters.
TEST(QLinear, IntegerOpsGiveRawAccumulators) {
  OnnxModelBuilder m(10);
  m.Input("a", {2, 3}, TensorProto::UINT8).Input("x", {1, 1, 3, 3}, TensorProto::INT8);
  m.Output("y").Output("c");
  m.Init("b", TensorProto::UINT8, {3, 2}, std::vector<int>{1, 4, 2, 5, 3, 6});
  m.Init("za", TensorProto::UINT8, {}, std::vector<int>{12});
  m.Init("zb", TensorProto::UINT8, {2}, std::vector<int>{0, 2});
  m.Node("MatMulInteger", {"a", "b", "za", "zb"}, {"y"});
  m.Init("w", TensorProto::INT8, {1, 1, 2, 2}, std::vector<int>{1, -1, 2, 0});
  m.Init("zx", TensorProto::INT8, {}, std::vector<int>{-1});
  m.Node("ConvInteger", {"x", "w", "zx"}, {"c"});
  Expected<ir::Graph> imported = m.Import();
  ASSERT_TRUE(imported.ok()) << imported.message();
  const ir::Graph g = Optimized(imported.value());
  EXPECT_EQ(Ops(g), (std::vector<OpCode>{OpCode::QUANTIZE, OpCode::FULLY_CONNECTED,
                                         OpCode::CONV_2D}));
  for (int o : g.outputs) {
    EXPECT_EQ(g.tensors[o].dtype, DType::INT32);
    EXPECT_FALSE(g.tensors[o].quant.present());
  }
  const std::vector<uint8_t> a = {11, 7, 3, 10, 6, 2};
  const std::vector<int8_t> x = {1, 2, 3, 4, 5, 6, 7, 8, -9};
  const auto out = emit::RunGraph(g, {Bytes(a), Bytes(x)});
  // (a - 12) . (b - [0, 2]) per row; conv of (x + 1) with w.
  EXPECT_EQ(Values<int32_t>(out[0]), (std::vector<int32_t>{-38, -53, -44, -62}));
  EXPECT_EQ(Values<int32_t>(out[1]), (std::vector<int32_t>{9, 11, 15, 17}));
}

// QLinearMatMul with a constant 2-D B becomes a fully connected layer; a batched B a MATMUL.
TEST(QLinear, MatMulWithConstantOrBatchedWeights) {
  for (const std::vector<int64_t>& bs : {std::vector<int64_t>{4, 3}, {2, 4, 3}}) {
    OnnxModelBuilder m(10);
    const bool batched = bs.size() == 3;
    const std::vector<int64_t> as = batched ? std::vector<int64_t>{2, 2, 4} : std::vector<int64_t>{2, 4};
    m.Input("a", as, TensorProto::INT8).Output("y");
    m.Scalar("sa", 0.05f).ZeroPoint("za", TensorProto::INT8, 3);
    m.Init("b", TensorProto::INT8, bs, PseudoInts(ir::NumElements(bs), -127, 127, 2));
    m.Scalar("sb", 0.01f).ZeroPoint("zb", TensorProto::INT8, 0);
    m.Scalar("sy", 0.02f).ZeroPoint("zy", TensorProto::INT8, -5);
    m.Node("QLinearMatMul", {"a", "sa", "za", "b", "sb", "zb", "sy", "zy"}, {"y"});
    Expected<ir::Graph> imported = m.Import();
    ASSERT_TRUE(imported.ok()) << imported.message();
    const ir::Graph g = Optimized(imported.value());
    EXPECT_EQ(Ops(g), std::vector<OpCode>{batched ? OpCode::MATMUL : OpCode::FULLY_CONNECTED});
    EXPECT_EQ(g.tensors[g.outputs[0]].dtype, DType::INT8);
    EXPECT_EQ(g.tensors[g.inputs[0]].quant.zero_point, std::vector<int64_t>{3});
  }
}

}  // namespace
}  // namespace outpost::testing
