// Hostile quantization parameters for every int8 kernel: a scale of zero, negative, NaN or
// infinite, a zero point outside the dtype's range, per-axis parameters where the kernel takes
// them per tensor or along another axis, missing parameters, mismatched data-movement params.
// Prepare must refuse each with a message that names the problem; nothing may crash (the
// sanitizer build checks that). Then random parameters: accepted models must run.
#include <gtest/gtest.h>

#include <functional>
#include <limits>

#include "tests/runtime/int8_test_util.h"

namespace outpost::testing {
namespace {

using opm::DType;
using opm::OpCode;

// A valid single-op int8 model description whose operands the tests then spoil.
struct Spec {
  std::string name;
  OpCode op;
  std::function<opm::OpOptionsUnion()> options;
  std::vector<Operand> inputs;
  std::vector<Operand> outputs;
};

opm::OpOptionsUnion NoOptions() { return {}; }

std::vector<Spec> ValidSpecs() {
  const QParams a{0.05f, 3}, b{0.02f, -7}, y{0.1f, 0};
  const auto x16 = RandomInt8(16, 1);
  const auto w = RandomInt8(4 * 4, 2, -127, 127);
  std::vector<Spec> s;
  s.push_back({"conv",
               OpCode::CONV_2D,
               [] { return Options(opm::Conv2DOptionsT()); },
               {Int8({1, 4, 2, 2}, x16, a),
                Int8PerAxis({4, 4, 1, 1}, w, {0.01f, 0.02f, 0.03f, 0.04f}, {0, 0, 0, 0}, 0),
                Int32({4}, {1, 2, 3, 4})},
               {OutI8({1, 4, 2, 2}, y)}});
  s.push_back({"fully_connected",
               OpCode::FULLY_CONNECTED,
               [] { return Options(opm::FullyConnectedOptionsT()); },
               {Int8({4, 4}, x16, a), Int8({4, 4}, w, b, true)},
               {OutI8({4, 4}, y)}});
  s.push_back({"matmul",
               OpCode::MATMUL,
               [] { return Options(opm::MatMulOptionsT()); },
               {Int8({4, 4}, x16, a), Int8({4, 4}, w, b, true)},
               {OutI8({4, 4}, y)}});
  for (OpCode op : {OpCode::ADD, OpCode::SUB, OpCode::MUL})
    s.push_back({OpName(op),
                 op,
                 [] { return Options(opm::BinaryOptionsT()); },
                 {Int8({16}, x16, a), Int8({16}, x16, b)},
                 {OutI8({16}, y)}});
  s.push_back({"concat",
               OpCode::CONCAT,
               [] { return Options(opm::ConcatOptionsT()); },
               {Int8({16}, x16, a), Int8({16}, x16, b)},
               {OutI8({32}, y)}});
  s.push_back({"average_pool",
               OpCode::AVERAGE_POOL_2D,
               [] {
                 opm::Pool2DOptionsT o;
                 o.kernel_h = o.kernel_w = 2;
                 return Options(o);
               },
               {Int8({1, 4, 2, 2}, x16, a)},
               {OutI8({1, 4, 1, 1}, y)}});
  s.push_back({"global_average_pool",
               OpCode::GLOBAL_AVERAGE_POOL,
               NoOptions,
               {Int8({1, 4, 2, 2}, x16, a)},
               {OutI8({1, 4, 1, 1}, y)}});
  s.push_back({"sigmoid", OpCode::SIGMOID, NoOptions, {Int8({16}, x16, a)}, {OutI8({16}, y)}});
  s.push_back({"softmax",
               OpCode::SOFTMAX,
               [] { return Options(opm::SoftmaxOptionsT()); },
               {Int8({4, 4}, x16, a)},
               {OutI8({4, 4}, y)}});
  s.push_back({"requantize", OpCode::QUANTIZE, NoOptions, {Int8({16}, x16, a)}, {OutI8({16}, y)}});
  s.push_back({"dequantize",
               OpCode::DEQUANTIZE,
               NoOptions,
               {Int8({16}, x16, a)},
               {Operand::Out({16}, DType::FLOAT32)}});
  s.push_back({"quantize",
               OpCode::QUANTIZE,
               NoOptions,
               {Operand::F32({16}, RandomFloats(16, 3))},
               {OutI8({16}, y)}});
  return s;
}

Status RunSpec(const Spec& s, std::string* error) {
  SingleOpModel m(s.op, s.options(), s.inputs, s.outputs);
  const Status st = m.Run();
  *error = m.error();
  return st;
}

// Every operand that carries quantization parameters, as (is_output, index).
std::vector<std::pair<bool, int>> QuantizedOperands(const Spec& s) {
  std::vector<std::pair<bool, int>> v;
  for (size_t i = 0; i < s.inputs.size(); ++i)
    if (!s.inputs[i].scale.empty()) v.push_back({false, static_cast<int>(i)});
  for (size_t i = 0; i < s.outputs.size(); ++i)
    if (!s.outputs[i].scale.empty()) v.push_back({true, static_cast<int>(i)});
  return v;
}

Operand& Pick(Spec& s, std::pair<bool, int> which) {
  return which.first ? s.outputs[which.second] : s.inputs[which.second];
}

TEST(Int8Hostile, BaselinesRun) {
  for (const Spec& s : ValidSpecs()) {
    std::string err;
    EXPECT_EQ(RunSpec(s, &err), Status::kOk) << s.name << ": " << err;
  }
}

TEST(Int8Hostile, BadScalesAndZeroPointsAreRefusedWithAMessage) {
  struct Spoil {
    const char* what;
    std::function<void(Operand&)> apply;
    const char* message;
  };
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<Spoil> spoils = {
      {"scale 0", [](Operand& o) { o.scale.back() = 0.0f; }, "zero or negative"},
      {"scale -0.1", [](Operand& o) { o.scale.back() = -0.1f; }, "zero or negative"},
      {"scale NaN", [](Operand& o) { o.scale.back() = std::nanf(""); }, "not finite"},
      {"scale inf", [=](Operand& o) { o.scale.back() = inf; }, "not finite"},
      {"zero point 200", [](Operand& o) { o.zero_point.back() = 200; }, "outside"},
      {"zero point -129", [](Operand& o) { o.zero_point.back() = -129; }, "outside"},
  };
  int refusals = 0;
  for (const Spec& base : ValidSpecs()) {
    for (const auto& which : QuantizedOperands(base)) {
      for (const Spoil& sp : spoils) {
        Spec s = base;
        sp.apply(Pick(s, which));
        std::string err;
        const Status st = RunSpec(s, &err);
        const std::string where = base.name + (which.first ? " output " : " input ") +
                                  std::to_string(which.second) + ": " + sp.what;
        EXPECT_TRUE(st == Status::kCorruptModel || st == Status::kUnsupported) << where;
        EXPECT_NE(err.find(sp.message), std::string::npos) << where << " -> " << err;
        ++refusals;
      }
    }
  }
  EXPECT_GT(refusals, 100);
}

TEST(Int8Hostile, MissingAndMisplacedParameters) {
  std::string err;
  for (const Spec& base : ValidSpecs()) {
    for (const auto& which : QuantizedOperands(base)) {
      Spec s = base;
      Operand& o = Pick(s, which);
      if (o.dtype == DType::INT32) continue;  // a bias may omit its parameters
      o.scale.clear();
      o.zero_point.clear();
      EXPECT_EQ(RunSpec(s, &err), Status::kUnsupported) << base.name;
      EXPECT_NE(err.find("no quantization parameters"), std::string::npos) << err;
    }
  }
  // Activations quantized per axis.
  {
    Spec s = ValidSpecs()[0];
    Operand& x = s.inputs[0];
    x.scale = {0.1f, 0.1f, 0.1f, 0.1f};
    x.zero_point = {0, 0, 0, 0};
    x.axis = 1;
    EXPECT_EQ(RunSpec(s, &err), Status::kUnsupported);
    EXPECT_NE(err.find("per axis"), std::string::npos) << err;
  }
  // Conv weights per channel along the input-channel axis.
  {
    Spec s = ValidSpecs()[0];
    s.inputs[1].axis = 1;
    EXPECT_EQ(RunSpec(s, &err), Status::kUnsupported);
    EXPECT_NE(err.find("axis 1; this kernel takes axis 0"), std::string::npos) << err;
  }
  // A scale count that does not match the axis is refused when the model is loaded.
  {
    Spec s = ValidSpecs()[0];
    s.inputs[1].scale.pop_back();
    s.inputs[1].zero_point.pop_back();
    EXPECT_EQ(RunSpec(s, &err), Status::kCorruptModel);
    EXPECT_NE(err.find("inconsistent quantization"), std::string::npos) << err;
  }
  // A bias whose scale is not s_x * s_w, or whose zero point is not 0.
  {
    Spec s = ValidSpecs()[0];
    s.inputs[2] = s.inputs[2].Quantized(0.05f * 0.01f, 0);  // right for channel 0 only
    EXPECT_EQ(RunSpec(s, &err), Status::kUnsupported);
    EXPECT_NE(err.find("bias scale 1"), std::string::npos) << err;
    s.inputs[2].scale = {0.05f * 0.01f, 0.05f * 0.02f, 0.05f * 0.03f, 0.05f * 0.04f};
    s.inputs[2].zero_point = {0, 0, 0, 0};
    s.inputs[2].axis = 0;
    EXPECT_EQ(RunSpec(s, &err), Status::kOk) << err;
    s.inputs[2].zero_point[3] = 5;
    EXPECT_EQ(RunSpec(s, &err), Status::kUnsupported);
    EXPECT_NE(err.find("must be 0"), std::string::npos) << err;
  }
  // INT32 output: raw accumulators, so neither a bias nor an activation.
  {
    Spec s = ValidSpecs()[0];
    s.outputs[0] = Operand::Out({1, 4, 2, 2}, DType::INT32);
    EXPECT_EQ(RunSpec(s, &err), Status::kUnsupported);
    EXPECT_NE(err.find("no bias"), std::string::npos) << err;
    s.inputs.pop_back();
    EXPECT_EQ(RunSpec(s, &err), Status::kOk) << err;
  }
  // A fused hard-swish has no integer form; NaN clip bounds are corrupt.
  {
    Spec s = ValidSpecs()[0];
    s.options = [] {
      opm::Conv2DOptionsT o;
      o.activation = opm::Activation::HARD_SWISH;
      return Options(o);
    };
    EXPECT_EQ(RunSpec(s, &err), Status::kUnsupported);
    EXPECT_NE(err.find("HARD_SWISH"), std::string::npos) << err;
    s.options = [] {
      opm::Conv2DOptionsT o;
      o.activation = opm::Activation::CLIP;
      o.act_min = std::nanf("");
      return Options(o);
    };
    EXPECT_EQ(RunSpec(s, &err), Status::kCorruptModel);
    EXPECT_NE(err.find("NaN"), std::string::npos) << err;
  }
  // Max pooling moves values: new output parameters are refused.
  for (OpCode op : {OpCode::MAX_POOL_2D, OpCode::GLOBAL_MAX_POOL}) {
    opm::Pool2DOptionsT o;
    o.kernel_h = o.kernel_w = 2;
    const auto x = RandomInt8(16, 5);
    SingleOpModel m(op, op == OpCode::MAX_POOL_2D ? Options(o) : opm::OpOptionsUnion(),
                    {Int8({1, 4, 2, 2}, x, {0.1f, 0})}, {OutI8({1, 4, 1, 1}, {0.2f, 0})});
    EXPECT_EQ(m.Run(), Status::kUnsupported) << OpName(op);
    EXPECT_NE(m.error().find("quantized exactly as the input"), std::string::npos) << m.error();
  }
  // UINT8 zero points live in [0, 255].
  {
    std::vector<uint8_t> u(4, 7);
    SingleOpModel m(OpCode::DEQUANTIZE, {},
                    {Operand::Of<uint8_t>(DType::UINT8, {4}, u).Quantized(0.1f, -1)},
                    {Operand::Out({4})});
    EXPECT_EQ(m.Run(), Status::kCorruptModel);
    EXPECT_NE(m.error().find("outside [0, 255]"), std::string::npos) << m.error();
  }
}

// Random parameters, many of them invalid: each model is either refused with a message or
// runs (and, under the sanitizers, stays inside its tensors).
TEST(Int8Hostile, RandomParameters) {
  std::mt19937 rng(99);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const std::vector<float> scales = {0.0f,   -1.0f, std::nanf(""), 1e-30f, 1e-6f, 0.01f,
                                     0.3f,   7.0f,  1e6f,          1e30f,  std::numeric_limits<float>::infinity()};
  const std::vector<int64_t> zps = {-1000, -129, -128, -5, 0, 9, 127, 128, 1 << 20};
  int accepted = 0, refused = 0;
  for (int it = 0; it < 600; ++it) {
    const std::vector<Spec> specs = ValidSpecs();
    Spec s = specs[it % specs.size()];
    for (const auto& which : QuantizedOperands(s)) {
      Operand& o = Pick(s, which);
      if (pick(0, 2) == 0) continue;
      for (float& sc : o.scale) sc = scales[pick(0, static_cast<int>(scales.size()) - 1)];
      for (int64_t& z : o.zero_point) z = zps[pick(0, static_cast<int>(zps.size()) - 1)];
    }
    std::string err;
    const Status st = RunSpec(s, &err);
    if (st == Status::kOk) {
      ++accepted;
    } else {
      ++refused;
      EXPECT_TRUE(st == Status::kCorruptModel || st == Status::kUnsupported)
          << s.name << ": " << StatusName(st) << " " << err;
      EXPECT_FALSE(err.empty()) << s.name;
    }
  }
  EXPECT_GT(accepted, 50);
  EXPECT_GT(refused, 50);
}

TEST(Int8Hostile, EveryInt8OpHasAKernel) {
  AllOpsResolver resolver;
  ASSERT_EQ(RegisterAllKernels(resolver), Status::kOk);
  for (OpCode op : {OpCode::CONV_2D, OpCode::FULLY_CONNECTED, OpCode::MATMUL, OpCode::ADD,
                    OpCode::SUB, OpCode::MUL, OpCode::CONCAT, OpCode::MAX_POOL_2D,
                    OpCode::AVERAGE_POOL_2D, OpCode::GLOBAL_MAX_POOL, OpCode::GLOBAL_AVERAGE_POOL,
                    OpCode::RELU, OpCode::CLIP, OpCode::LEAKY_RELU, OpCode::SIGMOID, OpCode::TANH,
                    OpCode::HARD_SIGMOID, OpCode::HARD_SWISH, OpCode::SOFTMAX, OpCode::QUANTIZE,
                    OpCode::DEQUANTIZE, OpCode::RESHAPE, OpCode::TRANSPOSE, OpCode::PAD,
                    OpCode::SLICE, OpCode::SPLIT})
    EXPECT_NE(resolver.Find(op, DType::INT8), nullptr) << OpName(op);
  EXPECT_NE(resolver.Find(OpCode::QUANTIZE, DType::FLOAT32), nullptr);
  EXPECT_NE(resolver.Find(OpCode::QUANTIZE, DType::UINT8), nullptr);
  for (DType dt : {DType::UINT8, DType::INT32, DType::FLOAT16})
    EXPECT_NE(resolver.Find(OpCode::DEQUANTIZE, dt), nullptr) << DTypeName(dt);
}

}  // namespace
}  // namespace outpost::testing
