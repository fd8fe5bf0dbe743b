// CONV_TRANSPOSE_2D reference kernel: the ONNX backend test cases, comparisons with a
// gather-form double-precision loop on random data, and refusal of inconsistent models.
#include <gtest/gtest.h>

#include "tests/runtime/conv_test_util.h"

namespace outpost::testing {
namespace {

using opm::Activation;

std::vector<int32_t> ConvTransposeOutShape(const ConvParams& p) {
  const int oh =
      p.stride_h * (p.h - 1) + p.out_pad_h + p.dil_h * (p.kh - 1) + 1 - p.pad_t - p.pad_b;
  const int ow =
      p.stride_w * (p.w - 1) + p.out_pad_w + p.dil_w * (p.kw - 1) + 1 - p.pad_l - p.pad_r;
  return {p.n, p.m, oh, ow};
}

// Gather form of the definition: output (oh, ow) receives x(ih, iw) * w(kh, kw) whenever
// oh = ih * stride - pad + kh * dilation (the kernel scatters instead).
void ConvTransposeReference(const ConvParams& p, const std::vector<float>& x,
                            const std::vector<float>& w, const std::vector<float>& b,
                            std::vector<double>* y, std::vector<double>* mag) {
  const auto os = ConvTransposeOutShape(p);
  const int oh = os[2], ow = os[3], cg = p.c / p.groups, mg = p.m / p.groups;
  y->assign(Product(os), 0.0);
  mag->assign(Product(os), 0.0);
  for (int n = 0; n < p.n; ++n)
    for (int m = 0; m < p.m; ++m)
      for (int i = 0; i < oh; ++i)
        for (int j = 0; j < ow; ++j) {
          double s = p.bias ? b[m] : 0.0, a = p.bias ? std::fabs(b[m]) : 0.0;
          const int g = m / mg;
          for (int ci = 0; ci < cg; ++ci)
            for (int u = 0; u < p.kh; ++u)
              for (int v = 0; v < p.kw; ++v) {
                const int th = i + p.pad_t - u * p.dil_h, tw = j + p.pad_l - v * p.dil_w;
                if (th < 0 || tw < 0 || th % p.stride_h || tw % p.stride_w) continue;
                const int ih = th / p.stride_h, iw = tw / p.stride_w;
                if (ih >= p.h || iw >= p.w) continue;
                const int c = g * cg + ci;
                const double t = static_cast<double>(x[((n * p.c + c) * p.h + ih) * p.w + iw]) *
                                 w[((c * mg + m % mg) * p.kh + u) * p.kw + v];
                s += t;
                a += std::fabs(t);
              }
          const size_t k = ((static_cast<size_t>(n) * p.m + m) * oh + i) * ow + j;
          (*y)[k] = ApplyAct(p, s);
          (*mag)[k] = a;
        }
}

std::unique_ptr<SingleOpModel> MakeConvTranspose(const ConvParams& p, const std::vector<float>& x,
                                                 const std::vector<float>& w,
                                                 const std::vector<float>& b,
                                                 std::vector<int32_t> out_shape) {
  std::vector<Operand> ins = {Operand::F32({p.n, p.c, p.h, p.w}, x),
                              Operand::F32({p.c, p.m / p.groups, p.kh, p.kw}, w, true)};
  ins.push_back(p.bias ? Operand::F32({p.m}, b, true) : Operand::Absent());
  return std::make_unique<SingleOpModel>(
      opm::OpCode::CONV_TRANSPOSE_2D, Options(FillOptions<opm::ConvTranspose2DOptionsT>(p)),
      std::move(ins), std::vector<Operand>{Operand::Out(out_shape)});
}

TEST(ConvTranspose2D, OnnxDefault) {
  ConvParams p;
  p.h = p.w = 3, p.m = 2, p.kh = p.kw = 3, p.bias = false;
  auto m = MakeConvTranspose(p, {0, 1, 2, 3, 4, 5, 6, 7, 8}, std::vector<float>(18, 1.0f), {},
                             {1, 2, 5, 5});
  ASSERT_EQ(m->Run(), Status::kOk) << m->error();
  const std::vector<float> plane = {0,  1,  3, 3,  2,  3,  8,  15, 12, 7,  9,  21, 36,
                                    27, 15, 9, 20, 33, 24, 13, 6,  13, 21, 15, 8};
  std::vector<float> want = plane;
  want.insert(want.end(), plane.begin(), plane.end());
  EXPECT_EQ(m->OutputF32(0), want);
}

TEST(ConvTranspose2D, OnnxOutputShapeImpliesOutputPadding) {
  // ONNX test_convtranspose_output_shape: strides [3, 2], output_shape [10, 8].
  ConvParams p;
  p.h = p.w = 3, p.m = 2, p.kh = p.kw = 3, p.stride_h = 3, p.stride_w = 2, p.bias = false;
  auto m = MakeConvTranspose(p, {0, 1, 2, 3, 4, 5, 6, 7, 8}, std::vector<float>(18, 1.0f), {},
                             {1, 2, 10, 8});
  ASSERT_EQ(m->Run(), Status::kOk) << m->error();
  const std::vector<float> plane = {
      0, 0, 1, 1, 3,  2, 2,  0, 0, 0, 1, 1, 3,  2, 2,  0, 0, 0, 1, 1, 3, 2, 2, 0,  3, 3,  7,
      4, 9, 5, 5, 0,  3, 3,  7, 4, 9, 5, 5, 0,  3, 3,  7, 4, 9, 5, 5, 0, 6, 6, 13, 7, 15, 8,
      8, 0, 6, 6, 13, 7, 15, 8, 8, 0, 6, 6, 13, 7, 15, 8, 8, 0, 0, 0, 0, 0, 0, 0,  0, 0};
  std::vector<float> want = plane;
  want.insert(want.end(), plane.begin(), plane.end());
  EXPECT_EQ(m->OutputF32(0), want);
}

TEST(ConvTranspose2D, OnnxPads) {
  ConvParams p;
  p.h = p.w = 3, p.m = 2, p.kh = p.kw = 3, p.stride_h = 3, p.stride_w = 2, p.bias = false;
  p.pad_t = p.pad_b = 1, p.pad_l = p.pad_r = 2;
  auto m = MakeConvTranspose(p, {0, 1, 2, 3, 4, 5, 6, 7, 8}, std::vector<float>(18, 1.0f), {},
                             {1, 2, 7, 3});
  ASSERT_EQ(m->Run(), Status::kOk) << m->error();
  const std::vector<float> plane = {1, 1, 3, 1, 1,  3, 7,  4,  9, 7, 4,
                                    9, 7, 4, 9, 13, 7, 15, 13, 7, 15};
  std::vector<float> want = plane;
  want.insert(want.end(), plane.begin(), plane.end());
  EXPECT_EQ(m->OutputF32(0), want);
}

TEST(ConvTranspose2D, OnnxDilations) {
  ConvParams p;
  p.h = p.w = 3, p.kh = p.kw = 2, p.dil_h = p.dil_w = 2, p.bias = false;
  auto m = MakeConvTranspose(p, {3, 8, 1, 9, 5, 7, 3, 2, 6}, {7, 2, 1, 9}, {}, {1, 1, 5, 5});
  ASSERT_EQ(m->Run(), Status::kOk) << m->error();
  EXPECT_EQ(m->OutputF32(0), (std::vector<float>{21, 56, 13, 16, 2,  63, 35, 67, 10, 14, 24, 22, 76,
                                                 76, 21, 9,  5,  88, 45, 63, 3,  2,  33, 18, 54}));
}

TEST(ConvTranspose2D, MatchesDirectLoop) {
  std::vector<ConvParams> cases;
  {  // prime channels, stride 2, bias, relu
    ConvParams p;
    p.c = 5, p.h = 6, p.w = 7, p.m = 3, p.kh = p.kw = 3, p.stride_h = p.stride_w = 2;
    p.pad_t = p.pad_l = p.pad_b = p.pad_r = 1, p.out_pad_h = p.out_pad_w = 1;
    p.act = Activation::RELU;
    cases.push_back(p);
  }
  {  // 2x2 stride-2 upsampling (decoder style), batch 2
    ConvParams p;
    p.n = 2, p.c = 4, p.h = 5, p.w = 3, p.m = 6, p.kh = p.kw = 2, p.stride_h = p.stride_w = 2;
    cases.push_back(p);
  }
  {  // groups, asymmetric strides, pads and dilations, output padding < dilation
    ConvParams p;
    p.c = 6, p.h = 4, p.w = 5, p.m = 9, p.groups = 3, p.kh = 3, p.kw = 2;
    p.stride_h = 1, p.stride_w = 3, p.dil_h = 3, p.dil_w = 2;
    p.pad_t = 2, p.pad_b = 1, p.pad_l = 0, p.pad_r = 2, p.out_pad_h = 2, p.out_pad_w = 2;
    p.bias = false;
    cases.push_back(p);
  }
  {  // depthwise transpose
    ConvParams p;
    p.c = p.m = p.groups = 7, p.h = p.w = 4, p.kh = p.kw = 4, p.stride_h = p.stride_w = 2;
    p.pad_t = p.pad_l = p.pad_b = p.pad_r = 1;
    cases.push_back(p);
  }
  {  // pads larger than the kernel reach remove whole input rows from the output
    ConvParams p;
    p.c = 2, p.h = 5, p.w = 6, p.m = 2, p.kh = p.kw = 2, p.stride_h = p.stride_w = 3;
    p.pad_t = 4, p.pad_b = 3, p.pad_l = 5, p.pad_r = 0, p.out_pad_h = 2;
    p.act = Activation::CLIP, p.act_min = -0.25f, p.act_max = 0.25f;
    cases.push_back(p);
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    const ConvParams& p = cases[i];
    const uint32_t seed = 300 + 10 * static_cast<uint32_t>(i);
    const auto x = RandomFloats(static_cast<size_t>(p.n) * p.c * p.h * p.w, seed);
    const auto w =
        RandomFloats(static_cast<size_t>(p.c) * (p.m / p.groups) * p.kh * p.kw, seed + 1);
    const auto b = RandomFloats(p.m, seed + 2);
    auto m = MakeConvTranspose(p, x, w, b, ConvTransposeOutShape(p));
    ASSERT_EQ(m->Run(), Status::kOk) << m->error();
    std::vector<double> want, mag;
    ConvTransposeReference(p, x, w, b, &want, &mag);
    ExpectClose(m->OutputF32(0), want, mag);
  }
}

TEST(ConvTranspose2D, ResultsDoNotDependOnTheExecutor) {
  ConvParams p;
  p.n = 2, p.c = 4, p.h = p.w = 5, p.m = 6, p.kh = p.kw = 3, p.groups = 2;
  p.stride_h = p.stride_w = 2;
  const auto x = RandomFloats(2 * 4 * 25, 17), w = RandomFloats(4 * 3 * 9, 18);
  const auto b = RandomFloats(6, 19);
  auto m = MakeConvTranspose(p, x, w, b, ConvTransposeOutShape(p));
  ASSERT_EQ(m->Run(), Status::kOk) << m->error();
  const auto serial = m->OutputF32(0);
  Executor e;
  e.parallel_for = ReversedChunks;
  e.threads = 4;
  m->interpreter().set_executor(&e);
  ASSERT_EQ(m->interpreter().Invoke(), Status::kOk);
  EXPECT_EQ(m->OutputF32(0), serial);
}

TEST(ConvTranspose2D, RefusesInconsistentModels) {
  ConvParams p;
  p.c = 4, p.h = p.w = 3, p.m = 4, p.groups = 2, p.kh = p.kw = 3, p.stride_h = p.stride_w = 2;
  const std::vector<float> x(36, 1.0f), w(4 * 2 * 9, 1.0f), b(4, 0.0f);
  auto run = [&](const ConvParams& q, std::vector<int32_t> ws, std::vector<int32_t> bs,
                 std::vector<int32_t> ys, std::string* err) {
    std::vector<Operand> ins = {Operand::F32({q.n, q.c, q.h, q.w}, x),
                                Operand::F32(ws, std::vector<float>(Product(ws), 1.0f), true)};
    if (!bs.empty()) ins.push_back(Operand::F32(bs, std::vector<float>(Product(bs), 0.0f), true));
    SingleOpModel m(opm::OpCode::CONV_TRANSPOSE_2D,
                    Options(FillOptions<opm::ConvTranspose2DOptionsT>(q)), ins, {Operand::Out(ys)});
    const Status s = m.Run();
    *err = m.error();
    return s;
  };
  std::string err;
  // Baseline: out = 2 * 2 + 3 = 7; output padding 1 gives 8.
  ASSERT_EQ(run(p, {4, 2, 3, 3}, {4}, {1, 4, 7, 7}, &err), Status::kOk) << err;
  ASSERT_EQ(run(p, {4, 2, 3, 3}, {4}, {1, 4, 8, 7}, &err), Status::kOk) << err;
  EXPECT_EQ(run(p, {4, 2, 3, 3}, {4}, {1, 4, 9, 7}, &err), Status::kShapeMismatch);
  EXPECT_NE(err.find("output padding 2"), std::string::npos) << err;
  EXPECT_EQ(run(p, {4, 2, 3, 3}, {4}, {1, 4, 6, 7}, &err), Status::kShapeMismatch);
  EXPECT_NE(err.find("output padding -1"), std::string::npos) << err;
  EXPECT_EQ(run(p, {3, 2, 3, 3}, {4}, {1, 4, 7, 7}, &err), Status::kShapeMismatch);
  EXPECT_EQ(run(p, {4, 2, 3, 3}, {4}, {1, 2, 7, 7}, &err), Status::kShapeMismatch);
  EXPECT_EQ(run(p, {4, 2, 3, 3}, {2}, {1, 4, 7, 7}, &err), Status::kShapeMismatch);
  EXPECT_NE(err.find("bias"), std::string::npos) << err;
  ConvParams q = p;
  q.groups = 3;
  EXPECT_EQ(run(q, {4, 2, 3, 3}, {4}, {1, 6, 7, 7}, &err), Status::kShapeMismatch);
  q = p;
  q.dil_h = 0;
  EXPECT_EQ(run(q, {4, 2, 3, 3}, {4}, {1, 4, 7, 7}, &err), Status::kCorruptModel);
  q = p;
  q.pad_b = -1;
  EXPECT_EQ(run(q, {4, 2, 3, 3}, {4}, {1, 4, 8, 7}, &err), Status::kCorruptModel);
  q = p;
  q.stride_w = 0;
  EXPECT_EQ(run(q, {4, 2, 3, 3}, {4}, {1, 4, 7, 7}, &err), Status::kCorruptModel);
  q = p;
  q.groups = 0;
  EXPECT_EQ(run(q, {4, 2, 3, 3}, {4}, {1, 4, 7, 7}, &err), Status::kCorruptModel);
  q = p;
  q.act = static_cast<Activation>(-3);
  EXPECT_EQ(run(q, {4, 2, 3, 3}, {4}, {1, 4, 7, 7}, &err), Status::kCorruptModel);
}

}  // namespace
}  // namespace outpost::testing
