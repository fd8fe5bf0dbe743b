#include <gtest/gtest.h>

#include "tests/support/single_op_model.h"

namespace outpost::testing {
namespace {

TEST(Binary, MissingOptionsAreRefused) {
  // [1,2,2,2] + [2,1,1]: a per-channel bias.
  SingleOpModel m(opm::OpCode::ADD, opm::OpOptionsUnion(),
                  {Operand::F32({1, 2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7}),
                   Operand::F32({2, 1, 1}, {10, 20}, /*constant=*/true)},
                  {Operand::Out({1, 2, 2, 2})});
  ASSERT_EQ(m.Run(), Status::kCorruptModel) << "BinaryOptions are required";
}

opm::OpOptionsUnion BinaryOpts(opm::Activation a = opm::Activation::NONE) {
  opm::OpOptionsUnion o;
  opm::BinaryOptionsT b;
  b.activation = a;
  o.Set(b);
  return o;
}

TEST(Binary, AddBroadcastsPerChannel) {
  SingleOpModel m(opm::OpCode::ADD, BinaryOpts(),
                  {Operand::F32({1, 2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7}),
                   Operand::F32({2, 1, 1}, {10, 20}, /*constant=*/true)},
                  {Operand::Out({1, 2, 2, 2})});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  EXPECT_EQ(m.OutputF32(0), (std::vector<float>{10, 11, 12, 13, 24, 25, 26, 27}));
}

TEST(Binary, SubBroadcastsBothWaysWithFusedRelu) {
  // [2,1] - [1,3] -> [2,3], then relu.
  SingleOpModel m(opm::OpCode::SUB, BinaryOpts(opm::Activation::RELU),
                  {Operand::F32({2, 1}, {1, 5}), Operand::F32({1, 3}, {0, 2, 4})},
                  {Operand::Out({2, 3})});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  EXPECT_EQ(m.OutputF32(0), (std::vector<float>{1, 0, 0, 5, 3, 1}));
}

TEST(Binary, IncompatibleShapesAreRefused) {
  SingleOpModel m(opm::OpCode::MUL, BinaryOpts(),
                  {Operand::F32({2, 3}, {1, 2, 3, 4, 5, 6}), Operand::F32({2}, {1, 2})},
                  {Operand::Out({2, 3})});
  EXPECT_EQ(m.Run(), Status::kShapeMismatch) << m.error();
}

}  // namespace
}  // namespace outpost::testing
