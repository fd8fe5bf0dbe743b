// CONV_2D reference kernel: hand-checked cases (several from the ONNX backend test data),
// comparisons with a direct double-precision loop on random data, and refusal of inconsistent
// models.
#include <gtest/gtest.h>

#include "tests/runtime/conv_test_util.h"

namespace outpost::testing {
namespace {

using opm::Activation;

std::vector<int32_t> ConvOutShape(const ConvParams& p) {
  const int oh = (p.h + p.pad_t + p.pad_b - (p.dil_h * (p.kh - 1) + 1)) / p.stride_h + 1;
  const int ow = (p.w + p.pad_l + p.pad_r - (p.dil_w * (p.kw - 1) + 1)) / p.stride_w + 1;
  return {p.n, p.m, oh, ow};
}

// Direct definition: every output sums over its window, skipping cells in the padding.
void ConvReference(const ConvParams& p, const std::vector<float>& x, const std::vector<float>& w,
                   const std::vector<float>& b, std::vector<double>* y, std::vector<double>* mag) {
  const auto os = ConvOutShape(p);
  const int oh = os[2], ow = os[3], cg = p.c / p.groups, mg = p.m / p.groups;
  y->assign(Product(os), 0.0);
  mag->assign(Product(os), 0.0);
  for (int n = 0; n < p.n; ++n)
    for (int m = 0; m < p.m; ++m)
      for (int i = 0; i < oh; ++i)
        for (int j = 0; j < ow; ++j) {
          double s = p.bias ? b[m] : 0.0, a = p.bias ? std::fabs(b[m]) : 0.0;
          for (int ci = 0; ci < cg; ++ci)
            for (int u = 0; u < p.kh; ++u)
              for (int v = 0; v < p.kw; ++v) {
                const int ih = i * p.stride_h - p.pad_t + u * p.dil_h;
                const int iw = j * p.stride_w - p.pad_l + v * p.dil_w;
                if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) continue;
                const int c = (m / mg) * cg + ci;
                const double t = static_cast<double>(x[((n * p.c + c) * p.h + ih) * p.w + iw]) *
                                 w[((m * cg + ci) * p.kh + u) * p.kw + v];
                s += t;
                a += std::fabs(t);
              }
          const size_t k = ((static_cast<size_t>(n) * p.m + m) * oh + i) * ow + j;
          (*y)[k] = ApplyAct(p, s);
          (*mag)[k] = a;
        }
}

std::unique_ptr<SingleOpModel> MakeConv(const ConvParams& p, const std::vector<float>& x,
                                        const std::vector<float>& w, const std::vector<float>& b,
                                        std::vector<int32_t> out_shape) {
  std::vector<Operand> ins = {Operand::F32({p.n, p.c, p.h, p.w}, x),
                              Operand::F32({p.m, p.c / p.groups, p.kh, p.kw}, w, true)};
  ins.push_back(p.bias ? Operand::F32({p.m}, b, true) : Operand::Absent());
  return std::make_unique<SingleOpModel>(
      opm::OpCode::CONV_2D, Options(FillOptions<opm::Conv2DOptionsT>(p)), std::move(ins),
      std::vector<Operand>{Operand::Out(out_shape)});
}

void CheckConvAgainstReference(const ConvParams& p, uint32_t seed) {
  const auto x = RandomFloats(static_cast<size_t>(p.n) * p.c * p.h * p.w, seed);
  const auto w = RandomFloats(static_cast<size_t>(p.m) * (p.c / p.groups) * p.kh * p.kw, seed + 1);
  const auto b = RandomFloats(p.m, seed + 2);
  auto m = MakeConv(p, x, w, b, ConvOutShape(p));
  ASSERT_EQ(m->Run(), Status::kOk) << m->error();
  std::vector<double> want, mag;
  ConvReference(p, x, w, b, &want, &mag);
  ExpectClose(m->OutputF32(0), want, mag, 1e-5, "seed " + std::to_string(seed));
}

TEST(Conv2D, OnnxBasicConvWithPadding) {
  ConvParams p;
  p.h = p.w = 5;
  p.kh = p.kw = 3;
  p.pad_t = p.pad_l = p.pad_b = p.pad_r = 1;
  p.bias = false;
  std::vector<float> x(25);
  for (int i = 0; i < 25; ++i) x[i] = i;
  auto m = MakeConv(p, x, std::vector<float>(9, 1.0f), {}, {1, 1, 5, 5});
  ASSERT_EQ(m->Run(), Status::kOk) << m->error();
  EXPECT_EQ(m->OutputF32(0),
            (std::vector<float>{12,  21, 27, 33,  24,  33,  54,  63, 72,  51,  63,  99, 108,
                                117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84}));
}

TEST(Conv2D, OnnxStridesAndAsymmetricPadding) {
  ConvParams p;
  p.h = 7;
  p.w = 5;
  p.kh = p.kw = 3;
  p.stride_h = p.stride_w = 2;
  p.pad_t = p.pad_b = 1;  // ONNX pads [1, 0, 1, 0]
  p.bias = false;
  std::vector<float> x(35);
  for (int i = 0; i < 35; ++i) x[i] = i;
  auto m = MakeConv(p, x, std::vector<float>(9, 1.0f), {}, {1, 1, 4, 2});
  ASSERT_EQ(m->Run(), Status::kOk) << m->error();
  EXPECT_EQ(m->OutputF32(0), (std::vector<float>{21, 33, 99, 117, 189, 207, 171, 183}));
}

TEST(Conv2D, TwoChannelsWithBias) {
  // x: two 2x2 channels; w: one 1x1 output channel per input channel summed, plus bias.
  ConvParams p;
  p.c = 2;
  p.h = p.w = 2;
  p.m = 2;
  auto m = MakeConv(p, {1, 2, 3, 4, 10, 20, 30, 40}, {1, 1, 2, -1}, {0.5f, -1}, {1, 2, 2, 2});
  ASSERT_EQ(m->Run(), Status::kOk) << m->error();
  EXPECT_EQ(m->OutputF32(0), (std::vector<float>{11.5f, 22.5f, 33.5f, 44.5f, -9, -17, -25, -33}));
}

TEST(Conv2D, FusedActivations) {
  ConvParams p;
  p.w = 4;
  p.bias = false;
  const std::vector<float> x = {-7, -1, 2, 9};
  p.act = Activation::RELU;
  auto relu = MakeConv(p, x, {1}, {}, {1, 1, 1, 4});
  ASSERT_EQ(relu->Run(), Status::kOk) << relu->error();
  EXPECT_EQ(relu->OutputF32(0), (std::vector<float>{0, 0, 2, 9}));
  p.act = Activation::CLIP;
  p.act_min = 0;
  p.act_max = 6;
  auto relu6 = MakeConv(p, x, {1}, {}, {1, 1, 1, 4});
  ASSERT_EQ(relu6->Run(), Status::kOk) << relu6->error();
  EXPECT_EQ(relu6->OutputF32(0), (std::vector<float>{0, 0, 2, 6}));
  p.act = Activation::HARD_SWISH;
  auto hs = MakeConv(p, x, {1}, {}, {1, 1, 1, 4});
  ASSERT_EQ(hs->Run(), Status::kOk) << hs->error();
  const auto y = hs->OutputF32(0);
  EXPECT_FLOAT_EQ(y[0], 0);
  EXPECT_FLOAT_EQ(y[1], -1.0f / 3);
  EXPECT_FLOAT_EQ(y[2], 2.0f * 5 / 6);
  EXPECT_FLOAT_EQ(y[3], 9);
}

TEST(Conv2D, MatchesDirectLoop) {
  std::vector<ConvParams> cases;
  {  // prime channel counts, 3x3, same padding
    ConvParams p;
    p.c = 5, p.h = 11, p.w = 13, p.m = 7, p.kh = p.kw = 3;
    p.pad_t = p.pad_l = p.pad_b = p.pad_r = 1;
    cases.push_back(p);
  }
  {  // stride 2, 7x7, asymmetric pads, batch 2, no bias
    ConvParams p;
    p.n = 2, p.c = 3, p.h = 19, p.w = 17, p.m = 5, p.kh = p.kw = 7;
    p.stride_h = p.stride_w = 2, p.pad_t = 3, p.pad_l = 2, p.pad_b = 1, p.pad_r = 3;
    p.bias = false;
    cases.push_back(p);
  }
  {  // different strides and dilations per axis
    ConvParams p;
    p.c = 2, p.h = 23, p.w = 20, p.m = 3, p.kh = 3, p.kw = 2;
    p.stride_h = 3, p.stride_w = 1, p.dil_h = 2, p.dil_w = 3, p.pad_t = 2, p.pad_r = 1;
    cases.push_back(p);
  }
  {  // grouped: 6 channels in 3 groups, 9 outputs
    ConvParams p;
    p.c = 6, p.h = 9, p.w = 10, p.m = 9, p.kh = p.kw = 3, p.groups = 3;
    p.stride_w = 2, p.pad_t = p.pad_b = 1;
    cases.push_back(p);
  }
  {  // depthwise, prime channels, relu6
    ConvParams p;
    p.c = p.m = p.groups = 7, p.h = p.w = 12, p.kh = p.kw = 3;
    p.stride_h = p.stride_w = 2, p.pad_t = p.pad_l = p.pad_b = p.pad_r = 1;
    p.act = Activation::CLIP, p.act_min = 0, p.act_max = 0.5f;
    cases.push_back(p);
  }
  {  // depthwise with channel multiplier 2, dilation 2
    ConvParams p;
    p.c = p.groups = 4, p.m = 8, p.h = p.w = 10, p.kh = p.kw = 3, p.dil_h = p.dil_w = 2;
    p.pad_t = p.pad_l = p.pad_b = p.pad_r = 2;
    cases.push_back(p);
  }
  {  // kernel as large as the padded input, pads larger than the kernel reach
    ConvParams p;
    p.c = 3, p.h = 2, p.w = 3, p.m = 2, p.kh = 5, p.kw = 4, p.pad_t = 3, p.pad_b = 4, p.pad_l = 1,
    p.pad_r = 6;
    cases.push_back(p);
  }
  {  // 1x1 pointwise, long channel reduction, hard-swish
    ConvParams p;
    p.c = 67, p.h = 5, p.w = 6, p.m = 11;
    p.act = Activation::HARD_SWISH;
    cases.push_back(p);
  }
  {  // 1-row image, wide kernel, stride 3
    ConvParams p;
    p.c = 2, p.h = 1, p.w = 31, p.m = 3, p.kh = 1, p.kw = 5, p.stride_w = 3, p.pad_l = 2;
    cases.push_back(p);
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    CheckConvAgainstReference(cases[i], 100 + 10 * static_cast<uint32_t>(i));
  }
}

TEST(Conv2D, ResultsDoNotDependOnTheExecutor) {
  ConvParams p;
  p.n = 2, p.c = 4, p.h = p.w = 9, p.m = 6, p.kh = p.kw = 3, p.groups = 2, p.pad_t = p.pad_l = 1;
  const auto x = RandomFloats(2 * 4 * 81, 7), w = RandomFloats(6 * 2 * 9, 8),
             b = RandomFloats(6, 9);
  auto m = MakeConv(p, x, w, b, ConvOutShape(p));
  ASSERT_EQ(m->Run(), Status::kOk) << m->error();
  const auto serial = m->OutputF32(0);
  Executor e;
  e.parallel_for = ReversedChunks;
  e.threads = 4;
  m->interpreter().set_executor(&e);
  ASSERT_EQ(m->interpreter().Invoke(), Status::kOk);
  EXPECT_EQ(m->OutputF32(0), serial);
}

// Builds a conv from explicit shapes, for refusal tests.
Status RunConvShapes(std::vector<int32_t> xs, std::vector<int32_t> ws, std::vector<int32_t> bs,
                     std::vector<int32_t> ys, opm::Conv2DOptionsT o, std::string* error) {
  std::vector<Operand> ins = {Operand::F32(xs, std::vector<float>(Product(xs), 1.0f)),
                              Operand::F32(ws, std::vector<float>(Product(ws), 1.0f), true)};
  if (!bs.empty()) ins.push_back(Operand::F32(bs, std::vector<float>(Product(bs), 0.0f), true));
  SingleOpModel m(opm::OpCode::CONV_2D, Options(o), ins, {Operand::Out(ys)});
  const Status s = m.Run();
  *error = m.error();
  return s;
}

TEST(Conv2D, RefusesInconsistentModels) {
  std::string err;
  opm::Conv2DOptionsT o;
  // The valid baseline: 4 channels, 2 groups, 6 outputs, 3x3 kernel, no padding.
  const std::vector<int32_t> xs = {1, 4, 5, 5}, ws = {6, 2, 3, 3}, ys = {1, 6, 3, 3};
  o.groups = 2;
  ASSERT_EQ(RunConvShapes(xs, ws, {6}, ys, o, &err), Status::kOk) << err;

  EXPECT_EQ(RunConvShapes({4, 5, 5}, ws, {6}, ys, o, &err), Status::kShapeMismatch);
  EXPECT_NE(err.find("rank 4"), std::string::npos) << err;
  EXPECT_EQ(RunConvShapes(xs, ws, {6}, {1, 6, 3, 4}, o, &err), Status::kShapeMismatch);
  EXPECT_NE(err.find("expected [1,6,3,3]"), std::string::npos) << err;
  EXPECT_EQ(RunConvShapes(xs, {6, 4, 3, 3}, {6}, ys, o, &err), Status::kShapeMismatch);
  EXPECT_NE(err.find("per group"), std::string::npos) << err;
  EXPECT_EQ(RunConvShapes(xs, ws, {5}, ys, o, &err), Status::kShapeMismatch);
  EXPECT_NE(err.find("bias"), std::string::npos) << err;
  EXPECT_EQ(RunConvShapes(xs, ws, {1, 6}, ys, o, &err), Status::kShapeMismatch);
  EXPECT_EQ(RunConvShapes(xs, {5, 2, 3, 3}, {5}, {1, 5, 3, 3}, o, &err), Status::kShapeMismatch);
  EXPECT_NE(err.find("output channels"), std::string::npos) << err;
  EXPECT_EQ(RunConvShapes({1, 5, 5, 5}, {6, 2, 3, 3}, {6}, ys, o, &err), Status::kShapeMismatch);
  EXPECT_NE(err.find("input channels"), std::string::npos) << err;
  // Kernel larger than the (unpadded) input.
  EXPECT_EQ(RunConvShapes(xs, {6, 2, 7, 3}, {6}, {1, 6, 1, 3}, o, &err), Status::kShapeMismatch);
  EXPECT_NE(err.find("exceeds"), std::string::npos) << err;

  auto bad = [&](auto mutate, Status want, const char* text) {
    opm::Conv2DOptionsT b = o;
    mutate(b);
    EXPECT_EQ(RunConvShapes(xs, ws, {6}, ys, b, &err), want) << text;
    EXPECT_NE(err.find(text), std::string::npos) << err;
  };
  bad([](auto& b) { b.stride_h = 0; }, Status::kCorruptModel, "strides");
  bad([](auto& b) { b.stride_w = -2; }, Status::kCorruptModel, "strides");
  bad([](auto& b) { b.dilation_w = 0; }, Status::kCorruptModel, "dilations");
  bad([](auto& b) { b.pad_left = -1; }, Status::kCorruptModel, "pads");
  bad([](auto& b) { b.groups = 0; }, Status::kCorruptModel, "groups");
  bad([](auto& b) { b.groups = -2; }, Status::kCorruptModel, "groups");
  bad([](auto& b) { b.activation = static_cast<Activation>(42); }, Status::kCorruptModel,
      "activation");
  // Huge strides / dilations / pads must not overflow the shape arithmetic.
  bad([](auto& b) { b.dilation_h = 2147483647; }, Status::kShapeMismatch, "exceeds");
  bad([](auto& b) { b.pad_top = 2147483647; }, Status::kShapeMismatch, "expected");
  bad([](auto& b) { b.stride_h = 2147483647; }, Status::kShapeMismatch, "expected");
}

TEST(Conv2D, RefusesMissingWeightsAndWrongTypes) {
  {
    SingleOpModel m(opm::OpCode::CONV_2D, Options(opm::Conv2DOptionsT()),
                    {Operand::F32({1, 1, 2, 2}, {1, 2, 3, 4}), Operand::Absent()},
                    {Operand::Out({1, 1, 2, 2})});
    EXPECT_EQ(m.Run(), Status::kCorruptModel);
    EXPECT_NE(m.error().find("input 1 missing"), std::string::npos) << m.error();
  }
  {
    SingleOpModel m(opm::OpCode::CONV_2D, Options(opm::Conv2DOptionsT()),
                    {Operand::F32({1, 1, 2, 2}, {1, 2, 3, 4}),
                     Operand::Of<int32_t>(opm::DType::INT32, {1, 1, 1, 1}, {1}, true)},
                    {Operand::Out({1, 1, 2, 2})});
    EXPECT_EQ(m.Run(), Status::kUnsupported) << m.error();
  }
  {
    SingleOpModel m(
        opm::OpCode::CONV_2D, Options(opm::Conv2DOptionsT()),
        {Operand::F32({1, 1, 2, 2}, {1, 2, 3, 4}), Operand::F32({1, 1, 1, 1}, {1}, true)},
        {Operand::Out({1, 1, 2, 2}), Operand::Out({1, 1, 2, 2})});
    EXPECT_EQ(m.Run(), Status::kCorruptModel) << m.error();
  }
}

}  // namespace
}  // namespace outpost::testing
