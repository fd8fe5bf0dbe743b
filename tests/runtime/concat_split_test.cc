// CONCAT and SPLIT reference kernels, for every dtype they are registered for.
#include <gtest/gtest.h>

#include "tests/runtime/kernel_test_util.h"

namespace outpost::testing {
namespace {

opm::OpOptionsUnion ConcatOpts(int axis) {
  opm::ConcatOptionsT o;
  o.axis = axis;
  return Options(o);
}

opm::OpOptionsUnion SplitOpts(int axis) {
  opm::SplitOptionsT o;
  o.axis = axis;
  return Options(o);
}

// Index arithmetic for a row-major tensor, used to build expected outputs independently.
int64_t Offset(const std::vector<int32_t>& shape, const std::vector<int64_t>& idx) {
  int64_t o = 0;
  for (size_t i = 0; i < shape.size(); ++i) o = o * shape[i] + idx[i];
  return o;
}

std::vector<int64_t> Unravel(const std::vector<int32_t>& shape, int64_t e) {
  std::vector<int64_t> idx(shape.size());
  for (size_t i = shape.size(); i-- > 0;) {
    idx[i] = e % shape[i];
    e /= shape[i];
  }
  return idx;
}

template <typename T>
class ConcatSplit : public ::testing::Test {};
TYPED_TEST_SUITE(ConcatSplit, MoveTypes);

TYPED_TEST(ConcatSplit, ConcatHandChecked) {
  using T = TypeParam;
  // [2,2] ++ [2,1] along axis 1 (given as -1), the second input constant.
  SingleOpModel m(opm::OpCode::CONCAT, ConcatOpts(-1),
                  {Typed<T>({2, 2}, {1, 2, 3, 4}), Typed<T>({2, 1}, {9, 8}, true)},
                  {TypedOut<T>({2, 3})});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  EXPECT_EQ(OutputInts<T>(m, 0), (std::vector<int>{1, 2, 9, 3, 4, 8}));
  EXPECT_NE(std::string(m.interpreter().kernel(0)->name).find("concat_"), std::string::npos);
}

TYPED_TEST(ConcatSplit, ConcatEveryAxisOfRank4) {
  using T = TypeParam;
  const std::vector<int32_t> base = {2, 3, 2, 5};
  for (int axis = 0; axis < 4; ++axis) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    // Three inputs of sizes 1, 2 and 3 along `axis`.
    std::vector<std::vector<int32_t>> shapes;
    std::vector<std::vector<int>> values;
    std::vector<Operand> ins;
    std::vector<int32_t> out = base;
    out[axis] = 6;
    for (int k = 0; k < 3; ++k) {
      std::vector<int32_t> s = base;
      s[axis] = k + 1;
      shapes.push_back(s);
      values.push_back(Sequence(Product(s), 40 * k));
      ins.push_back(Typed<T>(s, values.back(), k == 1));
    }
    SingleOpModel m(opm::OpCode::CONCAT, ConcatOpts(axis - (axis % 2 ? 4 : 0)), ins,
                    {TypedOut<T>(out)});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    std::vector<int> want(Product(out));
    for (int64_t e = 0; e < Product(out); ++e) {
      std::vector<int64_t> idx = Unravel(out, e);
      int k = 0;
      while (idx[axis] >= shapes[k][axis]) idx[axis] -= shapes[k++][axis];
      want[e] = values[k][Offset(shapes[k], idx)];
    }
    EXPECT_EQ(OutputInts<T>(m, 0), want);
  }
}

TYPED_TEST(ConcatSplit, SplitUnequalParts) {
  using T = TypeParam;
  // [2,6] split along axis 1 into 1, 3 and 2 columns.
  SingleOpModel m(opm::OpCode::SPLIT, SplitOpts(1), {Typed<T>({2, 6}, Sequence(12))},
                  {TypedOut<T>({2, 1}), TypedOut<T>({2, 3}), TypedOut<T>({2, 2})});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  EXPECT_EQ(OutputInts<T>(m, 0), (std::vector<int>{0, 6}));
  EXPECT_EQ(OutputInts<T>(m, 1), (std::vector<int>{1, 2, 3, 7, 8, 9}));
  EXPECT_EQ(OutputInts<T>(m, 2), (std::vector<int>{4, 5, 10, 11}));
}

TYPED_TEST(ConcatSplit, SplitThenConcatRoundTrips) {
  using T = TypeParam;
  const std::vector<int32_t> shape = {3, 7, 2};
  const auto x = Sequence(Product(shape), 5);
  for (int axis = -3; axis < 3; ++axis) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    const int a = axis < 0 ? axis + 3 : axis;
    std::vector<int32_t> s1 = shape, s2 = shape;
    s1[a] = 1;
    s2[a] = shape[a] - 1;
    SingleOpModel split(opm::OpCode::SPLIT, SplitOpts(axis), {Typed<T>(shape, x)},
                        {TypedOut<T>(s1), TypedOut<T>(s2)});
    ASSERT_EQ(split.Run(), Status::kOk) << split.error();
    SingleOpModel concat(
        opm::OpCode::CONCAT, ConcatOpts(axis),
        {Typed<T>(s1, OutputInts<T>(split, 0)), Typed<T>(s2, OutputInts<T>(split, 1))},
        {TypedOut<T>(shape)});
    ASSERT_EQ(concat.Run(), Status::kOk) << concat.error();
    EXPECT_EQ(OutputInts<T>(concat, 0), x);
  }
}

TEST(Concat, SingleInputIsACopy) {
  SingleOpModel m(opm::OpCode::CONCAT, ConcatOpts(0), {Operand::F32({3}, {1, 2, 3})},
                  {Operand::Out({3})});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  EXPECT_EQ(m.OutputF32(0), (std::vector<float>{1, 2, 3}));
}

TEST(Concat, RefusesInconsistentModels) {
  auto run = [](int axis, std::vector<Operand> ins, std::vector<int32_t> out, std::string* e,
                opm::DType dt = opm::DType::FLOAT32) {
    SingleOpModel m(opm::OpCode::CONCAT, ConcatOpts(axis), std::move(ins), {Operand::Out(out, dt)});
    const Status s = m.Run();
    *e = m.error();
    return s;
  };
  const Operand a = Operand::F32({2, 2}, {1, 2, 3, 4}), b = Operand::F32({2, 1}, {5, 6});
  std::string e;
  ASSERT_EQ(run(1, {a, b}, {2, 3}, &e), Status::kOk) << e;
  EXPECT_EQ(run(1, {a, b}, {2, 4}, &e), Status::kShapeMismatch);
  EXPECT_NE(e.find("sum to 3"), std::string::npos) << e;
  EXPECT_EQ(run(0, {a, b}, {4, 2}, &e), Status::kShapeMismatch);
  EXPECT_NE(e.find("axis 1"), std::string::npos) << e;
  EXPECT_EQ(run(1, {a, Operand::F32({2}, {5, 6})}, {2, 3}, &e), Status::kShapeMismatch);
  EXPECT_NE(e.find("rank"), std::string::npos) << e;
  EXPECT_EQ(run(2, {a, b}, {2, 3}, &e), Status::kCorruptModel);
  EXPECT_EQ(run(-3, {a, b}, {2, 3}, &e), Status::kCorruptModel);
  EXPECT_EQ(run(1, {a, Operand::Absent(), b}, {2, 3}, &e), Status::kCorruptModel);
  EXPECT_NE(e.find("missing"), std::string::npos) << e;
  // Mixed dtypes.
  EXPECT_EQ(run(1, {a, Typed<int32_t>({2, 1}, {5, 6})}, {2, 3}, &e), Status::kUnsupported);
  EXPECT_EQ(run(1, {a, b}, {2, 3}, &e, opm::DType::INT32), Status::kUnsupported);
}

TEST(Concat, Int8RequantizesInputsQuantizedDifferently) {
  const Operand a = Typed<int8_t>({1, 2}, {1, 2}).Quantized(0.5f, 3);
  const Operand b = Typed<int8_t>({1, 1}, {7}).Quantized(0.5f, 3);
  {
    SingleOpModel m(opm::OpCode::CONCAT, ConcatOpts(1), {a, b},
                    {Operand::Out({1, 3}, opm::DType::INT8).Quantized(0.5f, 3)});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(OutputInts<int8_t>(m, 0), (std::vector<int>{1, 2, 7}));
  }
  {
    // b = 0.25 * (7 - 3) = 1.0 is 2 steps of 0.5 above the zero point 3.
    SingleOpModel m(opm::OpCode::CONCAT, ConcatOpts(1), {a, b.Quantized(0.25f, 3)},
                    {Operand::Out({1, 3}, opm::DType::INT8).Quantized(0.5f, 3)});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(OutputInts<int8_t>(m, 0), (std::vector<int>{1, 2, 5}));
  }
  {
    // Output zero point 4: every value moves up by one.
    SingleOpModel m(opm::OpCode::CONCAT, ConcatOpts(1), {a, b},
                    {Operand::Out({1, 3}, opm::DType::INT8).Quantized(0.5f, 4)});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(OutputInts<int8_t>(m, 0), (std::vector<int>{2, 3, 8}));
  }
  {
    // Quantized and plain int8 operands do not mix.
    SingleOpModel m(opm::OpCode::CONCAT, ConcatOpts(1), {a, Typed<int8_t>({1, 1}, {7})},
                    {Operand::Out({1, 3}, opm::DType::INT8).Quantized(0.5f, 3)});
    EXPECT_EQ(m.Run(), Status::kUnsupported);
    EXPECT_NE(m.error().find("no quantization parameters"), std::string::npos) << m.error();
  }
  {
    // Other dtypes move bytes: their quantization must match.
    const Operand ua = Typed<uint8_t>({1, 2}, {1, 2}).Quantized(0.5f, 3);
    SingleOpModel m(opm::OpCode::CONCAT, ConcatOpts(1),
                    {ua, Typed<uint8_t>({1, 1}, {7}).Quantized(0.25f, 3)},
                    {Operand::Out({1, 3}, opm::DType::UINT8).Quantized(0.5f, 3)});
    EXPECT_EQ(m.Run(), Status::kUnsupported);
    EXPECT_NE(m.error().find("quantized differently"), std::string::npos) << m.error();
  }
}

TEST(Split, RefusesInconsistentModels) {
  auto run = [](int axis, std::vector<std::vector<int32_t>> outs, std::string* e) {
    std::vector<Operand> o;
    for (auto& s : outs) o.push_back(Operand::Out(s));
    SingleOpModel m(opm::OpCode::SPLIT, SplitOpts(axis),
                    {Operand::F32({4, 3}, std::vector<float>(12, 1))}, o);
    const Status s = m.Run();
    *e = m.error();
    return s;
  };
  std::string e;
  ASSERT_EQ(run(0, {{1, 3}, {3, 3}}, &e), Status::kOk) << e;
  ASSERT_EQ(run(0, {{4, 3}}, &e), Status::kOk) << e;
  EXPECT_EQ(run(0, {{1, 3}, {2, 3}}, &e), Status::kShapeMismatch);
  EXPECT_NE(e.find("sum to 3"), std::string::npos) << e;
  EXPECT_EQ(run(0, {{1, 3}, {4, 3}}, &e), Status::kShapeMismatch);
  EXPECT_EQ(run(0, {{1, 3}, {3, 2}}, &e), Status::kShapeMismatch);
  EXPECT_EQ(run(0, {{1, 3}, {3}}, &e), Status::kShapeMismatch);
  EXPECT_EQ(run(2, {{4, 3}}, &e), Status::kCorruptModel);
  SingleOpModel wrong_type(opm::OpCode::SPLIT, SplitOpts(0), {Operand::F32({2}, {1, 2})},
                           {Operand::Out({1}), Operand::Out({1}, opm::DType::INT64)});
  EXPECT_EQ(wrong_type.Run(), Status::kUnsupported);
}

}  // namespace
}  // namespace outpost::testing
