// MAX_POOL_2D (with and without its indices output), AVERAGE_POOL_2D, GLOBAL_AVERAGE_POOL and
// GLOBAL_MAX_POOL reference kernels.
#include <gtest/gtest.h>

#include "tests/runtime/kernel_test_util.h"

namespace outpost::testing {
namespace {

struct PoolParams {
  int n = 1, c = 1, h = 1, w = 1;
  int kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int pt = 0, pl = 0, pb = 0, pr = 0;
  bool count_include_pad = false;
  bool ceil = false;
};

opm::OpOptionsUnion PoolOpts(const PoolParams& p) {
  opm::Pool2DOptionsT o;
  o.kernel_h = p.kh;
  o.kernel_w = p.kw;
  o.stride_h = p.sh;
  o.stride_w = p.sw;
  o.dilation_h = p.dh;
  o.dilation_w = p.dw;
  o.pad_top = p.pt;
  o.pad_left = p.pl;
  o.pad_bottom = p.pb;
  o.pad_right = p.pr;
  o.count_include_pad = p.count_include_pad;
  return Options(o);
}

int PoolOut(int in, int k, int s, int d, int p0, int p1, bool ceil) {
  const int span = in + p0 + p1 - (d * (k - 1) + 1);
  return (ceil ? (span + s - 1) / s : span / s) + 1;
}

std::vector<int32_t> PoolOutShape(const PoolParams& p) {
  return {p.n, p.c, PoolOut(p.h, p.kh, p.sh, p.dh, p.pt, p.pb, p.ceil),
          PoolOut(p.w, p.kw, p.sw, p.dw, p.pl, p.pr, p.ceil)};
}

std::vector<float> RunPool(opm::OpCode op, const PoolParams& p, const std::vector<float>& x) {
  SingleOpModel m(op, PoolOpts(p), {Operand::F32({p.n, p.c, p.h, p.w}, x)},
                  {Operand::Out(PoolOutShape(p))});
  EXPECT_EQ(m.Run(), Status::kOk) << m.error();
  return m.OutputF32(0);
}

std::vector<float> Iota(int n, float start = 0) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = start + i;
  return v;
}

// Definition on the padded grid: cells of the window at padded coordinates
// [o * stride, o * stride + dilation * (k - 1)]; a cell is "input" when it maps inside the image
// and "explicit padding" when it lies in [0, pad_begin + size + pad_end).
void PoolReference(const PoolParams& p, bool is_max, const std::vector<float>& x,
                   std::vector<double>* y) {
  const auto os = PoolOutShape(p);
  y->clear();
  for (int pl = 0; pl < p.n * p.c; ++pl)
    for (int i = 0; i < os[2]; ++i)
      for (int j = 0; j < os[3]; ++j) {
        double mx = -INFINITY, sum = 0;
        int inside = 0, padded = 0;
        for (int u = 0; u < p.kh; ++u)
          for (int v = 0; v < p.kw; ++v) {
            const int ph = i * p.sh + u * p.dh, pw = j * p.sw + v * p.dw;  // padded grid
            if (ph < p.pt + p.h + p.pb && pw < p.pl + p.w + p.pr) ++padded;
            const int ih = ph - p.pt, iw = pw - p.pl;
            if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) continue;
            const double val = x[(pl * p.h + ih) * p.w + iw];
            mx = std::max(mx, val);
            sum += val;
            ++inside;
          }
        y->push_back(is_max ? mx : sum / (p.count_include_pad ? padded : inside));
      }
}

TEST(MaxPool2D, OnnxCases) {
  PoolParams p;
  p.h = p.w = 4, p.kh = p.kw = 3, p.sh = p.sw = 2, p.ceil = true;  // test_maxpool_2d_ceil
  EXPECT_EQ(RunPool(opm::OpCode::MAX_POOL_2D, p, Iota(16, 1)),
            (std::vector<float>{11, 12, 15, 16}));
  p = PoolParams();
  p.h = p.w = 4, p.kh = p.kw = 2, p.dh = p.dw = 2;  // test_maxpool_2d_dilations
  EXPECT_EQ(RunPool(opm::OpCode::MAX_POOL_2D, p, Iota(16, 1)),
            (std::vector<float>{11, 12, 15, 16}));
  p = PoolParams();
  p.h = p.w = 5, p.kh = p.kw = 5,
  p.pt = p.pl = p.pb = p.pr = 2;  // test_maxpool_2d_precomputed_pads
  EXPECT_EQ(RunPool(opm::OpCode::MAX_POOL_2D, p, Iota(25, 1)),
            (std::vector<float>{13, 14, 15, 15, 15, 18, 19, 20, 20, 20, 23, 24, 25,
                                25, 25, 23, 24, 25, 25, 25, 23, 24, 25, 25, 25}));
}

TEST(MaxPool2D, IgnoresPaddingForNegativeInputs) {
  PoolParams p;
  p.h = p.w = 2, p.kh = p.kw = 3, p.pt = p.pl = p.pb = p.pr = 1;
  EXPECT_EQ(RunPool(opm::OpCode::MAX_POOL_2D, p, {-4, -3, -2, -1}),
            (std::vector<float>{-1, -1, -1, -1}));
}

TEST(AveragePool2D, OnnxCases) {
  PoolParams p;
  p.h = p.w = 4, p.kh = p.kw = 3, p.sh = p.sw = 2, p.ceil = true;  // test_averagepool_2d_ceil
  EXPECT_EQ(RunPool(opm::OpCode::AVERAGE_POOL_2D, p, Iota(16, 1)),
            (std::vector<float>{6, 7.5f, 12, 13.5f}));
  p = PoolParams();  // test_averagepool_2d_precomputed_same_upper
  p.h = p.w = 5, p.kh = p.kw = 3, p.sh = p.sw = 2, p.pt = p.pl = p.pb = p.pr = 1;
  EXPECT_EQ(RunPool(opm::OpCode::AVERAGE_POOL_2D, p, Iota(25, 1)),
            (std::vector<float>{4, 5.5f, 7, 11.5f, 13, 14.5f, 19, 20.5f, 22}));
  p = PoolParams();  // test_averagepool_2d_precomputed_pads_count_include_pad
  p.h = p.w = 5, p.kh = p.kw = 5, p.pt = p.pl = p.pb = p.pr = 2, p.count_include_pad = true;
  ExpectClose(RunPool(opm::OpCode::AVERAGE_POOL_2D, p, Iota(25, 1)),
              {2.52, 3.6, 4.8,  4.08, 3.24, 4.56,  6.4,  8.4,  7.04, 5.52, 7.2,  10,  13,
               10.8, 8.4, 6.96, 9.6,  12.4, 10.24, 7.92, 6.12, 8.4,  10.8, 8.88, 6.84},
              {}, 1e-6);
}

TEST(AveragePool2D, CeilModeCountIncludePadCountsOnlyExplicitPads) {
  // Values from torch.nn.functional.avg_pool2d(arange(36).reshape(1,1,6,6), 3, 2, padding=1,
  // ceil_mode=True): the last window spans input, explicit padding and a ceil-mode cell.
  PoolParams p;
  p.h = p.w = 6, p.kh = p.kw = 3, p.sh = p.sw = 2, p.pt = p.pl = p.pb = p.pr = 1, p.ceil = true;
  p.count_include_pad = true;
  ExpectClose(RunPool(opm::OpCode::AVERAGE_POOL_2D, p, Iota(36)),
              {14.0 / 9, 30.0 / 9, 42.0 / 9, 16.0 / 6, 75.0 / 9, 14, 16, 8.5, 147.0 / 9, 26, 28,
               14.5, 61.0 / 6, 16, 17, 8.75},
              {}, 1e-6);
  p.count_include_pad = false;
  EXPECT_EQ(
      RunPool(opm::OpCode::AVERAGE_POOL_2D, p, Iota(36)),
      (std::vector<float>{3.5f, 5, 7, 8, 12.5f, 14, 16, 17, 24.5f, 26, 28, 29, 30.5f, 32, 34, 35}));
  EXPECT_EQ(RunPool(opm::OpCode::MAX_POOL_2D, p, Iota(36)),
            (std::vector<float>{7, 9, 11, 11, 19, 21, 23, 23, 31, 33, 35, 35, 31, 33, 35, 35}));
}

TEST(Pool2D, MatchesDirectLoop) {
  std::vector<PoolParams> cases;
  {  // prime channels, 3x3 s2 with padding, ceil
    PoolParams p;
    p.n = 2, p.c = 3, p.h = 13, p.w = 11, p.kh = p.kw = 3, p.sh = p.sw = 2;
    p.pt = p.pl = p.pb = p.pr = 1, p.ceil = true;
    cases.push_back(p);
  }
  {  // asymmetric pads, strides and kernel, floor
    PoolParams p;
    p.c = 5, p.h = 17, p.w = 9, p.kh = 4, p.kw = 2, p.sh = 3, p.sw = 1;
    p.pt = 2, p.pl = 0, p.pb = 0, p.pr = 1;
    cases.push_back(p);
  }
  {  // dilations with padding and ceil
    PoolParams p;
    p.c = 2, p.h = 10, p.w = 12, p.kh = p.kw = 3, p.sh = 2, p.sw = 3, p.dh = 2, p.dw = 3;
    p.pt = 2, p.pl = 1, p.pb = 1, p.pr = 2, p.ceil = true;
    cases.push_back(p);
  }
  {  // ceil mode without padding: the last window hangs off the input
    PoolParams p;
    p.c = 7, p.h = 8, p.w = 7, p.kh = p.kw = 3, p.sh = p.sw = 2, p.ceil = true;
    cases.push_back(p);
  }
  {  // kernel covers the whole image (a global pool written as a regular one)
    PoolParams p;
    p.c = 3, p.h = 7, p.w = 5, p.kh = 7, p.kw = 5;
    cases.push_back(p);
  }
  uint32_t seed = 900;
  for (size_t i = 0; i < cases.size(); ++i) {
    for (bool cip : {false, true}) {
      PoolParams p = cases[i];
      p.count_include_pad = cip;
      SCOPED_TRACE("case " + std::to_string(i) + (cip ? " count_include_pad" : ""));
      const auto x = RandomFloats(size_t(p.n) * p.c * p.h * p.w, seed++, -3, 2);
      std::vector<double> want;
      PoolReference(p, false, x, &want);
      ExpectClose(RunPool(opm::OpCode::AVERAGE_POOL_2D, p, x), want);
      PoolReference(p, true, x, &want);
      ExpectClose(RunPool(opm::OpCode::MAX_POOL_2D, p, x), want, {}, 0.0);
    }
  }
}

TEST(Pool2D, RefusesInconsistentModels) {
  auto run = [](opm::OpCode op, const PoolParams& p, std::vector<int32_t> out, std::string* e) {
    SingleOpModel m(
        op, PoolOpts(p),
        {Operand::F32({p.n, p.c, p.h, p.w}, std::vector<float>(p.n * p.c * p.h * p.w, 1))},
        {Operand::Out(out)});
    const Status s = m.Run();
    *e = m.error();
    return s;
  };
  std::string e;
  PoolParams p;
  p.c = 2, p.h = p.w = 5, p.kh = p.kw = 2, p.sh = p.sw = 2;
  // floor gives 2, ceil gives 3; anything else is refused.
  for (auto op : {opm::OpCode::MAX_POOL_2D, opm::OpCode::AVERAGE_POOL_2D}) {
    ASSERT_EQ(run(op, p, {1, 2, 2, 2}, &e), Status::kOk) << e;
    ASSERT_EQ(run(op, p, {1, 2, 3, 3}, &e), Status::kOk) << e;
    EXPECT_EQ(run(op, p, {1, 2, 4, 3}, &e), Status::kShapeMismatch);
    EXPECT_NE(e.find("floor"), std::string::npos) << e;
    EXPECT_EQ(run(op, p, {1, 2, 1, 2}, &e), Status::kShapeMismatch);
    EXPECT_EQ(run(op, p, {1, 3, 2, 2}, &e), Status::kShapeMismatch);
    EXPECT_EQ(run(op, p, {2, 2, 2}, &e), Status::kShapeMismatch);
    PoolParams q = p;
    q.kh = 0;
    EXPECT_EQ(run(op, q, {1, 2, 2, 2}, &e), Status::kCorruptModel);
    q = p;
    q.sw = 0;
    EXPECT_EQ(run(op, q, {1, 2, 2, 2}, &e), Status::kCorruptModel);
    q = p;
    q.dh = -1;
    EXPECT_EQ(run(op, q, {1, 2, 2, 2}, &e), Status::kCorruptModel);
    q = p;
    q.pl = -1;
    EXPECT_EQ(run(op, q, {1, 2, 2, 2}, &e), Status::kCorruptModel);
    // Padding wider than the kernel reach would create windows with no input cell.
    q = p;
    q.pt = 3;  // output 4 rows; the first window covers only padding rows -3 and -2
    EXPECT_EQ(run(op, q, {1, 2, 4, 2}, &e), Status::kShapeMismatch);
    EXPECT_NE(e.find("entirely in the padding"), std::string::npos) << e;
    // A ceil-mode window that starts in the end padding.
    q = p;
    q.h = 5, q.kh = 2, q.sh = 2, q.pt = 1, q.pb = 1;  // floor 3, ceil 4: window 3 starts at 5
    EXPECT_EQ(run(op, q, {1, 2, 4, 2}, &e), Status::kShapeMismatch);
    // Dilation can skip over the whole input.
    q = PoolParams();
    q.h = 1, q.w = 1, q.kh = 2, q.dh = 5, q.pt = 3, q.pb = 2;
    EXPECT_EQ(run(op, q, {1, 1, 1, 1}, &e), Status::kShapeMismatch);
  }
}

// --- MAX_POOL_2D's indices output -------------------------------------------------------------

struct ValuesAndIndices {
  std::vector<float> values;
  std::vector<int64_t> indices;
};

ValuesAndIndices RunMaxPoolWithIndices(const PoolParams& p, int storage_order,
                                       const std::vector<float>& x) {
  opm::OpOptionsUnion o = PoolOpts(p);
  o.AsPool2DOptions()->storage_order = storage_order;
  SingleOpModel m(
      opm::OpCode::MAX_POOL_2D, std::move(o), {Operand::F32({p.n, p.c, p.h, p.w}, x)},
      {Operand::Out(PoolOutShape(p)), Operand::Out(PoolOutShape(p), opm::DType::INT64)});
  EXPECT_EQ(m.Run(), Status::kOk) << m.error();
  return {m.OutputF32(0), m.Output<int64_t>(1)};
}

TEST(MaxPool2DIndices, OnnxCases) {
  PoolParams p;  // test_maxpool_with_argmax_2d_precomputed_pads
  p.h = p.w = 5, p.kh = p.kw = 5, p.pt = p.pl = p.pb = p.pr = 2;
  ValuesAndIndices r = RunMaxPoolWithIndices(p, 0, Iota(25, 1));
  EXPECT_EQ(r.values, (std::vector<float>{13, 14, 15, 15, 15, 18, 19, 20, 20, 20, 23, 24, 25,
                                          25, 25, 23, 24, 25, 25, 25, 23, 24, 25, 25, 25}));
  EXPECT_EQ(r.indices, (std::vector<int64_t>{12, 13, 14, 14, 14, 17, 18, 19, 19, 19, 22, 23, 24,
                                             24, 24, 22, 23, 24, 24, 24, 22, 23, 24, 24, 24}));
  p = PoolParams();  // test_maxpool_with_argmax_2d_precomputed_strides: column major
  p.h = p.w = 5, p.kh = p.kw = 2, p.sh = p.sw = 2;
  r = RunMaxPoolWithIndices(p, 1, Iota(25, 1));
  EXPECT_EQ(r.values, (std::vector<float>{7, 9, 17, 19}));
  EXPECT_EQ(r.indices, (std::vector<int64_t>{6, 16, 8, 18}));
  r = RunMaxPoolWithIndices(p, 0, Iota(25, 1));
  EXPECT_EQ(r.indices, (std::vector<int64_t>{6, 8, 16, 18}));
}

TEST(MaxPool2DIndices, FirstMaximumWinsAndNaNIsAMaximum) {
  PoolParams p;
  p.h = 2, p.w = 3, p.kh = 2, p.kw = 2;  // two windows, columns 0-1 and 1-2
  // Ties: the first in row-major window order. All -inf: the first cell. NaN: the first NaN.
  EXPECT_EQ(RunMaxPoolWithIndices(p, 0, {1, 5, 5, 5, 0, 0}).indices, (std::vector<int64_t>{1, 1}));
  ValuesAndIndices r = RunMaxPoolWithIndices(p, 0, {-INFINITY, -INFINITY, 2, -INFINITY, NAN, NAN});
  EXPECT_TRUE(std::isnan(r.values[0]));
  EXPECT_TRUE(std::isnan(r.values[1]));
  EXPECT_EQ(r.indices, (std::vector<int64_t>{4, 4}));
  r = RunMaxPoolWithIndices(p, 0, std::vector<float>(6, -INFINITY));
  EXPECT_EQ(r.values, (std::vector<float>{-INFINITY, -INFINITY}));
  EXPECT_EQ(r.indices, (std::vector<int64_t>{0, 1}));
}

// Independent loop: the window's cells in row-major order, the first strict maximum.
void ArgmaxReference(const PoolParams& p, int storage_order, const std::vector<float>& x,
                     std::vector<int64_t>* idx) {
  const auto os = PoolOutShape(p);
  idx->clear();
  for (int pl = 0; pl < p.n * p.c; ++pl)
    for (int i = 0; i < os[2]; ++i)
      for (int j = 0; j < os[3]; ++j) {
        float best = 0;
        int64_t at = -1;
        for (int u = 0; u < p.kh; ++u)
          for (int v = 0; v < p.kw; ++v) {
            const int ih = i * p.sh + u * p.dh - p.pt, iw = j * p.sw + v * p.dw - p.pl;
            if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) continue;
            const float val = x[(pl * p.h + ih) * p.w + iw];
            if (at < 0 || val > best) {
              best = val;
              at = storage_order == 0 ? ih * p.w + iw : ih + iw * p.h;
            }
          }
        idx->push_back(int64_t{pl} * p.h * p.w + at);
      }
}

TEST(MaxPool2DIndices, MatchesDirectLoop) {
  std::vector<PoolParams> cases;
  {
    PoolParams p;
    p.n = 2, p.c = 3, p.h = 13, p.w = 11, p.kh = p.kw = 3, p.sh = p.sw = 2;
    p.pt = p.pl = p.pb = p.pr = 1, p.ceil = true;
    cases.push_back(p);
  }
  {
    PoolParams p;
    p.c = 2, p.h = 10, p.w = 12, p.kh = p.kw = 3, p.sh = 2, p.sw = 3, p.dh = 2, p.dw = 3;
    p.pt = 2, p.pl = 1, p.pb = 1, p.pr = 2, p.ceil = true;
    cases.push_back(p);
  }
  {  // a 1-D pool as the importer writes it: H = 1
    PoolParams p;
    p.n = 3, p.c = 2, p.h = 1, p.w = 17, p.kw = 4, p.sw = 3, p.pl = 1, p.pr = 2;
    cases.push_back(p);
  }
  uint32_t seed = 950;
  for (size_t i = 0; i < cases.size(); ++i) {
    const PoolParams& p = cases[i];
    // Few distinct values: many ties.
    std::vector<float> x = RandomFloats(size_t(p.n) * p.c * p.h * p.w, seed++, -3, 3);
    for (float& v : x) v = std::round(v);
    for (int order : {0, 1}) {
      SCOPED_TRACE("case " + std::to_string(i) + " storage_order " + std::to_string(order));
      const ValuesAndIndices r = RunMaxPoolWithIndices(p, order, x);
      std::vector<double> want;
      PoolReference(p, true, x, &want);
      ExpectClose(r.values, want, {}, 0.0);
      std::vector<int64_t> want_idx;
      ArgmaxReference(p, order, x, &want_idx);
      EXPECT_EQ(r.indices, want_idx);
      // Every index points at its value.
      for (size_t k = 0; k < r.indices.size(); ++k) {
        const int64_t plane = r.indices[k] / (p.h * p.w), in = r.indices[k] % (p.h * p.w);
        const int64_t h = order == 0 ? in / p.w : in % p.h, w = order == 0 ? in % p.w : in / p.h;
        ASSERT_EQ(x[(plane * p.h + h) * p.w + w], r.values[k]) << k;
      }
    }
  }
}

TEST(MaxPool2DIndices, RefusesInconsistentModels) {
  PoolParams p;
  p.c = 2, p.h = p.w = 5, p.kh = p.kw = 2, p.sh = p.sw = 2;
  auto run = [&](int storage_order, std::vector<Operand> outs, std::string* e,
                 opm::OpCode op = opm::OpCode::MAX_POOL_2D) {
    opm::OpOptionsUnion o = PoolOpts(p);
    o.AsPool2DOptions()->storage_order = storage_order;
    SingleOpModel m(op, std::move(o), {Operand::F32({1, 2, 5, 5}, std::vector<float>(50, 1))},
                    std::move(outs));
    const Status s = m.Run();
    *e = m.error();
    return s;
  };
  const Operand y = Operand::Out({1, 2, 2, 2});
  const Operand i64 = Operand::Out({1, 2, 2, 2}, opm::DType::INT64);
  std::string e;
  ASSERT_EQ(run(0, {y, i64}, &e), Status::kOk) << e;
  ASSERT_EQ(run(1, {y, i64}, &e), Status::kOk) << e;
  EXPECT_EQ(run(2, {y, i64}, &e), Status::kCorruptModel);
  EXPECT_NE(e.find("storage_order"), std::string::npos) << e;
  EXPECT_EQ(run(-1, {y}, &e), Status::kCorruptModel);
  EXPECT_EQ(run(0, {y, Operand::Out({1, 2, 2, 2}, opm::DType::INT32)}, &e), Status::kUnsupported);
  EXPECT_NE(e.find("INT64"), std::string::npos) << e;
  EXPECT_EQ(run(0, {y, Operand::Out({1, 2, 2, 2})}, &e), Status::kUnsupported);
  EXPECT_EQ(run(0, {y, Operand::Out({1, 2, 4, 1}, opm::DType::INT64)}, &e), Status::kShapeMismatch);
  EXPECT_EQ(run(0, {y, Operand::Out({1, 2, 2}, opm::DType::INT64)}, &e), Status::kShapeMismatch);
  EXPECT_EQ(run(0, {y, i64, i64}, &e), Status::kCorruptModel);
  EXPECT_EQ(run(0, {Operand::Out({1, 2, 2, 2}, opm::DType::INT64), i64}, &e), Status::kUnsupported);
  // Average pooling has no indices output.
  EXPECT_EQ(run(0, {y, i64}, &e, opm::OpCode::AVERAGE_POOL_2D), Status::kCorruptModel);
}

TEST(GlobalPool, OnnxCasesAndHigherRanks) {
  for (auto op : {opm::OpCode::GLOBAL_AVERAGE_POOL, opm::OpCode::GLOBAL_MAX_POOL}) {
    SingleOpModel m(op, {}, {Operand::F32({1, 1, 3, 3}, Iota(9, 1))}, {Operand::Out({1, 1, 1, 1})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(m.OutputF32(0)[0], op == opm::OpCode::GLOBAL_MAX_POOL ? 9 : 5);
  }
  // Rank 3 (1-D spatial) and rank 5 (3-D spatial), prime channel counts.
  for (std::vector<int32_t> shape :
       {std::vector<int32_t>{2, 3, 7}, std::vector<int32_t>{1, 5, 3, 4, 2}}) {
    const int64_t planes = shape[0] * shape[1], size = Product(shape) / planes;
    const auto x = RandomFloats(Product(shape), 31);
    std::vector<int32_t> out = shape;
    for (size_t i = 2; i < out.size(); ++i) out[i] = 1;
    std::vector<double> mean(planes, 0), mx(planes, -INFINITY), mag(planes, 0);
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t i = 0; i < size; ++i) {
        mean[p] += x[p * size + i] / double(size);
        mag[p] += std::fabs(x[p * size + i]) / double(size);
        mx[p] = std::max(mx[p], double(x[p * size + i]));
      }
    SingleOpModel avg(opm::OpCode::GLOBAL_AVERAGE_POOL, {}, {Operand::F32(shape, x)},
                      {Operand::Out(out)});
    ASSERT_EQ(avg.Run(), Status::kOk) << avg.error();
    ExpectClose(avg.OutputF32(0), mean, mag);
    SingleOpModel max(opm::OpCode::GLOBAL_MAX_POOL, {}, {Operand::F32(shape, x)},
                      {Operand::Out(out)});
    ASSERT_EQ(max.Run(), Status::kOk) << max.error();
    ExpectClose(max.OutputF32(0), mx, {}, 0.0);
  }
}

TEST(GlobalPool, RefusesBadShapes) {
  for (auto op : {opm::OpCode::GLOBAL_AVERAGE_POOL, opm::OpCode::GLOBAL_MAX_POOL}) {
    SingleOpModel r2(op, {}, {Operand::F32({2, 3}, std::vector<float>(6, 1))},
                     {Operand::Out({2, 3})});
    EXPECT_EQ(r2.Run(), Status::kShapeMismatch);
    EXPECT_NE(r2.error().find("rank >= 3"), std::string::npos) << r2.error();
    SingleOpModel flat(op, {}, {Operand::F32({1, 2, 2, 2}, std::vector<float>(8, 1))},
                       {Operand::Out({1, 2})});
    EXPECT_EQ(flat.Run(), Status::kShapeMismatch);
    SingleOpModel spatial(op, {}, {Operand::F32({1, 2, 2, 2}, std::vector<float>(8, 1))},
                          {Operand::Out({1, 2, 1, 2})});
    EXPECT_EQ(spatial.Run(), Status::kShapeMismatch);
    SingleOpModel chans(op, {}, {Operand::F32({1, 2, 2, 2}, std::vector<float>(8, 1))},
                        {Operand::Out({1, 1, 1, 1})});
    EXPECT_EQ(chans.Run(), Status::kShapeMismatch);
  }
}

}  // namespace
}  // namespace outpost::testing
