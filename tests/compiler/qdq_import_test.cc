// Quantization-aware (QDQ) models: QuantizeLinear / DequantizeLinear around float ops import
// as QUANTIZE / DEQUANTIZE and fold into integer ops with the model's own scales. Each test
// checks the folded graph's structure and its numbers against ONNX's arithmetic.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "compiler/passes/passes.h"
#include "tests/compiler/onnx_model_builder.h"
#include "tests/compiler/qdq_test_util.h"

namespace outpost::testing {
namespace {

using ir::DType;
using ir::OpCode;
using onnx::TensorProto;

// x [1, 2, 5, 5] -> Q/DQ -> Conv 3x3 pad 1 (per-channel int8 weights, int32 bias) -> Relu ->
// Q/DQ -> y, with activations of ONNX type `act` (INT8 or UINT8).
struct ConvModel {
  static constexpr int kC = 2, kH = 5, kW = 5, kM = 3, kK = 3;
  int act;
  float sx = 0.05f, sy = 0.08f;
  int zx, zy;  // in the ONNX type's range
  std::vector<float> sw = {0.01f, 0.02f, 0.015f};
  std::vector<int> w = PseudoInts(kM * kC * kK * kK, -127, 127, 7);
  std::vector<int> b = {100, -50, 7};

  explicit ConvModel(int type)
      : act(type), zx(type == TensorProto::UINT8 ? 125 : -3),
        zy(type == TensorProto::UINT8 ? 130 : 5) {}

  OnnxModelBuilder Build() const {
    OnnxModelBuilder m;
    m.Input("x", {1, kC, kH, kW}).Output("y");
    m.Scalar("sx", sx).ZeroPoint("zx", act, zx).Scalar("sy", sy).ZeroPoint("zy", act, zy);
    m.Init("w", TensorProto::INT8, {kM, kC, kK, kK}, w);
    m.Floats("sw", {kM}, sw).Init("zw", TensorProto::INT8, {kM}, std::vector<int>(kM, 0));
    std::vector<float> sb;
    for (float s : sw) sb.push_back(sx * s);
    m.Init("b", TensorProto::INT32, {kM}, b).Floats("sb", {kM}, sb);
    m.Init("zb", TensorProto::INT32, {kM}, std::vector<int>(kM, 0));
    m.Node("QuantizeLinear", {"x", "sx", "zx"}, {"xq"});
    m.Node("DequantizeLinear", {"xq", "sx", "zx"}, {"xd"});
    SetIntAttr(m.Node("DequantizeLinear", {"w", "sw", "zw"}, {"wd"}), "axis", 0);
    SetIntAttr(m.Node("DequantizeLinear", {"b", "sb", "zb"}, {"bd"}), "axis", 0);
    SetIntsAttr(m.Node("Conv", {"xd", "wd", "bd"}, {"c"}, "conv"), "pads", {1, 1, 1, 1});
    m.Node("Relu", {"c"}, {"r"});
    m.Node("QuantizeLinear", {"r", "sy", "zy"}, {"yq"});
    m.Node("DequantizeLinear", {"yq", "sy", "zy"}, {"y"});
    return m;
  }

  // ONNX's answer: quantize, dequantize, float conv (in double), relu, quantize, dequantize.
  std::vector<float> Reference(const std::vector<float>& x) const {
    const int lo = act == TensorProto::UINT8 ? 0 : -128, hi = lo + 255;
    std::vector<double> xd(x.size()), wd(w.size()), bd(kM);
    for (size_t i = 0; i < x.size(); ++i)
      xd[i] = Dequantize(Quantize(x[i], sx, zx, lo, hi), sx, zx);
    const int per = kC * kK * kK;
    for (size_t i = 0; i < w.size(); ++i)
      wd[i] = static_cast<double>(static_cast<float>(w[i]) * sw[i / per]);
    for (int o = 0; o < kM; ++o) bd[o] = static_cast<float>(b[o]) * (sx * sw[o]);
    const std::vector<double> c = Conv(xd, kC, kH, kW, wd, kM, kK, 1, bd);
    std::vector<float> y(c.size());
    for (size_t i = 0; i < c.size(); ++i)
      y[i] = Dequantize(Quantize(static_cast<float>(std::max(c[i], 0.0)), sy, zy, lo, hi), sy, zy);
    return y;
  }
};

class QdqConv : public ::testing::TestWithParam<int> {};

TEST_P(QdqConv, FoldsIntoOneIntegerConvolution) {
  const ConvModel model(GetParam());
  const bool u8 = GetParam() == TensorProto::UINT8;
  Expected<ir::Graph> imported = model.Build().Import();
  ASSERT_TRUE(imported.ok()) << imported.message();
  // Imported: the float convolution between QUANTIZE / DEQUANTIZE; its weights and bias are
  // dequantized constants that record their parameters.
  EXPECT_EQ(Ops(imported.value()),
            (std::vector<OpCode>{OpCode::QUANTIZE, OpCode::DEQUANTIZE, OpCode::CONV_2D,
                                 OpCode::RELU, OpCode::QUANTIZE, OpCode::DEQUANTIZE}));
  const ir::Tensor& wf = imported.value().tensors[NodeWith(imported.value(), OpCode::CONV_2D).inputs[1]];
  EXPECT_EQ(wf.dtype, DType::FLOAT32);
  EXPECT_EQ(wf.quant.axis, 0);

  const ir::Graph g = Optimized(imported.value());
  ASSERT_EQ(Ops(g), (std::vector<OpCode>{OpCode::QUANTIZE, OpCode::CONV_2D, OpCode::DEQUANTIZE}));
  const ir::Node& conv = g.nodes[1];
  const ir::Tensor& x = g.tensors[conv.inputs[0]];
  const ir::Tensor& w = g.tensors[conv.inputs[1]];
  const ir::Tensor& b = g.tensors[conv.inputs[2]];
  const ir::Tensor& y = g.tensors[conv.outputs[0]];
  // uint8 activations are INT8 with the zero point moved by -128.
  const int shift = u8 ? -128 : 0;
  EXPECT_EQ(x.dtype, DType::INT8);
  EXPECT_EQ(x.quant.scale, std::vector<float>{model.sx});
  EXPECT_EQ(x.quant.zero_point, std::vector<int64_t>{model.zx + shift});
  EXPECT_EQ(w.dtype, DType::INT8);
  EXPECT_EQ(w.quant.axis, 0);
  EXPECT_EQ(w.quant.scale, model.sw);
  std::vector<int> wv(w.values<int8_t>().begin(), w.values<int8_t>().end());
  EXPECT_EQ(wv, model.w);  // the model's own integers, not a requantization
  EXPECT_EQ(b.dtype, DType::INT32);
  EXPECT_EQ(std::vector<int>(b.values<int32_t>().begin(), b.values<int32_t>().end()), model.b);
  for (int c = 0; c < ConvModel::kM; ++c)
    EXPECT_NEAR(b.quant.scale[c], model.sx * model.sw[c], 1e-6 * model.sx * model.sw[c]);
  EXPECT_EQ(conv.options.AsConv2DOptions()->activation, opm::Activation::RELU);
  EXPECT_EQ(y.dtype, DType::INT8);
  EXPECT_EQ(y.quant.scale, std::vector<float>{model.sy});
  EXPECT_EQ(y.quant.zero_point, std::vector<int64_t>{model.zy + shift});
  for (const ir::Tensor& t : g.tensors) {
    if (t.dtype != DType::FLOAT32) continue;
    EXPECT_FALSE(t.quant.present()) << t.name;
  }

  const std::vector<float> in = Pseudo(ConvModel::kC * ConvModel::kH * ConvModel::kW, -2, 3, 3);
  ExpectWithinOneStep(RunOn<float>(g, in), model.Reference(in), model.sy, 0.9);
}

INSTANTIATE_TEST_SUITE_P(Activations, QdqConv,
                         ::testing::Values(TensorProto::INT8, TensorProto::UINT8),
                         [](const auto& info) {
                           return info.param == TensorProto::INT8 ? "int8" : "uint8";
                         });

// Gemm (transB, per-channel weights, int32 bias) then MatMul (weights per column): both
// fully connected layers on integers.
TEST(Qdq, GemmAndMatMulBecomeIntegerFullyConnected) {
  const float sx = 0.03f, s1 = 0.05f, s2 = 0.04f;
  const std::vector<float> sw = {0.01f, 0.02f, 0.005f, 0.03f}, sv = {0.02f, 0.01f, 0.04f};
  const std::vector<int> w = PseudoInts(4 * 6, -127, 127, 11), v = PseudoInts(4 * 3, -100, 100, 5);
  const std::vector<int> bias = {-40, 12, 300, 0};
  OnnxModelBuilder m;
  m.Input("x", {2, 6}).Output("y");
  m.Scalar("sx", sx).Scalar("s1", s1).Scalar("s2", s2);
  m.ZeroPoint("z", TensorProto::INT8, 2);
  m.Init("w", TensorProto::INT8, {4, 6}, w).Floats("sw", {4}, sw);
  m.Init("v", TensorProto::INT8, {4, 3}, v).Floats("sv", {3}, sv);
  std::vector<float> sb;
  for (float s : sw) sb.push_back(sx * s);
  m.Init("b", TensorProto::INT32, {4}, bias).Floats("sb", {4}, sb);
  m.Node("QuantizeLinear", {"x", "sx", "z"}, {"xq"});
  m.Node("DequantizeLinear", {"xq", "sx", "z"}, {"xd"});
  SetIntAttr(m.Node("DequantizeLinear", {"w", "sw"}, {"wd"}), "axis", 0);
  SetIntAttr(m.Node("DequantizeLinear", {"b", "sb"}, {"bd"}), "axis", 0);
  SetIntAttr(m.Node("Gemm", {"xd", "wd", "bd"}, {"h"}, "gemm"), "transB", 1);
  m.Node("QuantizeLinear", {"h", "s1", "z"}, {"hq"});
  m.Node("DequantizeLinear", {"hq", "s1", "z"}, {"hd"});
  SetIntAttr(m.Node("DequantizeLinear", {"v", "sv"}, {"vd"}), "axis", 1);
  m.Node("MatMul", {"hd", "vd"}, {"o"}, "matmul");
  m.Node("QuantizeLinear", {"o", "s2", "z"}, {"oq"});
  m.Node("DequantizeLinear", {"oq", "s2", "z"}, {"y"});
  Expected<ir::Graph> imported = m.Import();
  ASSERT_TRUE(imported.ok()) << imported.message();
  const ir::Graph g = Optimized(imported.value());
  ASSERT_EQ(Ops(g), (std::vector<OpCode>{OpCode::QUANTIZE, OpCode::FULLY_CONNECTED,
                                         OpCode::FULLY_CONNECTED, OpCode::DEQUANTIZE}));
  // MatMul's B [4, 3] per column becomes FC weights [3, 4] per output channel.
  const ir::Tensor& fc2w = g.tensors[g.nodes[2].inputs[1]];
  EXPECT_EQ(fc2w.dtype, DType::INT8);
  EXPECT_EQ(fc2w.shape, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(fc2w.quant.axis, 0);
  EXPECT_EQ(fc2w.quant.scale, sv);
  EXPECT_EQ(static_cast<int>(fc2w.values<int8_t>()[1]), v[3]);  // W[0][1] = B[1][0]

  const std::vector<float> x = Pseudo(12, -3, 3, 9);
  std::vector<float> want(6);
  for (int r = 0; r < 2; ++r) {
    std::vector<float> h(4);
    for (int o = 0; o < 4; ++o) {
      double s = static_cast<float>(bias[o]) * sb[o];
      for (int k = 0; k < 6; ++k)
        s += static_cast<double>(Dequantize(Quantize(x[r * 6 + k], sx, 2), sx, 2)) *
             static_cast<float>(w[o * 6 + k]) * sw[o];
      h[o] = Dequantize(Quantize(static_cast<float>(s), s1, 2), s1, 2);
    }
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (int k = 0; k < 4; ++k) s += static_cast<double>(h[k]) * (static_cast<float>(v[k * 3 + j]) * sv[j]);
      want[r * 3 + j] = Dequantize(Quantize(static_cast<float>(s), s2, 2), s2, 2);
    }
  }
  ExpectWithinOneStep(RunOn<float>(g, x), want, s2, 0.8);
}

// Conv -> Q/DQ -> Relu -> Q/DQ (same parameters) -> MaxPool -> Q/DQ -> Flatten -> Q/DQ: the
// Relu becomes the convolution's clamp, pooling and flattening move the integers.
TEST(Qdq, ReluFoldsIntoTheClampAndDataMovementKeepsIntegers) {
  const float sx = 0.1f, sw = 0.02f, sy = 0.05f;
  const std::vector<int> w = PseudoInts(2 * 1 * 3 * 3, -127, 127, 21);
  OnnxModelBuilder m;
  m.Input("x", {1, 1, 4, 4}).Output("y");
  m.Scalar("sx", sx).Scalar("sw", sw).Scalar("sy", sy);
  m.ZeroPoint("z", TensorProto::UINT8, 128).ZeroPoint("zy", TensorProto::UINT8, 100);
  m.Init("w", TensorProto::INT8, {2, 1, 3, 3}, w);
  m.Node("QuantizeLinear", {"x", "sx", "z"}, {"xq"});
  m.Node("DequantizeLinear", {"xq", "sx", "z"}, {"xd"});
  m.Node("DequantizeLinear", {"w", "sw"}, {"wd"});
  SetIntsAttr(m.Node("Conv", {"xd", "wd"}, {"c"}, "conv"), "pads", {1, 1, 1, 1});
  const char* stages[][2] = {{"c", "c2"}, {"r", "r2"}, {"p", "p2"}, {"f", "y"}};
  for (int i = 0; i < 4; ++i) {
    const std::string q = std::string(stages[i][0]) + "q";
    m.Node("QuantizeLinear", {stages[i][0], "sy", "zy"}, {q});
    m.Node("DequantizeLinear", {q, "sy", "zy"}, {stages[i][1]});
    if (i == 0) m.Node("Relu", {"c2"}, {"r"});
    if (i == 1) {
      auto& pool = m.Node("MaxPool", {"r2"}, {"p"});
      SetIntsAttr(pool, "kernel_shape", {2, 2});
      SetIntsAttr(pool, "strides", {2, 2});
    }
    if (i == 2) m.Node("Flatten", {"p2"}, {"f"});
  }
  Expected<ir::Graph> imported = m.Import();
  ASSERT_TRUE(imported.ok()) << imported.message();
  const ir::Graph g = Optimized(imported.value());
  ASSERT_EQ(Ops(g), (std::vector<OpCode>{OpCode::QUANTIZE, OpCode::CONV_2D, OpCode::MAX_POOL_2D,
                                         OpCode::RESHAPE, OpCode::DEQUANTIZE}));
  EXPECT_EQ(g.nodes[1].options.AsConv2DOptions()->activation, opm::Activation::RELU);
  for (int k = 2; k <= 3; ++k) {
    EXPECT_EQ(g.tensors[g.nodes[k].inputs[0]].dtype, DType::INT8);
    EXPECT_EQ(g.tensors[g.nodes[k].outputs[0]].quant.zero_point, std::vector<int64_t>{100 - 128});
  }

  const std::vector<float> x = Pseudo(16, -5, 5, 4);
  std::vector<double> xd(16), wd(w.size());
  for (int i = 0; i < 16; ++i) xd[i] = Dequantize(Quantize(x[i], sx, 128, 0, 255), sx, 128);
  for (size_t i = 0; i < w.size(); ++i) wd[i] = static_cast<float>(w[i]) * sw;
  const std::vector<double> c = Conv(xd, 1, 4, 4, wd, 2, 3, 1, {});
  std::vector<float> want(8);
  for (int ch = 0; ch < 2; ++ch)
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) {
        int best = 0;
        for (int a = 0; a < 2; ++a)
          for (int b = 0; b < 2; ++b) {
            const double v = c[(ch * 4 + 2 * i + a) * 4 + 2 * j + b];
            best = std::max(best, Quantize(static_cast<float>(v), sy, 100, 0, 255) - 100);
          }
        want[(ch * 2 + i) * 2 + j] = Dequantize(best + 100, sy, 100);
      }
  ExpectWithinOneStep(RunOn<float>(g, x), want, sy, 0.8);
}

// A residual block: Conv, Add of the block's input, GlobalAveragePool; the Add and the pooling
// requantize to their own output parameters.
TEST(Qdq, ResidualAddAndPoolingRequantize) {
  const float sx = 0.04f, sw = 0.01f, sc = 0.03f, ss = 0.06f, sg = 0.02f;
  const std::vector<int> w = {50, -80, 127, 20};
  OnnxModelBuilder m;
  m.Input("x", {1, 2, 4, 4}).Output("sum").Output("y");
  m.Scalar("sx", sx).Scalar("sw", sw).Scalar("sc", sc).Scalar("ss", ss).Scalar("sg", sg);
  m.ZeroPoint("z", TensorProto::INT8, -4).ZeroPoint("zs", TensorProto::INT8, 10);
  m.Init("w", TensorProto::INT8, {2, 2, 1, 1}, w);
  m.Node("QuantizeLinear", {"x", "sx", "z"}, {"xq"});
  m.Node("DequantizeLinear", {"xq", "sx", "z"}, {"xd"});
  m.Node("DequantizeLinear", {"w", "sw"}, {"wd"});
  m.Node("Conv", {"xd", "wd"}, {"c"}, "conv");
  m.Node("QuantizeLinear", {"c", "sc", "z"}, {"cq"});
  m.Node("DequantizeLinear", {"cq", "sc", "z"}, {"cd"});
  m.Node("Add", {"cd", "xd"}, {"s"}, "add");
  m.Node("QuantizeLinear", {"s", "ss", "zs"}, {"sq"});
  m.Node("DequantizeLinear", {"sq", "ss", "zs"}, {"sum"});
  m.Node("GlobalAveragePool", {"sum"}, {"p"}, "pool");
  m.Node("QuantizeLinear", {"p", "sg", "z"}, {"pq"});
  m.Node("DequantizeLinear", {"pq", "sg", "z"}, {"y"});
  Expected<ir::Graph> imported = m.Import();
  ASSERT_TRUE(imported.ok()) << imported.message();
  const ir::Graph g = Optimized(imported.value());
  EXPECT_EQ(Ops(g), (std::vector<OpCode>{OpCode::QUANTIZE, OpCode::CONV_2D, OpCode::ADD,
                                         OpCode::DEQUANTIZE, OpCode::GLOBAL_AVERAGE_POOL,
                                         OpCode::DEQUANTIZE}));
  EXPECT_EQ(g.tensors[NodeWith(g, OpCode::ADD).inputs[1]].dtype, DType::INT8);

  const std::vector<float> x = Pseudo(32, -3, 3, 12);
  std::vector<float> sum(32), pool(2);
  for (int ch = 0; ch < 2; ++ch) {
    double total = 0;
    for (int i = 0; i < 16; ++i) {
      double c = 0;
      for (int k = 0; k < 2; ++k)
        c += static_cast<double>(Dequantize(Quantize(x[k * 16 + i], sx, -4), sx, -4)) *
             (static_cast<float>(w[ch * 2 + k]) * sw);
      const float cd = Dequantize(Quantize(static_cast<float>(c), sc, -4), sc, -4);
      const float xd = Dequantize(Quantize(x[ch * 16 + i], sx, -4), sx, -4);
      sum[ch * 16 + i] = Dequantize(Quantize(cd + xd, ss, 10), ss, 10);
      total += sum[ch * 16 + i];
    }
    pool[ch] = Dequantize(Quantize(static_cast<float>(total / 16), sg, -4), sg, -4);
  }
  const auto out = emit::RunGraph(g, {Bytes(x)});
  ExpectWithinOneStep(Values<float>(out[0]), sum, ss, 0.9);
  ExpectWithinOneStep(Values<float>(out[1]), pool, sg, 0.5);
}

// A uint8 graph input read by DequantizeLinear: converted once to INT8, so that the
// convolution folds; a DequantizeLinear that stays reads the UINT8 input itself.
TEST(Qdq, Uint8GraphInputs) {
  OnnxModelBuilder m;
  m.Input("x", {1, 1, 2, 2}, TensorProto::UINT8).Output("y").Output("raw");
  m.Scalar("sx", 0.1f).ZeroPoint("zx", TensorProto::UINT8, 128);
  m.Scalar("sw", 0.5f).Init("w", TensorProto::INT8, {1, 1, 1, 1}, std::vector<int>{2});
  m.Scalar("sy", 0.2f).ZeroPoint("zy", TensorProto::UINT8, 128);
  m.Node("DequantizeLinear", {"x", "sx", "zx"}, {"xd"});
  m.Node("DequantizeLinear", {"w", "sw"}, {"wd"});
  m.Node("Conv", {"xd", "wd"}, {"c"});
  m.Node("QuantizeLinear", {"c", "sy", "zy"}, {"cq"});
  m.Node("DequantizeLinear", {"cq", "sy", "zy"}, {"y"});
  m.Node("Identity", {"xd"}, {"raw"});
  Expected<ir::Graph> imported = m.Import();
  ASSERT_TRUE(imported.ok()) << imported.message();
  const ir::Graph g = Optimized(imported.value());
  EXPECT_EQ(Ops(g), (std::vector<OpCode>{OpCode::QUANTIZE, OpCode::DEQUANTIZE, OpCode::CONV_2D,
                                         OpCode::DEQUANTIZE}));
  EXPECT_EQ(g.tensors[g.nodes[1].inputs[0]].dtype, DType::UINT8);  // reads the input itself
  EXPECT_EQ(g.tensors[g.nodes[2].inputs[0]].dtype, DType::INT8);
  const auto out = emit::RunGraph(g, {Bytes(std::vector<uint8_t>{0, 100, 128, 255})});
  EXPECT_EQ(Values<float>(out[1]), (std::vector<float>{-12.8f, -2.8f, 0.0f, 12.7f}));
  // 0.1 * (x - 128) * (2 * 0.5) in steps of 0.2: -64, -14, 0 and 63.5 rounded to 64 steps.
  const std::vector<float> y = Values<float>(out[0]);
  const std::vector<float> want = {-12.8f, -2.8f, 0.0f, 12.8f};
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(y[i], want[i], 1e-5f) << i;
}

// Quantization-aware training exports weights as float constants with QuantizeLinear /
// DequantizeLinear (fake quantization): the importer quantizes them as ONNX does and the
// convolution folds with those integers.
TEST(Qdq, FakeQuantizedFloatWeightsFold) {
  const std::vector<float> wf = {0.31f, -0.52f, 0.05f, 1.27f};  // steps of 0.01, one tie
  OnnxModelBuilder m;
  m.Input("x", {1, 1, 3, 3}).Output("y");
  m.Scalar("s", 0.1f).ZeroPoint("z", TensorProto::INT8, 0).Scalar("sw", 0.01f);
  m.Floats("w", {1, 1, 2, 2}, wf);
  m.Node("QuantizeLinear", {"x", "s", "z"}, {"xq"});
  m.Node("DequantizeLinear", {"xq", "s", "z"}, {"xd"});
  m.Node("QuantizeLinear", {"w", "sw", "z"}, {"wq"});
  m.Node("DequantizeLinear", {"wq", "sw", "z"}, {"wd"});
  m.Node("Conv", {"xd", "wd"}, {"c"});
  m.Node("QuantizeLinear", {"c", "s", "z"}, {"cq"});
  m.Node("DequantizeLinear", {"cq", "s", "z"}, {"y"});
  Expected<ir::Graph> imported = m.Import();
  ASSERT_TRUE(imported.ok()) << imported.message();
  const ir::Graph g = Optimized(imported.value());
  ASSERT_EQ(Ops(g), (std::vector<OpCode>{OpCode::QUANTIZE, OpCode::CONV_2D, OpCode::DEQUANTIZE}));
  const ir::Tensor& w = g.tensors[g.nodes[1].inputs[1]];
  EXPECT_EQ(w.dtype, DType::INT8);
  std::vector<int> q(w.values<int8_t>().begin(), w.values<int8_t>().end());
  std::vector<int> want;
  for (float v : wf) want.push_back(Quantize(v, 0.01f, 0));
  EXPECT_EQ(q, want);
}

// An op without an integer kernel (Div) stays float between QUANTIZE and DEQUANTIZE at run
// time, and computes what ONNX computes.
TEST(Qdq, OpsWithoutIntegerKernelsStayFloat) {
  OnnxModelBuilder m;
  m.Input("x", {1, 8}).Output("y");
  m.Scalar("s", 0.1f).ZeroPoint("z", TensorProto::INT8, 0).Floats("two", {}, {2.0f});
  m.Node("QuantizeLinear", {"x", "s", "z"}, {"xq"});
  m.Node("DequantizeLinear", {"xq", "s", "z"}, {"xd"});
  m.Node("Div", {"xd", "two"}, {"d"});
  m.Node("QuantizeLinear", {"d", "s", "z"}, {"dq"});
  m.Node("DequantizeLinear", {"dq", "s", "z"}, {"y"});
  Expected<ir::Graph> imported = m.Import();
  ASSERT_TRUE(imported.ok()) << imported.message();
  const ir::Graph g = Optimized(imported.value());
  EXPECT_EQ(Ops(g), (std::vector<OpCode>{OpCode::QUANTIZE, OpCode::DEQUANTIZE, OpCode::DIV,
                                         OpCode::QUANTIZE, OpCode::DEQUANTIZE}));
  const std::vector<float> x = {0.0f, 0.3f, -0.7f, 1.26f, 5.0f, -12.9f, 0.04f, 2.2f};
  std::vector<float> want;
  for (float v : x) {
    const float d = Dequantize(Quantize(v, 0.1f, 0), 0.1f, 0) / 2.0f;
    want.push_back(Dequantize(Quantize(d, 0.1f, 0), 0.1f, 0));
  }
  // Ties (x.x5 / 0.1) round half away from zero in the runtime's QUANTIZE, half to even in
  // ONNX: at most one step apart.
  ExpectWithinOneStep(RunOn<float>(g, x), want, 0.1f, 0.5);
}

// A uint8 graph output of QuantizeLinear ends as a single QUANTIZE FLOAT32 -> UINT8.
TEST(Qdq, Uint8GraphOutputIsOneQuantize) {
  OnnxModelBuilder m;
  m.Input("x", {1, 4}).Output("q");
  m.Scalar("s", 0.5f).ZeroPoint("z", TensorProto::UINT8, 10);
  m.Node("QuantizeLinear", {"x", "s", "z"}, {"q"});
  Expected<ir::Graph> imported = m.Import();
  ASSERT_TRUE(imported.ok()) << imported.message();
  const ir::Graph g = Optimized(imported.value());
  ASSERT_EQ(Ops(g), std::vector<OpCode>{OpCode::QUANTIZE});
  const ir::Tensor& q = g.tensors[g.outputs[0]];
  EXPECT_EQ(q.name, "q");
  EXPECT_EQ(q.dtype, DType::UINT8);
  EXPECT_EQ(q.quant.zero_point, std::vector<int64_t>{10});
  EXPECT_EQ(g.tensors[g.nodes[0].inputs[0]].dtype, DType::FLOAT32);
  EXPECT_EQ(RunOn<uint8_t>(g, std::vector<float>{-10.0f, 0.26f, 3.0f, 200.0f}),
            (std::vector<uint8_t>{0, 11, 16, 255}));
}

// PyTorch writes Cast(to=UINT8) between QuantizeLinear and DequantizeLinear: an alias.
TEST(Qdq, CastToTheQuantizedTypeIsAnAlias) {
  OnnxModelBuilder m;
  m.Input("x", {1, 4}).Output("y");
  m.Scalar("s", 0.5f).ZeroPoint("z", TensorProto::UINT8, 10);
  m.Node("QuantizeLinear", {"x", "s", "z"}, {"q"});
  SetIntAttr(m.Node("Cast", {"q"}, {"qc"}), "to", TensorProto::UINT8);
  m.Node("DequantizeLinear", {"qc", "s", "z"}, {"d"});
  m.Node("Relu", {"d"}, {"y"});
  Expected<ir::Graph> imported = m.Import();
  ASSERT_TRUE(imported.ok()) << imported.message();
  const ir::Graph g = Optimized(imported.value());
  EXPECT_EQ(Ops(g), (std::vector<OpCode>{OpCode::QUANTIZE, OpCode::DEQUANTIZE, OpCode::RELU}));
  EXPECT_EQ(RunOn<float>(g, std::vector<float>{-10.0f, 0.26f, 3.0f, 200.0f}),
            (std::vector<float>{0.0f, 0.5f, 3.0f, 122.5f}));
}

// A QuantizeLinear of a constant is evaluated while importing, rounding half to even as ONNX.
TEST(Qdq, ConstantQuantizeRoundsHalfToEven) {
  OnnxModelBuilder m;
  m.Input("x", {4}).Output("y");
  m.Floats("c", {4}, {0.5f, 1.5f, 2.5f, -0.5f}).Scalar("s", 1.0f);
  m.ZeroPoint("z", TensorProto::INT8, 0);
  m.Node("QuantizeLinear", {"c", "s", "z"}, {"cq"});
  m.Node("DequantizeLinear", {"cq", "s", "z"}, {"cd"});
  m.Node("Add", {"x", "cd"}, {"y"});
  Expected<ir::Graph> g = m.Import();
  ASSERT_TRUE(g.ok()) << g.message();
  const ir::Tensor& c = g.value().tensors[g.value().nodes[0].inputs[1]];
  ASSERT_TRUE(c.constant);
  const std::vector<float> v(c.values<float>().begin(), c.values<float>().end());
  EXPECT_EQ(v, (std::vector<float>{0.0f, 2.0f, 2.0f, -0.0f}));
}

// Without integer kernels (a build that registers only float ones) nothing is rewritten.
TEST(Qdq, FoldsOnlyWhatTheRuntimeHasKernelsFor) {
  const ConvModel model(TensorProto::INT8);
  Expected<ir::Graph> imported = model.Build().Import();
  ASSERT_TRUE(imported.ok()) << imported.message();
  ir::Graph g = imported.value();
  passes::OptimizeOptions o;
  o.qdq.has_kernel = [](OpCode, DType dt) { return dt == DType::FLOAT32; };
  passes::Optimize(g, o);
  EXPECT_EQ(Ops(g), (std::vector<OpCode>{OpCode::QUANTIZE, OpCode::DEQUANTIZE, OpCode::CONV_2D,
                                         OpCode::QUANTIZE, OpCode::DEQUANTIZE}));
  EXPECT_EQ(g.tensors[g.nodes[2].inputs[1]].dtype, DType::FLOAT32);
  const std::vector<float> in = Pseudo(50, -2, 3, 8);
  ExpectWithinOneStep(RunOn<float>(g, in), model.Reference(in), model.sy, 0.9);
}

}  // namespace
}  // namespace outpost::testing
