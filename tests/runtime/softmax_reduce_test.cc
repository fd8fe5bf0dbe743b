// SOFTMAX and REDUCE_MEAN reference kernels.
#include <gtest/gtest.h>

#include "tests/runtime/kernel_test_util.h"

namespace outpost::testing {
namespace {

// ---------------------------------------------------------------------------------------------
// SOFTMAX

opm::OpOptionsUnion SoftmaxOpts(int axis) {
  opm::SoftmaxOptionsT o;
  o.axis = axis;
  return Options(o);
}

TEST(Softmax, OnnxExample) {
  SingleOpModel m(opm::OpCode::SOFTMAX, SoftmaxOpts(-1), {Operand::F32({1, 3}, {-1, 0, 1})},
                  {Operand::Out({1, 3})});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  ExpectClose(m.OutputF32(0), {0.09003057317038046, 0.24472847105479764, 0.6652409557748219}, {},
              1e-6);
}

TEST(Softmax, LargeNumbersDoNotOverflow) {
  SingleOpModel m(opm::OpCode::SOFTMAX, SoftmaxOpts(1),
                  {Operand::F32({2, 4}, {0, 1, 2, 3, 10000, 10001, 10002, 10003})},
                  {Operand::Out({2, 4})});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  const std::vector<double> row = {0.03205860328008499, 0.08714431874203257, 0.23688281808991013,
                                   0.6439142598879722};
  std::vector<double> want = row;
  want.insert(want.end(), row.begin(), row.end());
  ExpectClose(m.OutputF32(0), want, {}, 1e-6);
}

TEST(Softmax, EveryAxisMatchesDirectLoop) {
  const std::vector<int32_t> shape = {3, 4, 5};
  const auto x = RandomFloats(60, 11, -5, 5);
  for (int axis = -3; axis < 3; ++axis) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    SingleOpModel m(opm::OpCode::SOFTMAX, SoftmaxOpts(axis), {Operand::F32(shape, x)},
                    {Operand::Out(shape)});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    const int a = axis < 0 ? axis + 3 : axis;
    int64_t inner = 1;
    for (int i = a + 1; i < 3; ++i) inner *= shape[i];
    const int n = shape[a];
    std::vector<double> want(60);
    for (int64_t e = 0; e < 60; ++e) {
      // Element e and the others along `a` sharing its remaining indices.
      const int64_t k = (e / inner) % n, base = e - k * inner;
      double sum = 0;
      for (int j = 0; j < n; ++j) sum += std::exp(double(x[base + j * inner]));
      want[e] = std::exp(double(x[e])) / sum;
    }
    ExpectClose(m.OutputF32(0), want, {}, 1e-5);
  }
}

TEST(Softmax, RefusesBadAxisAndShape) {
  for (int axis : {3, -4, 100}) {
    SingleOpModel m(opm::OpCode::SOFTMAX, SoftmaxOpts(axis),
                    {Operand::F32({1, 2, 3}, std::vector<float>(6, 0))}, {Operand::Out({1, 2, 3})});
    EXPECT_EQ(m.Run(), Status::kCorruptModel) << axis;
    EXPECT_NE(m.error().find("axis"), std::string::npos) << m.error();
  }
  SingleOpModel m(opm::OpCode::SOFTMAX, SoftmaxOpts(-1),
                  {Operand::F32({2, 3}, std::vector<float>(6, 0))}, {Operand::Out({3, 2})});
  EXPECT_EQ(m.Run(), Status::kShapeMismatch);
}

// ---------------------------------------------------------------------------------------------
// REDUCE_MEAN

opm::OpOptionsUnion ReduceOpts(std::vector<int32_t> axes, bool keep) {
  opm::ReduceOptionsT o;
  o.axes = std::move(axes);
  o.keep_dims = keep;
  return Options(o);
}

const std::vector<float> kOnnxReduceData = {5, 1, 20, 2, 30, 1, 40, 2, 55, 1, 60, 2};  // [3,2,2]

TEST(ReduceMean, OnnxExamples) {
  {
    SingleOpModel m(opm::OpCode::REDUCE_MEAN, ReduceOpts({1}, true),
                    {Operand::F32({3, 2, 2}, kOnnxReduceData)}, {Operand::Out({3, 1, 2})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(m.OutputF32(0), (std::vector<float>{12.5f, 1.5f, 35, 1.5f, 57.5f, 1.5f}));
  }
  {
    SingleOpModel m(opm::OpCode::REDUCE_MEAN, ReduceOpts({-2}, false),
                    {Operand::F32({3, 2, 2}, kOnnxReduceData)}, {Operand::Out({3, 2})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(m.OutputF32(0), (std::vector<float>{12.5f, 1.5f, 35, 1.5f, 57.5f, 1.5f}));
  }
  {  // No axes: every axis.
    SingleOpModel m(opm::OpCode::REDUCE_MEAN, ReduceOpts({}, true),
                    {Operand::F32({3, 2, 2}, kOnnxReduceData)}, {Operand::Out({1, 1, 1})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(m.OutputF32(0), (std::vector<float>{18.25f}));
  }
  {
    SingleOpModel m(opm::OpCode::REDUCE_MEAN, ReduceOpts({}, false),
                    {Operand::F32({3, 2, 2}, kOnnxReduceData)}, {Operand::Out({})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(m.OutputF32(0), (std::vector<float>{18.25f}));
  }
}

TEST(ReduceMean, MatchesDirectLoop) {
  const std::vector<int32_t> shape = {2, 3, 5, 7};
  const auto x = RandomFloats(210, 21);
  const std::vector<std::vector<int32_t>> axis_sets = {
      {0}, {1}, {3}, {2, 3}, {-1, -2}, {0, 2}, {1, 3}, {0, 1, 2, 3}, {3, 0}};
  for (const auto& axes : axis_sets) {
    for (bool keep : {true, false}) {
      bool reduce[4] = {false, false, false, false};
      for (int32_t a : axes) reduce[a < 0 ? a + 4 : a] = true;
      std::vector<int32_t> out;
      for (int i = 0; i < 4; ++i)
        if (!reduce[i] || keep) out.push_back(reduce[i] ? 1 : shape[i]);
      SCOPED_TRACE("axes of size " + std::to_string(axes.size()) + " keep " + std::to_string(keep));
      SingleOpModel m(opm::OpCode::REDUCE_MEAN, ReduceOpts(axes, keep), {Operand::F32(shape, x)},
                      {Operand::Out(out)});
      ASSERT_EQ(m.Run(), Status::kOk) << m.error();
      // Accumulate each input element into the output cell its kept indices select.
      std::vector<double> sum(Product(out), 0.0), mag(Product(out), 0.0);
      int64_t count = 1;
      for (int i = 0; i < 4; ++i)
        if (reduce[i]) count *= shape[i];
      int idx[4];
      for (idx[0] = 0; idx[0] < shape[0]; ++idx[0])
        for (idx[1] = 0; idx[1] < shape[1]; ++idx[1])
          for (idx[2] = 0; idx[2] < shape[2]; ++idx[2])
            for (idx[3] = 0; idx[3] < shape[3]; ++idx[3]) {
              int64_t o = 0;
              for (int i = 0; i < 4; ++i)
                if (!reduce[i]) o = o * shape[i] + idx[i];
              const float v = x[((idx[0] * 3 + idx[1]) * 5 + idx[2]) * 7 + idx[3]];
              sum[o] += v / double(count);
              mag[o] += std::fabs(v) / double(count);
            }
      ExpectClose(m.OutputF32(0), sum, mag);
    }
  }
}

TEST(ReduceMean, RefusesBadAxesAndShapes) {
  auto run = [](std::vector<int32_t> axes, bool keep, std::vector<int32_t> out, std::string* e) {
    SingleOpModel m(opm::OpCode::REDUCE_MEAN, ReduceOpts(std::move(axes), keep),
                    {Operand::F32({2, 3, 4}, std::vector<float>(24, 1))}, {Operand::Out(out)});
    const Status s = m.Run();
    *e = m.error();
    return s;
  };
  std::string e;
  ASSERT_EQ(run({1}, true, {2, 1, 4}, &e), Status::kOk) << e;
  EXPECT_EQ(run({3}, true, {2, 3, 4}, &e), Status::kCorruptModel);
  EXPECT_NE(e.find("out of range"), std::string::npos) << e;
  EXPECT_EQ(run({-4}, true, {2, 3, 4}, &e), Status::kCorruptModel);
  EXPECT_EQ(run({1, -2}, true, {2, 1, 4}, &e), Status::kCorruptModel);
  EXPECT_NE(e.find("repeated"), std::string::npos) << e;
  EXPECT_EQ(run({0, 1, 2, 0}, true, {1, 1, 1}, &e), Status::kCorruptModel);
  EXPECT_EQ(run({1}, true, {2, 4}, &e), Status::kShapeMismatch);
  EXPECT_EQ(run({1}, false, {2, 1, 4}, &e), Status::kShapeMismatch);
  EXPECT_EQ(run({1}, false, {2, 3}, &e), Status::kShapeMismatch);
}

}  // namespace
}  // namespace outpost::testing
