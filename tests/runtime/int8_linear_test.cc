// FULLY_CONNECTED and MATMUL on INT8: against the float kernels run on the dequantized
// operands (within 1 LSB), bit-exact against direct int64 loops followed by the documented
// requantization, and the INT32 outputs (MatMulInteger) against the exact accumulators.
#include <gtest/gtest.h>

#include "runtime/kernels/quant_util.h"
#include "tests/runtime/int8_test_util.h"

namespace outpost::testing {
namespace {

using opm::Activation;

kernels::QuantizedMultiplier Multiplier(float a, float b, float c) {
  kernels::QuantizedMultiplier m;
  EXPECT_TRUE(kernels::MultiplierFromScales(&a, &b, &c, &m));
  return m;
}

// ---------------------------------------------------------------------------- FULLY_CONNECTED

struct QFc {
  int n = 6, k = 17, o = 5;
  bool per_channel = true, weight_zp = false, bias = true, int32_out = false;
  Activation act = Activation::NONE;
  float act_min = 0, act_max = 0;
  QParams x{0.04f, -3};
};

opm::OpOptionsUnion FcOptions(const QFc& c) {
  opm::FullyConnectedOptionsT o;
  o.activation = c.act;
  o.act_min = c.act_min;
  o.act_max = c.act_max;
  return Options(o);
}

void CheckFc(const QFc& c, uint32_t seed, const std::string& what) {
  SCOPED_TRACE(what);
  const auto x = RandomInt8(static_cast<size_t>(c.n) * c.k, seed);
  const auto w = c.weight_zp ? RandomInt8(static_cast<size_t>(c.o) * c.k, seed + 1)
                             : RandomInt8(static_cast<size_t>(c.o) * c.k, seed + 1, -127, 127);
  std::mt19937 rng(seed + 2);
  std::uniform_real_distribution<float> sd(0.003f, 0.03f);
  std::uniform_int_distribution<int> zd(-50, 50);
  std::vector<float> ws;
  std::vector<int64_t> wz;
  const float s0 = sd(rng);
  const int z0 = c.weight_zp ? zd(rng) : 0;
  for (int j = 0; j < c.o; ++j) {
    ws.push_back(c.per_channel ? sd(rng) : s0);
    wz.push_back(c.per_channel && c.weight_zp ? zd(rng) : z0);
  }
  const auto b = RandomInt32(c.o, seed + 3, -5000, 5000);
  // Exact accumulators.
  std::vector<int64_t> acc(static_cast<size_t>(c.n) * c.o);
  for (int i = 0; i < c.n; ++i)
    for (int j = 0; j < c.o; ++j) {
      int64_t s = c.bias && !c.int32_out ? b[j] : 0;
      for (int p = 0; p < c.k; ++p)
        s += static_cast<int64_t>(x[i * c.k + p] - c.x.zp) * (w[j * c.k + p] - wz[j]);
      acc[i * c.o + j] = s;
    }
  std::vector<Operand> ins = {Int8({c.n, c.k}, x, c.x)};
  ins.push_back(c.per_channel ? Int8PerAxis({c.o, c.k}, w, ws, wz, 0)
                              : Int8({c.o, c.k}, w, {ws[0], z0}, true));
  if (c.bias && !c.int32_out) ins.push_back(Int32({c.o}, b));
  if (c.int32_out) {
    SingleOpModel m(opm::OpCode::FULLY_CONNECTED, FcOptions(c), ins,
                    {Operand::Out({c.n, c.o}, opm::DType::INT32)});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    const auto got = m.Output<int32_t>(0);
    for (size_t i = 0; i < acc.size(); ++i) ASSERT_EQ(got[i], acc[i]) << i;
    return;
  }
  // Float reference on the dequantized operands.
  std::vector<float> bf;
  for (int j = 0; j < c.o; ++j) bf.push_back(static_cast<float>(double(c.x.scale) * ws[j] * b[j]));
  std::vector<Operand> fins = {Operand::F32({c.n, c.k}, Dequantize(x, c.x)),
                               Operand::F32({c.o, c.k}, DequantizePerChannel(w, ws, wz), true)};
  if (c.bias) fins.push_back(Operand::F32({c.o}, bf, true));
  SingleOpModel fm(opm::OpCode::FULLY_CONNECTED, FcOptions(c), fins, {Operand::Out({c.n, c.o})});
  ASSERT_EQ(fm.Run(), Status::kOk) << fm.error();
  const auto ref = fm.OutputF32(0);
  const QParams out = ParamsCovering(ref);
  SingleOpModel m(opm::OpCode::FULLY_CONNECTED, FcOptions(c), ins, {OutI8({c.n, c.o}, out)});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  const auto got = m.Output<int8_t>(0);
  ExpectWithinLsb(CompareWithFloat(got, ref, out), 1, what);
  int lo = -128, hi = 127;
  if (c.act == Activation::RELU) lo = QuantizeRef(0, out.scale, out.zp);
  if (c.act == Activation::CLIP) {
    lo = QuantizeRef(c.act_min, out.scale, out.zp);
    hi = QuantizeRef(c.act_max, out.scale, out.zp);
  }
  for (int i = 0; i < c.n; ++i)
    for (int j = 0; j < c.o; ++j) {
      const int want = kernels::Requantize(static_cast<int32_t>(acc[i * c.o + j]),
                                           Multiplier(c.x.scale, ws[j], out.scale), out.zp, lo, hi);
      ASSERT_EQ(got[i * c.o + j], want) << i << "," << j;
    }
}

TEST(FullyConnectedInt8, MatchesFloatAndIntegerReferences) {
  QFc c;
  CheckFc(c, 10, "fc per-channel");
  c.per_channel = false;
  CheckFc(c, 20, "fc per-tensor");
  c.per_channel = true;
  c.weight_zp = true;
  c.act = Activation::RELU;
  CheckFc(c, 30, "fc weight zero points, relu");
  c.act = Activation::CLIP, c.act_min = -20.0f, c.act_max = 30.0f;
  c.n = 2, c.k = 1000, c.o = 10;
  c.x = {0.01f, 20};
  CheckFc(c, 40, "fc 1000 features, clip");
  c.act = Activation::NONE;
  c.bias = false;
  c.n = 4, c.k = 31, c.o = 7;
  CheckFc(c, 50, "fc no bias");
  c.int32_out = true;
  CheckFc(c, 60, "fc INT32 output");
}

// ---------------------------------------------------------------------------- MATMUL

struct QMatMul {
  std::vector<int32_t> a_shape, b_shape, y_shape;
  bool b_per_column = false, b_constant = false, int32_out = false;
  QParams a{0.05f, 9}, b{0.02f, -4};
};

// NumPy matmul on exact integers: the batch axes broadcast, rank-1 operands are vectors.
std::vector<int64_t> MatMulRef(const QMatMul& c, const std::vector<int8_t>& a,
                               const std::vector<int8_t>& b, const std::vector<int64_t>& bz) {
  std::vector<int32_t> as = c.a_shape, bs = c.b_shape;
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  const int m = as[as.size() - 2], k = as.back(), n = bs.back();
  const size_t batch = std::max(as.size(), bs.size()) - 2;
  std::vector<int32_t> ab(batch, 1), bb(batch, 1), yb(batch, 1);
  for (size_t i = 0; i < batch; ++i) {
    const int ia = static_cast<int>(i) - static_cast<int>(batch - (as.size() - 2));
    const int ib = static_cast<int>(i) - static_cast<int>(batch - (bs.size() - 2));
    ab[i] = ia >= 0 ? as[ia] : 1;
    bb[i] = ib >= 0 ? bs[ib] : 1;
    yb[i] = std::max(ab[i], bb[i]);
  }
  int64_t batches = 1;
  for (int32_t d : yb) batches *= d;
  std::vector<int64_t> y;
  for (int64_t t = 0; t < batches; ++t) {
    int64_t rest = t, oa = 0, ob = 0, sa = 1, sb = 1;
    for (int i = static_cast<int>(batch) - 1; i >= 0; --i) {
      const int64_t idx = rest % yb[i];
      rest /= yb[i];
      oa += (ab[i] == 1 ? 0 : idx) * sa;
      ob += (bb[i] == 1 ? 0 : idx) * sb;
      sa *= ab[i];
      sb *= bb[i];
    }
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) {
        int64_t s = 0;
        for (int p = 0; p < k; ++p)
          s += static_cast<int64_t>(a[(oa * m + i) * k + p] - c.a.zp) *
               (b[(ob * k + p) * n + j] - bz[c.b_per_column ? j : 0]);
        y.push_back(s);
      }
  }
  return y;
}

void CheckMatMul(const QMatMul& c, uint32_t seed, const std::string& what) {
  SCOPED_TRACE(what);
  const auto a = RandomInt8(Product(c.a_shape), seed);
  const auto b = RandomInt8(Product(c.b_shape), seed + 1);
  const int n = c.b_shape.size() >= 2 ? c.b_shape.back() : 1;
  std::vector<float> bs;
  std::vector<int64_t> bz;
  std::mt19937 rng(seed + 2);
  std::uniform_real_distribution<float> sd(0.005f, 0.05f);
  std::uniform_int_distribution<int> zd(-60, 60);
  for (int j = 0; j < (c.b_per_column ? n : 1); ++j) {
    bs.push_back(c.b_per_column ? sd(rng) : c.b.scale);
    bz.push_back(c.b_per_column ? zd(rng) : c.b.zp);
  }
  const Operand bop = c.b_per_column
                          ? Int8PerAxis(c.b_shape, b, bs, bz, static_cast<int>(c.b_shape.size()) - 1)
                          : Int8(c.b_shape, b, c.b, c.b_constant);
  const std::vector<Operand> ins = {Int8(c.a_shape, a, c.a), bop};
  const auto acc = MatMulRef(c, a, b, bz);
  if (c.int32_out) {
    SingleOpModel m(opm::OpCode::MATMUL, Options(opm::MatMulOptionsT()), ins,
                    {Operand::Out(c.y_shape, opm::DType::INT32)});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    const auto got = m.Output<int32_t>(0);
    ASSERT_EQ(got.size(), acc.size());
    for (size_t i = 0; i < acc.size(); ++i) ASSERT_EQ(got[i], acc[i]) << i;
    return;
  }
  // Float reference: B dequantized per column.
  std::vector<float> bf(b.size());
  for (size_t i = 0; i < b.size(); ++i) {
    const size_t j = c.b_per_column ? i % n : 0;
    bf[i] = static_cast<float>(static_cast<double>(bs[j]) * (b[i] - bz[j]));
  }
  SingleOpModel fm(opm::OpCode::MATMUL, Options(opm::MatMulOptionsT()),
                   {Operand::F32(c.a_shape, Dequantize(a, c.a)), Operand::F32(c.b_shape, bf)},
                   {Operand::Out(c.y_shape)});
  ASSERT_EQ(fm.Run(), Status::kOk) << fm.error();
  const auto ref = fm.OutputF32(0);
  const QParams out = ParamsCovering(ref);
  SingleOpModel m(opm::OpCode::MATMUL, Options(opm::MatMulOptionsT()), ins,
                  {OutI8(c.y_shape, out)});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  const auto got = m.Output<int8_t>(0);
  ExpectWithinLsb(CompareWithFloat(got, ref, out), 1, what);
  ASSERT_EQ(got.size(), acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    const size_t j = c.b_per_column ? i % n : 0;
    const int want = kernels::Requantize(static_cast<int32_t>(acc[i]),
                                         Multiplier(c.a.scale, bs[j], out.scale), out.zp, -128, 127);
    ASSERT_EQ(got[i], want) << i;
  }
}

TEST(MatMulInt8, MatchesFloatAndIntegerReferences) {
  QMatMul c;
  c.a_shape = {5, 13}, c.b_shape = {13, 7}, c.y_shape = {5, 7};
  CheckMatMul(c, 100, "matmul 2-D per-tensor");
  c.b_per_column = true;
  CheckMatMul(c, 110, "matmul 2-D B per column");
  c.a_shape = {3, 1, 4, 9}, c.b_shape = {2, 9, 70}, c.y_shape = {3, 2, 4, 70};
  CheckMatMul(c, 120, "matmul broadcast batch, per column, 70 cols");
  c.b_per_column = false;
  c.a_shape = {2, 3, 6}, c.b_shape = {6}, c.y_shape = {2, 3};
  CheckMatMul(c, 130, "matmul B vector");
  c.a_shape = {6}, c.b_shape = {4, 6, 5}, c.y_shape = {4, 5};
  c.b_constant = true;
  CheckMatMul(c, 140, "matmul A vector, batched B");
  c.a_shape = {2, 4, 8}, c.b_shape = {2, 8, 3}, c.y_shape = {2, 4, 3};
  c.int32_out = true;
  CheckMatMul(c, 150, "matmul INT32 output");
  c.b_per_column = true;
  CheckMatMul(c, 160, "matmul INT32 output, per-column zero points");
}

}  // namespace
}  // namespace outpost::testing
