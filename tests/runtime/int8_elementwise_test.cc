// Element-wise INT8 kernels (ADD, SUB, MUL with broadcasting; the table-driven activations;
// SOFTMAX) against the float kernels run on the dequantized inputs.
#include <gtest/gtest.h>

#include "tests/runtime/int8_test_util.h"

namespace outpost::testing {
namespace {

using opm::Activation;
using opm::OpCode;

// ---------------------------------------------------------------------------- ADD, SUB, MUL

struct QBinary {
  OpCode op = OpCode::ADD;
  std::vector<int32_t> a_shape, b_shape, y_shape;
  QParams a{0.05f, 10}, b{0.02f, -30};
  Activation act = Activation::NONE;
  float act_min = 0, act_max = 0;
};

opm::OpOptionsUnion BinaryOpts(const QBinary& c) {
  opm::BinaryOptionsT o;
  o.activation = c.act;
  o.act_min = c.act_min;
  o.act_max = c.act_max;
  return Options(o);
}

void CheckBinary(const QBinary& c, uint32_t seed, const std::string& what) {
  SCOPED_TRACE(what);
  const auto a = RandomInt8(Product(c.a_shape), seed);
  const auto b = RandomInt8(Product(c.b_shape), seed + 1);
  SingleOpModel fm(c.op, BinaryOpts(c),
                   {Operand::F32(c.a_shape, Dequantize(a, c.a)),
                    Operand::F32(c.b_shape, Dequantize(b, c.b))},
                   {Operand::Out(c.y_shape)});
  ASSERT_EQ(fm.Run(), Status::kOk) << fm.error();
  const auto ref = fm.OutputF32(0);
  const QParams out = ParamsCovering(ref);
  SingleOpModel m(c.op, BinaryOpts(c), {Int8(c.a_shape, a, c.a), Int8(c.b_shape, b, c.b)},
                  {OutI8(c.y_shape, out)});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  ExpectWithinLsb(CompareWithFloat(m.Output<int8_t>(0), ref, out), 1, what);
}

TEST(BinaryInt8, MatchesFloatKernels) {
  for (OpCode op : {OpCode::ADD, OpCode::SUB, OpCode::MUL}) {
    const std::string name = OpName(op);
    QBinary c;
    c.op = op;
    c.a_shape = c.b_shape = c.y_shape = {2, 3, 17};
    CheckBinary(c, 1, name + " same shape");
    c.b_shape = {3, 1};
    CheckBinary(c, 2, name + " broadcast [2,3,17] x [3,1]");
    c.a_shape = {1}, c.b_shape = {4, 5}, c.y_shape = {4, 5};
    CheckBinary(c, 3, name + " scalar x [4,5]");
    c.a_shape = {2, 1, 6}, c.b_shape = {5, 1}, c.y_shape = {2, 5, 6};
    c.b = {0.5f, 127};  // very different scales, extreme zero point
    CheckBinary(c, 4, name + " both broadcast, scales 25x apart");
    c.a_shape = c.b_shape = c.y_shape = {64};
    c.b = {0.05f, 10};  // equal parameters
    c.act = Activation::RELU;
    CheckBinary(c, 5, name + " equal params, relu");
    c.act = Activation::CLIP, c.act_min = -3.0f, c.act_max = 5.0f;
    CheckBinary(c, 6, name + " clip");
  }
}

TEST(BinaryInt8, HandChecked) {
  // 0.5 * (3 - 1) + 0.25 * (10 - 2) = 3 at scale 0.1, zero point 5 -> 35; minus -> -1 -> -5.
  const std::vector<Operand> ins = {Int8({1}, {3}, {0.5f, 1}), Int8({1}, {10}, {0.25f, 2})};
  SingleOpModel add(OpCode::ADD, Options(opm::BinaryOptionsT()), ins, {OutI8({1}, {0.1f, 5})});
  ASSERT_EQ(add.Run(), Status::kOk) << add.error();
  EXPECT_EQ(OutputInts<int8_t>(add, 0), std::vector<int>{35});
  SingleOpModel sub(OpCode::SUB, Options(opm::BinaryOptionsT()), ins, {OutI8({1}, {0.1f, 5})});
  ASSERT_EQ(sub.Run(), Status::kOk) << sub.error();
  EXPECT_EQ(OutputInts<int8_t>(sub, 0), std::vector<int>{-5});
  SingleOpModel mul(OpCode::MUL, Options(opm::BinaryOptionsT()), ins, {OutI8({1}, {0.1f, 5})});
  ASSERT_EQ(mul.Run(), Status::kOk) << mul.error();
  EXPECT_EQ(OutputInts<int8_t>(mul, 0), std::vector<int>{25});  // 1 * 2 = 2 -> 20 + 5
}

// ---------------------------------------------------------------------------- activations

struct QUnary {
  OpCode op;
  opm::OpOptionsUnion options;
  std::string name;
};

std::vector<QUnary> Activations() {
  std::vector<QUnary> v;
  v.push_back({OpCode::RELU, {}, "relu"});
  opm::ClipOptionsT clip;
  clip.min = -0.7f;
  clip.max = 1.9f;
  v.push_back({OpCode::CLIP, Options(clip), "clip"});
  opm::LeakyReluOptionsT leaky;
  leaky.alpha = 0.1f;
  v.push_back({OpCode::LEAKY_RELU, Options(leaky), "leaky_relu"});
  v.push_back({OpCode::SIGMOID, {}, "sigmoid"});
  v.push_back({OpCode::TANH, {}, "tanh"});
  opm::HardSigmoidOptionsT hs;
  v.push_back({OpCode::HARD_SIGMOID, Options(hs), "hard_sigmoid"});
  v.push_back({OpCode::HARD_SWISH, {}, "hard_swish"});
  return v;
}

// All 256 inputs through the int8 kernel and through the float kernel.
void CheckUnary(const QUnary& u, QParams in, const QParams* fixed_out, const std::string& what) {
  SCOPED_TRACE(what);
  std::vector<int8_t> x(256);
  for (int i = 0; i < 256; ++i) x[i] = static_cast<int8_t>(i - 128);
  SingleOpModel fm(u.op, u.options, {Operand::F32({256}, Dequantize(x, in))},
                   {Operand::Out({256})});
  ASSERT_EQ(fm.Run(), Status::kOk) << fm.error();
  const auto ref = fm.OutputF32(0);
  const QParams out = fixed_out ? *fixed_out : ParamsCovering(ref, 1.0);
  SingleOpModel m(u.op, u.options, {Int8({256}, x, in)}, {OutI8({256}, out)});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  const LsbStats s = CompareWithFloat(m.Output<int8_t>(0), ref, out);
  EXPECT_LE(s.max_error, 1) << what;
  std::printf("[ int8 vs float ] %-44s max %d LSB, %zu of %zu exact\n", what.c_str(), s.max_error,
              s.exact, s.count);
}

TEST(ActivationsInt8, MatchFloatKernelsOnEveryInput) {
  for (const QUnary& u : Activations()) {
    CheckUnary(u, {0.05f, 0}, nullptr, u.name + " in (0.05, 0)");
    CheckUnary(u, {0.031f, -77}, nullptr, u.name + " in (0.031, -77)");
    CheckUnary(u, {0.2f, 100}, nullptr, u.name + " in (0.2, 100)");
  }
}

TEST(ActivationsInt8, TfliteOutputParameters) {
  const QParams sig{1.0f / 256, -128}, tanh{1.0f / 128, 0};
  for (const QUnary& u : Activations()) {
    if (u.op == OpCode::SIGMOID) CheckUnary(u, {0.08f, 3}, &sig, "sigmoid out (1/256, -128)");
    if (u.op == OpCode::TANH) CheckUnary(u, {0.03f, -5}, &tanh, "tanh out (1/128, 0)");
  }
}

TEST(ActivationsInt8, InPlaceSafe) {
  // Equal parameters for RELU: every value below the zero point becomes the zero point.
  std::vector<int8_t> x = RandomInt8(100, 9);
  SingleOpModel m(OpCode::RELU, {}, {Int8({100}, x, {0.1f, -20})}, {OutI8({100}, {0.1f, -20})});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  const auto y = m.Output<int8_t>(0);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], std::max<int>(x[i], -20)) << i;
}

// ---------------------------------------------------------------------------- SOFTMAX

void CheckSoftmax(std::vector<int32_t> shape, int axis, QParams in, QParams out, uint32_t seed,
                  int bound, const std::string& what) {
  SCOPED_TRACE(what);
  const auto x = RandomInt8(Product(shape), seed);
  opm::SoftmaxOptionsT o;
  o.axis = axis;
  SingleOpModel fm(OpCode::SOFTMAX, Options(o), {Operand::F32(shape, Dequantize(x, in))},
                   {Operand::Out(shape)});
  ASSERT_EQ(fm.Run(), Status::kOk) << fm.error();
  const auto ref = fm.OutputF32(0);
  SingleOpModel m(OpCode::SOFTMAX, Options(o), {Int8(shape, x, in)}, {OutI8(shape, out)});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  const LsbStats s = CompareWithFloat(m.Output<int8_t>(0), ref, out);
  EXPECT_LE(s.max_error, bound) << what;
  std::printf("[ int8 vs float ] %-44s max %d LSB, %zu of %zu exact\n", what.c_str(), s.max_error,
              s.exact, s.count);
}

TEST(SoftmaxInt8, MatchesFloatKernel) {
  const QParams tfl{1.0f / 256, -128};
  CheckSoftmax({4, 10}, -1, {0.1f, 0}, tfl, 1, 1, "softmax 10 classes");
  CheckSoftmax({2, 1000}, 1, {0.05f, -10}, tfl, 2, 1, "softmax 1000 classes");
  CheckSoftmax({3, 7, 5}, 1, {0.3f, 20}, tfl, 3, 1, "softmax middle axis");
  CheckSoftmax({5, 33}, -1, {0.02f, 0}, {1.0f / 300, -100}, 4, 1, "softmax other out params");
  CheckSoftmax({2, 4}, -1, {2.0f, 0}, {0.004f, -128}, 5, 1, "softmax large input scale");
}

}  // namespace
}  // namespace outpost::testing
