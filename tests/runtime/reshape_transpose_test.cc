// RESHAPE and TRANSPOSE reference kernels, for every dtype they are registered for.
#include <gtest/gtest.h>

#include "tests/runtime/kernel_test_util.h"

namespace outpost::testing {
namespace {

opm::OpOptionsUnion PermOpts(std::vector<int32_t> perm) {
  opm::TransposeOptionsT o;
  o.perm = std::move(perm);
  return Options(o);
}

template <typename T>
class ReshapeTranspose : public ::testing::Test {};
TYPED_TEST_SUITE(ReshapeTranspose, MoveTypes);

TYPED_TEST(ReshapeTranspose, ReshapeKeepsBytes) {
  using T = TypeParam;
  const auto x = Sequence(24, 3);
  SingleOpModel m(opm::OpCode::RESHAPE, {}, {Typed<T>({2, 3, 4}, x)}, {TypedOut<T>({4, 6})});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  EXPECT_EQ(OutputInts<T>(m, 0), x);
}

// Expected transpose by definition: out[i0..ik] = in[i_perm^-1...], via unravel / ravel.
std::vector<int> TransposeReference(const std::vector<int32_t>& shape, const std::vector<int>& x,
                                    const std::vector<int32_t>& perm) {
  const size_t r = shape.size();
  std::vector<int32_t> out(r);
  for (size_t i = 0; i < r; ++i) out[i] = shape[perm[i]];
  std::vector<int> y(x.size());
  for (int64_t e = 0; e < static_cast<int64_t>(x.size()); ++e) {
    std::vector<int64_t> oi(r), ii(r);
    int64_t rem = e;
    for (size_t i = r; i-- > 0;) {
      oi[i] = rem % out[i];
      rem /= out[i];
    }
    for (size_t i = 0; i < r; ++i) ii[perm[i]] = oi[i];
    int64_t off = 0;
    for (size_t i = 0; i < r; ++i) off = off * shape[i] + ii[i];
    y[e] = x[off];
  }
  return y;
}

TYPED_TEST(ReshapeTranspose, TransposeMatchesDefinition) {
  using T = TypeParam;
  const std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>> cases = {
      {{5}, {0}},
      {{3, 4}, {1, 0}},
      {{2, 3, 4, 5}, {0, 2, 3, 1}},  // NCHW -> NHWC
      {{2, 5, 3, 4}, {0, 3, 1, 2}},  // NHWC -> NCHW
      {{3, 1, 2, 5}, {3, 2, 1, 0}},
      {{2, 3, 1, 2, 3, 2}, {5, 0, 4, 2, 1, 3}}};
  for (const auto& [shape, perm] : cases) {
    const auto x = Sequence(Product(shape), 7);
    std::vector<int32_t> out(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) out[i] = shape[perm[i]];
    SingleOpModel m(opm::OpCode::TRANSPOSE, PermOpts(perm), {Typed<T>(shape, x)},
                    {TypedOut<T>(out)});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(OutputInts<T>(m, 0), TransposeReference(shape, x, perm));
  }
}

TYPED_TEST(ReshapeTranspose, TransposeWithoutPermReversesAxes) {
  using T = TypeParam;
  const auto x = Sequence(24);
  SingleOpModel m(opm::OpCode::TRANSPOSE, PermOpts({}), {Typed<T>({2, 3, 4}, x)},
                  {TypedOut<T>({4, 3, 2})});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  EXPECT_EQ(OutputInts<T>(m, 0), TransposeReference({2, 3, 4}, x, {2, 1, 0}));
}

TEST(Reshape, AcceptsOnnxShapeInputAndRefusesCountMismatch) {
  {
    SingleOpModel m(
        opm::OpCode::RESHAPE, {},
        {Operand::F32({2, 3}, {1, 2, 3, 4, 5, 6}), Typed<int64_t>({2}, {3, 2}, /*constant=*/true)},
        {Operand::Out({3, 2})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(m.OutputF32(0), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  }
  {
    SingleOpModel m(opm::OpCode::RESHAPE, {}, {Operand::F32({2, 3}, {1, 2, 3, 4, 5, 6})},
                    {Operand::Out({4, 2})});
    EXPECT_EQ(m.Run(), Status::kShapeMismatch);
    EXPECT_NE(m.error().find("elements"), std::string::npos) << m.error();
  }
  {
    SingleOpModel m(opm::OpCode::RESHAPE, {}, {Operand::F32({2}, {1, 2})},
                    {Operand::Out({2}, opm::DType::INT32)});
    EXPECT_EQ(m.Run(), Status::kUnsupported);
  }
}

TEST(Transpose, RefusesBadPermutations) {
  auto run = [](std::vector<int32_t> perm, std::vector<int32_t> out, std::string* e) {
    SingleOpModel m(opm::OpCode::TRANSPOSE, PermOpts(std::move(perm)),
                    {Operand::F32({2, 3, 4}, std::vector<float>(24, 0))}, {Operand::Out(out)});
    const Status s = m.Run();
    *e = m.error();
    return s;
  };
  std::string e;
  ASSERT_EQ(run({1, 2, 0}, {3, 4, 2}, &e), Status::kOk) << e;
  EXPECT_EQ(run({1, 1, 0}, {3, 3, 2}, &e), Status::kCorruptModel);
  EXPECT_NE(e.find("not a permutation"), std::string::npos) << e;
  EXPECT_EQ(run({1, 3, 0}, {3, 4, 2}, &e), Status::kCorruptModel);
  EXPECT_EQ(run({-1, 2, 0}, {3, 4, 2}, &e), Status::kCorruptModel);
  EXPECT_EQ(run({1, 0}, {3, 2, 4}, &e), Status::kCorruptModel);
  EXPECT_EQ(run({1, 0, 2, 3}, {3, 2, 4}, &e), Status::kCorruptModel);
  EXPECT_EQ(run({1, 2, 0}, {3, 2, 4}, &e), Status::kShapeMismatch);
  EXPECT_EQ(run({1, 2, 0}, {3, 8}, &e), Status::kShapeMismatch);
}

}  // namespace
}  // namespace outpost::testing
