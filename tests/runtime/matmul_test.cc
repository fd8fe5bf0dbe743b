// FULLY_CONNECTED and MATMUL reference kernels.
#include <gtest/gtest.h>

#include "tests/runtime/kernel_test_util.h"

namespace outpost::testing {
namespace {

// ---------------------------------------------------------------------------------------------
// FULLY_CONNECTED

opm::OpOptionsUnion FcOpts(opm::Activation a = opm::Activation::NONE, float lo = 0, float hi = 0) {
  opm::FullyConnectedOptionsT o;
  o.activation = a;
  o.act_min = lo;
  o.act_max = hi;
  return Options(o);
}

TEST(FullyConnected, HandChecked) {
  // x = [[1, 2, 3], [-1, 0, 1]], W = [[1, 0, 0], [0, 1, 1]], b = [10, 20].
  SingleOpModel m(
      opm::OpCode::FULLY_CONNECTED, FcOpts(),
      {Operand::F32({2, 3}, {1, 2, 3, -1, 0, 1}), Operand::F32({2, 3}, {1, 0, 0, 0, 1, 1}, true),
       Operand::F32({2}, {10, 20}, true)},
      {Operand::Out({2, 2})});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  EXPECT_EQ(m.OutputF32(0), (std::vector<float>{11, 25, 9, 21}));
}

TEST(FullyConnected, NoBiasWithRelu) {
  SingleOpModel m(opm::OpCode::FULLY_CONNECTED, FcOpts(opm::Activation::RELU),
                  {Operand::F32({1, 2}, {1, 2}), Operand::F32({3, 2}, {1, 1, -1, -1, 2, -1}, true),
                   Operand::Absent()},
                  {Operand::Out({1, 3})});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  EXPECT_EQ(m.OutputF32(0), (std::vector<float>{3, 0, 0}));
}

TEST(FullyConnected, MatchesDirectLoop) {
  struct Case {
    int n, k, o;
    bool bias;
    opm::Activation act;
  };
  const Case cases[] = {{1, 1, 1, true, opm::Activation::NONE},
                        {3, 17, 5, true, opm::Activation::NONE},
                        {2, 512, 1000, true, opm::Activation::NONE},
                        {5, 13, 31, false, opm::Activation::CLIP},
                        {4, 1031, 3, true, opm::Activation::HARD_SWISH}};
  uint32_t seed = 500;
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.n) + "x" + std::to_string(c.k) + "x" + std::to_string(c.o));
    const auto x = RandomFloats(size_t(c.n) * c.k, seed++);
    const auto w = RandomFloats(size_t(c.o) * c.k, seed++);
    const auto b = RandomFloats(c.o, seed++);
    SingleOpModel m(opm::OpCode::FULLY_CONNECTED, FcOpts(c.act, -0.3f, 0.4f),
                    {Operand::F32({c.n, c.k}, x), Operand::F32({c.o, c.k}, w, true),
                     c.bias ? Operand::F32({c.o}, b, true) : Operand::Absent()},
                    {Operand::Out({c.n, c.o})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    std::vector<double> want, mag;
    for (int i = 0; i < c.n; ++i)
      for (int j = 0; j < c.o; ++j) {
        double s = c.bias ? b[j] : 0.0, a = c.bias ? std::fabs(b[j]) : 0.0;
        for (int p = 0; p < c.k; ++p) {
          const double t = double(x[i * c.k + p]) * w[j * c.k + p];
          s += t;
          a += std::fabs(t);
        }
        if (c.act == opm::Activation::CLIP) s = s < -0.3 ? -0.3 : (s > 0.4 ? 0.4 : s);
        if (c.act == opm::Activation::HARD_SWISH) s = s * std::min(std::max(s + 3, 0.0), 6.0) / 6;
        want.push_back(s);
        mag.push_back(a);
      }
    ExpectClose(m.OutputF32(0), want, mag);
  }
}

Status RunFc(std::vector<int32_t> xs, std::vector<int32_t> ws, std::vector<int32_t> bs,
             std::vector<int32_t> ys, std::string* err) {
  std::vector<Operand> ins = {Operand::F32(xs, std::vector<float>(Product(xs), 1.0f)),
                              Operand::F32(ws, std::vector<float>(Product(ws), 1.0f), true)};
  if (!bs.empty()) ins.push_back(Operand::F32(bs, std::vector<float>(Product(bs), 1.0f), true));
  SingleOpModel m(opm::OpCode::FULLY_CONNECTED, FcOpts(), ins, {Operand::Out(ys)});
  const Status s = m.Run();
  *err = m.error();
  return s;
}

TEST(FullyConnected, RefusesInconsistentModels) {
  std::string err;
  ASSERT_EQ(RunFc({2, 3}, {4, 3}, {4}, {2, 4}, &err), Status::kOk) << err;
  EXPECT_EQ(RunFc({2, 3, 1}, {4, 3}, {4}, {2, 4}, &err), Status::kShapeMismatch);
  EXPECT_NE(err.find("rank 2"), std::string::npos) << err;
  EXPECT_EQ(RunFc({2, 3}, {4, 2}, {4}, {2, 4}, &err), Status::kShapeMismatch);
  EXPECT_NE(err.find("features"), std::string::npos) << err;
  EXPECT_EQ(RunFc({2, 3}, {4, 3}, {3}, {2, 4}, &err), Status::kShapeMismatch);
  EXPECT_NE(err.find("bias"), std::string::npos) << err;
  EXPECT_EQ(RunFc({2, 3}, {4, 3}, {4}, {2, 3}, &err), Status::kShapeMismatch);
  EXPECT_EQ(RunFc({2, 3}, {4, 3}, {4}, {1, 4}, &err), Status::kShapeMismatch);
  SingleOpModel bad_act(opm::OpCode::FULLY_CONNECTED, FcOpts(static_cast<opm::Activation>(7)),
                        {Operand::F32({1, 1}, {1}), Operand::F32({1, 1}, {1}, true)},
                        {Operand::Out({1, 1})});
  EXPECT_EQ(bad_act.Run(), Status::kCorruptModel);
}

// ---------------------------------------------------------------------------------------------
// MATMUL

// NumPy matmul written out: promote vectors, broadcast the batch dims right-aligned, multiply.
std::vector<int32_t> MatMulReference(const std::vector<int32_t>& as, const std::vector<float>& a,
                                     const std::vector<int32_t>& bs, const std::vector<float>& b,
                                     std::vector<double>* y, std::vector<double>* mag) {
  std::vector<int32_t> a2 = as, b2 = bs;
  if (a2.size() == 1) a2.insert(a2.begin(), 1);
  if (b2.size() == 1) b2.push_back(1);
  const int m = a2[a2.size() - 2], k = a2.back(), n = b2.back();
  const size_t ra = a2.size() - 2, rb = b2.size() - 2, r = std::max(ra, rb);
  std::vector<int32_t> batch(r);
  for (size_t i = 0; i < r; ++i) {
    const int da = i + ra >= r ? a2[i + ra - r] : 1, db = i + rb >= r ? b2[i + rb - r] : 1;
    batch[i] = std::max(da, db);
  }
  const int64_t nb = Product(batch);
  y->clear();
  mag->clear();
  for (int64_t t = 0; t < nb; ++t) {
    // Decompose t into batch indices, then into operand offsets.
    std::vector<int64_t> idx(r);
    int64_t rem = t;
    for (size_t i = r; i-- > 0;) {
      idx[i] = rem % batch[i];
      rem /= batch[i];
    }
    int64_t oa = 0, ob = 0;
    for (size_t i = 0; i < r; ++i) {
      if (i + ra >= r) oa = oa * a2[i + ra - r] + (a2[i + ra - r] == 1 ? 0 : idx[i]);
      if (i + rb >= r) ob = ob * b2[i + rb - r] + (b2[i + rb - r] == 1 ? 0 : idx[i]);
    }
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) {
        double s = 0, g = 0;
        for (int p = 0; p < k; ++p) {
          const double v = double(a[(oa * m + i) * k + p]) * b[(ob * k + p) * n + j];
          s += v;
          g += std::fabs(v);
        }
        y->push_back(s);
        mag->push_back(g);
      }
  }
  std::vector<int32_t> out = batch;
  if (as.size() > 1) out.push_back(m);
  if (bs.size() > 1) out.push_back(n);
  return out;
}

void CheckMatMul(const std::vector<int32_t>& as, const std::vector<int32_t>& bs, uint32_t seed,
                 bool b_constant) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  const auto a = RandomFloats(Product(as), seed);
  const auto b = RandomFloats(Product(bs), seed + 1);
  std::vector<double> want, mag;
  const auto ys = MatMulReference(as, a, bs, b, &want, &mag);
  SingleOpModel m(opm::OpCode::MATMUL, {}, {Operand::F32(as, a), Operand::F32(bs, b, b_constant)},
                  {Operand::Out(ys)});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  ExpectClose(m.OutputF32(0), want, mag);
}

TEST(MatMul, HandChecked2D) {
  SingleOpModel m(
      opm::OpCode::MATMUL, {},
      {Operand::F32({2, 3}, {1, 2, 3, 4, 5, 6}), Operand::F32({3, 2}, {1, 0, 0, 1, 1, 1})},
      {Operand::Out({2, 2})});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  EXPECT_EQ(m.OutputF32(0), (std::vector<float>{4, 5, 10, 11}));
}

TEST(MatMul, VectorOperands) {
  {  // [3] x [3, 2] -> [2]
    SingleOpModel m(opm::OpCode::MATMUL, {},
                    {Operand::F32({3}, {1, 2, 3}), Operand::F32({3, 2}, {1, 0, 0, 1, 1, 1})},
                    {Operand::Out({2})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(m.OutputF32(0), (std::vector<float>{4, 5}));
  }
  {  // [2, 3] x [3] -> [2]
    SingleOpModel m(opm::OpCode::MATMUL, {},
                    {Operand::F32({2, 3}, {1, 2, 3, 4, 5, 6}), Operand::F32({3}, {1, 0, -1})},
                    {Operand::Out({2})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(m.OutputF32(0), (std::vector<float>{-2, -2}));
  }
  {  // [3] x [3] -> scalar
    SingleOpModel m(opm::OpCode::MATMUL, {},
                    {Operand::F32({3}, {1, 2, 3}), Operand::F32({3}, {4, 5, 6})},
                    {Operand::Out({})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(m.OutputF32(0), (std::vector<float>{32}));
  }
}

TEST(MatMul, MatchesDirectLoopWithBroadcasting) {
  uint32_t seed = 700;
  CheckMatMul({7, 13}, {13, 5}, seed += 2, true);
  CheckMatMul({1, 1}, {1, 1}, seed += 2, false);
  CheckMatMul({3, 4, 5}, {3, 5, 6}, seed += 2, false);     // batched, same batch
  CheckMatMul({2, 1, 3, 4}, {5, 4, 2}, seed += 2, false);  // batch broadcast both ways
  CheckMatMul({4}, {2, 3, 4, 5}, seed += 2, false);        // vector A, batched B
  CheckMatMul({2, 3, 4, 5}, {5}, seed += 2, true);         // batched A, vector B
  CheckMatMul({6, 1, 7}, {7, 3}, seed += 2, true);         // batch only on A (weights)
  CheckMatMul({2, 1, 2, 1, 3, 4}, {1, 3, 1, 2, 4, 2}, seed += 2, false);  // rank 6
  CheckMatMul({1, 64, 97}, {97, 33}, seed += 2, true);                    // long inner dimension
  CheckMatMul({2, 5, 1, 2, 8}, {3, 8, 1}, seed += 2, false);
}

Status RunMatMul(std::vector<int32_t> as, std::vector<int32_t> bs, std::vector<int32_t> ys,
                 std::string* err) {
  SingleOpModel m(opm::OpCode::MATMUL, {},
                  {Operand::F32(as, std::vector<float>(Product(as), 1.0f)),
                   Operand::F32(bs, std::vector<float>(Product(bs), 1.0f))},
                  {Operand::Out(ys)});
  const Status s = m.Run();
  *err = m.error();
  return s;
}

TEST(MatMul, RefusesInconsistentModels) {
  std::string err;
  ASSERT_EQ(RunMatMul({2, 3, 4}, {4, 5}, {2, 3, 5}, &err), Status::kOk) << err;
  EXPECT_EQ(RunMatMul({2, 3, 4}, {3, 5}, {2, 3, 5}, &err), Status::kShapeMismatch);
  EXPECT_NE(err.find("inner dimensions"), std::string::npos) << err;
  EXPECT_EQ(RunMatMul({2, 3, 4}, {3, 4, 5}, {3, 3, 5}, &err), Status::kShapeMismatch);
  EXPECT_NE(err.find("does not broadcast"), std::string::npos) << err;
  EXPECT_EQ(RunMatMul({2, 3, 4}, {4, 5}, {2, 3, 6}, &err), Status::kShapeMismatch);
  EXPECT_EQ(RunMatMul({2, 3, 4}, {4, 5}, {6, 5}, &err), Status::kShapeMismatch);
  EXPECT_EQ(RunMatMul({2, 3, 4}, {4, 5}, {1, 2, 3, 5}, &err), Status::kShapeMismatch);
  // A vector operand's axis is dropped: keeping it is a different (wrong) shape.
  EXPECT_EQ(RunMatMul({4}, {4, 5}, {1, 5}, &err), Status::kShapeMismatch);
  EXPECT_EQ(RunMatMul({3, 4}, {4}, {3, 1}, &err), Status::kShapeMismatch);
  EXPECT_EQ(RunMatMul({}, {4}, {4}, &err), Status::kShapeMismatch);
  EXPECT_NE(err.find("rank >= 1"), std::string::npos) << err;
}

}  // namespace
}  // namespace outpost::testing
