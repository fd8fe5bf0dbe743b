// Quantized models that contradict themselves fail with a message naming the tensor; what the
// scheme cannot run is refused as unsupported; what works but deserves a look is a warning.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "compiler/passes/quant_params.h"
#include "tests/compiler/onnx_model_builder.h"
#include "tests/compiler/qdq_test_util.h"

namespace outpost::testing {
namespace {

using ir::DType;
using ir::OpCode;
using onnx::TensorProto;

std::string ImportError(const OnnxModelBuilder& m) {
  Expected<ir::Graph> g = m.Import();
  EXPECT_FALSE(g.ok());
  return g.ok() ? "" : g.message();
}

// x -> QuantizeLinear(scale sq) -> DequantizeLinear(scale sd) -> y
OnnxModelBuilder Pair(float sq, float sd, int zq = 0, int zd = 0) {
  OnnxModelBuilder m;
  m.Input("x", {1, 4}).Output("y");
  m.Scalar("sq", sq).Scalar("sd", sd);
  m.ZeroPoint("zq", TensorProto::INT8, zq).ZeroPoint("zd", TensorProto::INT8, zd);
  m.Node("QuantizeLinear", {"x", "sq", "zq"}, {"xq"}, "q1");
  m.Node("DequantizeLinear", {"xq", "sd", "zd"}, {"y"}, "dq1");
  return m;
}

TEST(QdqErrors, PairWithDifferentScalesNamesTheTensor) {
  const std::string e = ImportError(Pair(0.5f, 0.25f));
  EXPECT_NE(e.find("node 'dq1' (DequantizeLinear, opset 13)"), std::string::npos) << e;
  EXPECT_NE(e.find("tensor 'xq' is quantized with scale 0.5 and zero point 0 (set by node 'q1')"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("reads it with scale 0.25"), std::string::npos) << e;
  EXPECT_EQ(e.find("unsupported"), std::string::npos) << e;  // a broken model, not a limit
}

TEST(QdqErrors, PairWithDifferentZeroPoints) {
  const std::string e = ImportError(Pair(0.5f, 0.5f, 1, 2));
  EXPECT_NE(e.find("tensor 'xq'"), std::string::npos) << e;
  EXPECT_NE(e.find("zero point 2"), std::string::npos) << e;
}

TEST(QdqErrors, ScalesMustBePositiveAndFinite) {
  for (float bad : {0.0f, -0.5f, std::numeric_limits<float>::quiet_NaN(),
                    std::numeric_limits<float>::infinity()}) {
    const std::string e = ImportError(Pair(bad, bad));
    EXPECT_NE(e.find("node 'q1' (QuantizeLinear, opset 13): tensor 'xq': quantization scale is"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("must be positive and finite (scale 'sq', zero point 'zq')"),
              std::string::npos)
        << e;
  }
}

TEST(QdqErrors, ZeroPointTypeMustMatchTheData) {
  OnnxModelBuilder m;
  m.Input("x", {4}, TensorProto::INT8).Output("y");
  m.Scalar("s", 0.1f).ZeroPoint("z", TensorProto::UINT8, 3);
  m.Node("DequantizeLinear", {"x", "s", "z"}, {"y"}, "dq");
  const std::string e = ImportError(m);
  EXPECT_NE(e.find("'x' is int8 but its zero point 'z' is uint8"), std::string::npos) << e;
}

TEST(QdqErrors, PerAxisParametersMustFitTheAxis) {
  OnnxModelBuilder m;
  m.Input("x", {1, 3, 2}).Output("y");
  m.Floats("s", {2}, {0.1f, 0.2f});
  m.Node("QuantizeLinear", {"x", "s"}, {"y"}, "q");  // axis 1 has length 3
  const std::string e = ImportError(m);
  EXPECT_NE(e.find("tensor 'y': has 2 per-axis scales for axis 1 of length 3"), std::string::npos)
      << e;
}

TEST(QdqErrors, Opset10HasNoPerAxisParameters) {
  OnnxModelBuilder m(10);
  m.Input("x", {1, 2}).Output("y");
  m.Floats("s", {2}, {0.1f, 0.2f});
  m.Node("QuantizeLinear", {"x", "s"}, {"y"}, "q");
  const std::string e = ImportError(m);
  EXPECT_NE(e.find("'y' has 2 scales or zero points where one (per-tensor) is expected"),
            std::string::npos)
      << e;
}

TEST(QdqErrors, TwoReadersWithDifferentParameters) {
  OnnxModelBuilder m(10);
  m.Input("x", {1, 1, 2, 2}, TensorProto::UINT8).Output("a").Output("b");
  m.Scalar("s1", 0.1f).Scalar("s2", 0.2f).ZeroPoint("z", TensorProto::UINT8, 128);
  m.Node("DequantizeLinear", {"x", "s1", "z"}, {"a"}, "dq_a");
  m.Node("DequantizeLinear", {"x", "s2", "z"}, {"b"}, "dq_b");
  const std::string e = ImportError(m);
  EXPECT_NE(e.find("node 'dq_b'"), std::string::npos) << e;
  EXPECT_NE(e.find("tensor 'x' is quantized with scale 0.1 and zero point 128 (a graph input)"),
            std::string::npos)
      << e;
}

TEST(QdqErrors, LimitsOfTheSchemeAreUnsupported) {
  {
    // Weights computed at run time.
    OnnxModelBuilder m(10);
    m.Input("x", {1, 1, 3, 3}, TensorProto::UINT8).Input("w", {1, 1, 1, 1}, TensorProto::UINT8);
    m.Output("y").Scalar("s", 0.1f).ZeroPoint("z", TensorProto::UINT8, 0);
    m.Node("QLinearConv", {"x", "s", "z", "w", "s", "z", "s", "z"}, {"y"}, "qc");
    const std::string e = ImportError(m);
    EXPECT_NE(e.find("unsupported QLinearConv with weights 'w' computed at run time"),
              std::string::npos)
        << e;
  }
  {
    // Per-row zero points of MatMulInteger's A.
    OnnxModelBuilder m(10);
    m.Input("a", {2, 3}, TensorProto::UINT8).Output("y");
    m.Init("b", TensorProto::UINT8, {3, 1}, std::vector<int>{1, 2, 3});
    m.Init("za", TensorProto::UINT8, {2}, std::vector<int>{1, 2});
    m.Node("MatMulInteger", {"a", "b", "za"}, {"y"}, "mmi");
    const std::string e = ImportError(m);
    EXPECT_NE(e.find("unsupported per-row zero points of A ('za')"), std::string::npos) << e;
  }
  {
    // QuantizeLinear of integers (opset 13 allows int32 input).
    OnnxModelBuilder m;
    m.Input("x", {4}, TensorProto::INT32).Output("y").Scalar("s", 1.0f);
    m.Node("QuantizeLinear", {"x", "s"}, {"y"}, "q");
    const std::string e = ImportError(m);
    EXPECT_NE(e.find("unsupported QuantizeLinear of int32 values"), std::string::npos) << e;
  }
}

// A bias whose scale is not input scale x weight scale: the layer is still integer (the bias
// is requantized to the product), and a warning names the bias.
TEST(QdqErrors, BiasScaleMismatchIsAWarning) {
  OnnxModelBuilder m;
  m.Input("x", {1, 2}).Output("y");
  m.Scalar("sx", 0.1f).Scalar("sw", 0.02f).Scalar("sb", 0.004f).Scalar("sy", 0.05f);
  m.ZeroPoint("z", TensorProto::INT8, 0);
  m.Init("w", TensorProto::INT8, {2, 2}, std::vector<int>{10, -20, 30, 40});
  m.Init("b", TensorProto::INT32, {2}, std::vector<int>{5, -5});
  m.Node("QuantizeLinear", {"x", "sx", "z"}, {"xq"});
  m.Node("DequantizeLinear", {"xq", "sx", "z"}, {"xd"});
  m.Node("DequantizeLinear", {"w", "sw", "z"}, {"wd"});
  m.Node("DequantizeLinear", {"b", "sb"}, {"bd"});
  SetIntAttr(m.Node("Gemm", {"xd", "wd", "bd"}, {"h"}, "fc"), "transB", 1);
  m.Node("QuantizeLinear", {"h", "sy", "z"}, {"hq"});
  m.Node("DequantizeLinear", {"hq", "sy", "z"}, {"y"});
  Expected<ir::Graph> imported = m.Import();
  ASSERT_TRUE(imported.ok()) << imported.message();
  passes::PassStats stats;
  const ir::Graph g = Optimized(imported.value(), &stats);
  EXPECT_EQ(Ops(g), (std::vector<OpCode>{OpCode::QUANTIZE, OpCode::FULLY_CONNECTED,
                                         OpCode::DEQUANTIZE}));
  ASSERT_EQ(stats.warnings.size(), 1u);
  EXPECT_NE(stats.warnings[0].find("node 'fc': bias 'fc/bias' is quantized with scale 0.004 "
                                   "(channel 0) but input scale x weight scale is 0.002"),
            std::string::npos)
      << stats.warnings[0];
  // 5 * 0.004 = 0.02 = 10 * 0.002: the bias keeps its value at the product's scale.
  const ir::Tensor& b = g.tensors[g.nodes[1].inputs[2]];
  EXPECT_EQ(std::vector<int32_t>(b.values<int32_t>().begin(), b.values<int32_t>().end()),
            (std::vector<int32_t>{10, -10}));
}

// The parameters of every quantized tensor are checked once more after the passes, for graphs
// that do not come from the importer.
TEST(QdqErrors, FinishQuantizationChecksEveryTensor) {
  ir::Graph g;
  const int x = g.AddActivation("x", DType::FLOAT32, {4});
  const int y = g.AddActivation("y8", DType::INT8, {4});
  g.tensors[y].quant.scale = {0.1f};
  g.tensors[y].quant.zero_point = {300};
  ir::Node q;
  q.op = OpCode::QUANTIZE;
  q.name = "q";
  q.inputs = {x};
  q.outputs = {y};
  g.AddNode(q);
  g.inputs = {x};
  g.outputs = {y};
  try {
    passes::FinishQuantization(g);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "tensor 'y8': zero point 300 is outside the INT8 range [-128, 127]"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace outpost::testing
