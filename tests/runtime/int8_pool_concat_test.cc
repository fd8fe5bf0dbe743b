// INT8 pooling and CONCAT against the float kernels, and the byte-moving kernels (RESHAPE,
// TRANSPOSE, PAD, SLICE, SPLIT) on quantized tensors: they need equal parameters, and PAD
// quantizes its constant.
#include <gtest/gtest.h>

#include "tests/runtime/int8_test_util.h"

namespace outpost::testing {
namespace {

using opm::OpCode;

// ---------------------------------------------------------------------------- pooling

struct QPool {
  OpCode op = OpCode::AVERAGE_POOL_2D;
  std::vector<int32_t> x_shape, y_shape;
  opm::Pool2DOptionsT o;
  QParams in{0.07f, -9};
  bool same_params = false;  // output quantized as the input
};

opm::OpOptionsUnion PoolOpts(const QPool& c) {
  if (c.op == OpCode::GLOBAL_AVERAGE_POOL || c.op == OpCode::GLOBAL_MAX_POOL) return {};
  return Options(c.o);
}

// Returns the max error.
int CheckPool(const QPool& c, uint32_t seed, const std::string& what) {
  SCOPED_TRACE(what);
  const auto x = RandomInt8(Product(c.x_shape), seed);
  SingleOpModel fm(c.op, PoolOpts(c), {Operand::F32(c.x_shape, Dequantize(x, c.in))},
                   {Operand::Out(c.y_shape)});
  EXPECT_EQ(fm.Run(), Status::kOk) << fm.error();
  const auto ref = fm.OutputF32(0);
  const QParams out = c.same_params ? c.in : ParamsCovering(ref);
  SingleOpModel m(c.op, PoolOpts(c), {Int8(c.x_shape, x, c.in)}, {OutI8(c.y_shape, out)});
  EXPECT_EQ(m.Run(), Status::kOk) << m.error();
  const LsbStats s = CompareWithFloat(m.Output<int8_t>(0), ref, out);
  ExpectWithinLsb(s, 1, what);
  return s.max_error;
}

TEST(PoolingInt8, MatchesFloatKernels) {
  QPool c;
  c.x_shape = {2, 3, 11, 13};
  c.o.kernel_h = 3, c.o.kernel_w = 2, c.o.stride_h = 2, c.o.stride_w = 3;
  c.o.pad_top = 1, c.o.pad_left = 1, c.o.pad_bottom = 1;
  c.y_shape = {2, 3, 6, 5};
  CheckPool(c, 1, "average pool, padded, new params");
  c.same_params = true;
  CheckPool(c, 2, "average pool, same params");
  c.o.count_include_pad = true;
  c.same_params = false;
  CheckPool(c, 3, "average pool, count_include_pad");
  c.o.dilation_h = 2, c.o.count_include_pad = false;
  c.y_shape = {2, 3, 5, 5};
  CheckPool(c, 4, "average pool, dilated");
  c.op = OpCode::MAX_POOL_2D;
  c.same_params = true;
  EXPECT_EQ(CheckPool(c, 5, "max pool"), 0) << "max pooling only moves values";
  c.op = OpCode::GLOBAL_AVERAGE_POOL;
  c.x_shape = {2, 5, 7, 9}, c.y_shape = {2, 5, 1, 1};
  c.same_params = false;
  CheckPool(c, 6, "global average pool");
  c.same_params = true;
  CheckPool(c, 7, "global average pool, same params");
  c.x_shape = {1, 3, 224, 224}, c.y_shape = {1, 3, 1, 1};
  CheckPool(c, 8, "global average pool 224x224");
  c.op = OpCode::GLOBAL_MAX_POOL;
  c.x_shape = {2, 5, 7, 9}, c.y_shape = {2, 5, 1, 1};
  EXPECT_EQ(CheckPool(c, 9, "global max pool"), 0) << "max pooling only moves values";
}

TEST(PoolingInt8, AverageRoundsHalfAwayFromZero) {
  // Windows of two cells with sums -5 and 5 (from the zero point): -2.5 -> -3, 2.5 -> 3.
  opm::Pool2DOptionsT o;
  o.kernel_h = 1, o.kernel_w = 2, o.stride_w = 2;
  SingleOpModel m(OpCode::AVERAGE_POOL_2D, Options(o),
                  {Int8({1, 1, 1, 4}, {-2, -3, 3, 2}, {1.0f, 0})}, {OutI8({1, 1, 1, 2}, {1.0f, 0})});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  EXPECT_EQ(OutputInts<int8_t>(m, 0), (std::vector<int>{-3, 3}));
}

TEST(PoolingInt8, MaxPoolIndicesMatchTheFloatKernel) {
  opm::Pool2DOptionsT o;
  o.kernel_h = o.kernel_w = 3, o.stride_h = o.stride_w = 2, o.pad_top = o.pad_left = 1;
  const QParams q{0.1f, 0};
  const auto x = RandomInt8(2 * 9 * 9, 11, -5, 5);  // few distinct values: many ties
  for (int order : {0, 1}) {
    o.storage_order = order;
    SingleOpModel fm(OpCode::MAX_POOL_2D, Options(o), {Operand::F32({1, 2, 9, 9}, Dequantize(x, q))},
                     {Operand::Out({1, 2, 5, 5}), Operand::Out({1, 2, 5, 5}, opm::DType::INT64)});
    ASSERT_EQ(fm.Run(), Status::kOk) << fm.error();
    SingleOpModel m(OpCode::MAX_POOL_2D, Options(o), {Int8({1, 2, 9, 9}, x, q)},
                    {OutI8({1, 2, 5, 5}, q), Operand::Out({1, 2, 5, 5}, opm::DType::INT64)});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(m.Output<int64_t>(1), fm.Output<int64_t>(1)) << "storage_order " << order;
  }
}

// ---------------------------------------------------------------------------- CONCAT

TEST(ConcatInt8, RequantizesInputsWithOtherParameters) {
  const QParams p0{0.05f, 3}, p1{0.2f, -100}, p2{0.05f, 3};
  const auto a = RandomInt8(2 * 3 * 4, 1), b = RandomInt8(2 * 2 * 4, 2), c = RandomInt8(2 * 1 * 4, 3);
  opm::ConcatOptionsT o;
  o.axis = 1;
  SingleOpModel fm(OpCode::CONCAT, Options(o),
                   {Operand::F32({2, 3, 4}, Dequantize(a, p0)),
                    Operand::F32({2, 2, 4}, Dequantize(b, p1)),
                    Operand::F32({2, 1, 4}, Dequantize(c, p2))},
                   {Operand::Out({2, 6, 4})});
  ASSERT_EQ(fm.Run(), Status::kOk) << fm.error();
  const auto ref = fm.OutputF32(0);
  for (const QParams out : {p0, QParams{0.1f, -20}}) {
    SingleOpModel m(OpCode::CONCAT, Options(o),
                    {Int8({2, 3, 4}, a, p0), Int8({2, 2, 4}, b, p1), Int8({2, 1, 4}, c, p2)},
                    {OutI8({2, 6, 4}, out)});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    const auto got = m.Output<int8_t>(0);
    ExpectWithinLsb(CompareWithFloat(got, ref, out), 1,
                    out.scale == p0.scale ? "concat, output as input 0" : "concat, new params");
    if (out.scale == p0.scale) {
      // Inputs quantized as the output are copied bit for bit.
      for (int n = 0; n < 2; ++n)
        for (int k = 0; k < 12; ++k) EXPECT_EQ(got[n * 24 + k], a[n * 12 + k]);
    }
  }
}

// ---------------------------------------------------------------------------- data movement

TEST(DataMovementInt8, KeepsQuantizedValuesAndRefusesNewParameters) {
  const QParams q{0.1f, -7}, other{0.1f, -6};
  const auto x = RandomInt8(24, 4);
  struct Case {
    OpCode op;
    opm::OpOptionsUnion options;
    std::vector<int32_t> out_shape;
    std::vector<int> want;  // the int8 values, as moved by hand
  };
  std::vector<int> xi(x.begin(), x.end());
  auto at = [&](int i, int j, int k) { return xi[(i * 3 + j) * 4 + k]; };  // x is [2, 3, 4]
  std::vector<Case> cases;
  cases.push_back({OpCode::RESHAPE, Options(opm::ReshapeOptionsT()), {4, 6}, xi});
  {
    opm::TransposeOptionsT t;
    t.perm = {2, 0, 1};
    std::vector<int> want;
    for (int k = 0; k < 4; ++k)
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j) want.push_back(at(i, j, k));
    cases.push_back({OpCode::TRANSPOSE, Options(t), {4, 2, 3}, want});
  }
  {
    opm::SliceOptionsT s;
    s.starts = {1, 0, 3};
    s.steps = {1, 2, -2};
    std::vector<int> want;
    for (int j = 0; j < 3; j += 2)
      for (int k = 3; k >= 0; k -= 2) want.push_back(at(1, j, k));
    cases.push_back({OpCode::SLICE, Options(s), {1, 2, 2}, want});
  }
  {
    // Constant padding with 0.0 writes the zero point.
    opm::PadOptionsT p;
    p.pads = {0, 0, 1, 0, 0, 0};
    std::vector<int> want;
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) {
        want.push_back(q.zp);
        for (int k = 0; k < 4; ++k) want.push_back(at(i, j, k));
      }
    cases.push_back({OpCode::PAD, Options(p), {2, 3, 5}, want});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(OpName(c.op));
    SingleOpModel m(c.op, c.options, {Int8({2, 3, 4}, x, q)}, {OutI8(c.out_shape, q)});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(OutputInts<int8_t>(m, 0), c.want);
    SingleOpModel bad(c.op, c.options, {Int8({2, 3, 4}, x, q)}, {OutI8(c.out_shape, other)});
    EXPECT_EQ(bad.Run(), Status::kUnsupported);
    EXPECT_NE(bad.error().find("quantized differently"), std::string::npos) << bad.error();
  }
  // SPLIT: both outputs must be quantized as the input.
  opm::SplitOptionsT s;
  s.axis = 2;
  SingleOpModel split(OpCode::SPLIT, Options(s), {Int8({2, 3, 4}, x, q)},
                      {OutI8({2, 3, 1}, q), OutI8({2, 3, 3}, q)});
  ASSERT_EQ(split.Run(), Status::kOk) << split.error();
  std::vector<int> first, rest;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) (k == 0 ? first : rest).push_back(at(i, j, k));
  EXPECT_EQ(OutputInts<int8_t>(split, 0), first);
  EXPECT_EQ(OutputInts<int8_t>(split, 1), rest);
  SingleOpModel bad_split(OpCode::SPLIT, Options(s), {Int8({2, 3, 4}, x, q)},
                          {OutI8({2, 3, 1}, q), OutI8({2, 3, 3}, other)});
  EXPECT_EQ(bad_split.Run(), Status::kUnsupported) << bad_split.error();
}

TEST(DataMovementInt8, PadValueIsQuantized) {
  // value 1.3 at scale 0.5, zero point 3: 2.6 rounds to 3 -> 6; -100 saturates to -128.
  for (const auto& [value, want] : std::vector<std::pair<float, int>>{{1.3f, 6}, {-100.0f, -128}}) {
    opm::PadOptionsT p;
    p.pads = {1, 0};
    p.value = value;
    SingleOpModel m(OpCode::PAD, Options(p), {Int8({2}, {10, 20}, {0.5f, 3})},
                    {OutI8({3}, {0.5f, 3})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(OutputInts<int8_t>(m, 0), (std::vector<int>{want, 10, 20})) << value;
  }
}

}  // namespace
}  // namespace outpost::testing
