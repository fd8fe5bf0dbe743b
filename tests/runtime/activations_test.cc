#include <cmath>

#include <gtest/gtest.h>

#include "tests/support/single_op_model.h"

namespace outpost::testing {
namespace {

std::vector<float> RunUnary(opm::OpCode op, opm::OpOptionsUnion opts, const std::vector<float>& x) {
  SingleOpModel m(op, std::move(opts), {Operand::F32({1, static_cast<int32_t>(x.size())}, x)},
                  {Operand::Out({1, static_cast<int32_t>(x.size())})});
  EXPECT_EQ(m.Run(), Status::kOk) << m.error();
  return m.OutputF32(0);
}

TEST(Activations, Relu) {
  EXPECT_EQ(RunUnary(opm::OpCode::RELU, {}, {-2, -0.5f, 0, 1.5f}),
            (std::vector<float>{0, 0, 0, 1.5f}));
}

TEST(Activations, ClipAppliesMinThenMax) {
  opm::OpOptionsUnion o;
  auto c = std::make_unique<opm::ClipOptionsT>();
  c->min = -1;
  c->max = 2;
  o.Set(*c);
  EXPECT_EQ(RunUnary(opm::OpCode::CLIP, o, {-5, -1, 0.5f, 3}), (std::vector<float>{-1, -1, 0.5f, 2}));
}

TEST(Activations, HardSwish) {
  const auto y = RunUnary(opm::OpCode::HARD_SWISH, {}, {-4, -1, 0, 1, 4});
  const float want[] = {0, -1.f / 3, 0, 4.f / 6, 4};
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(y[i], want[i], 1e-6f);
}

TEST(Activations, ShapeMismatchIsRefused) {
  SingleOpModel m(opm::OpCode::RELU, {}, {Operand::F32({1, 4}, {1, 2, 3, 4})},
                  {Operand::Out({1, 3})});
  EXPECT_EQ(m.Run(), Status::kShapeMismatch);
  EXPECT_NE(m.error().find("shape"), std::string::npos) << m.error();
}

}  // namespace
}  // namespace outpost::testing
