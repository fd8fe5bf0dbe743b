// CONV_2D on INT8: against the float kernel run on the dequantized operands (within 1 LSB),
// and bit-exact against a direct int64 loop followed by the documented requantization; the
// INT32 (ConvInteger) output against the exact accumulators.
#include <gtest/gtest.h>

#include "runtime/kernels/quant_util.h"
#include "tests/runtime/conv_test_util.h"
#include "tests/runtime/int8_test_util.h"

namespace outpost::testing {
namespace {

using opm::Activation;

struct QConv {
  ConvParams p;
  bool per_channel = true;
  bool weight_zp = false;  // non-zero weight zero points (ONNX ConvInteger)
  bool int32_out = false;
  QParams x{0.03f, 7};
};

struct QConvData {
  std::vector<int8_t> x, w;
  std::vector<float> w_scale;  // one per output channel (repeated when per tensor)
  std::vector<int64_t> w_zp;   // idem
  std::vector<int32_t> bias;
};

std::vector<int32_t> OutShape(const ConvParams& p) {
  const int oh = (p.h + p.pad_t + p.pad_b - (p.dil_h * (p.kh - 1) + 1)) / p.stride_h + 1;
  const int ow = (p.w + p.pad_l + p.pad_r - (p.dil_w * (p.kw - 1) + 1)) / p.stride_w + 1;
  return {p.n, p.m, oh, ow};
}

std::vector<int32_t> WeightShape(const ConvParams& p) {
  return {p.m, p.c / p.groups, p.kh, p.kw};
}

QConvData MakeData(const QConv& c, uint32_t seed) {
  const ConvParams& p = c.p;
  QConvData d;
  d.x = RandomInt8(static_cast<size_t>(p.n) * p.c * p.h * p.w, seed);
  const size_t nw = static_cast<size_t>(Product(WeightShape(p)));
  d.w = c.weight_zp ? RandomInt8(nw, seed + 1) : RandomInt8(nw, seed + 1, -127, 127);
  std::mt19937 rng(seed + 2);
  std::uniform_real_distribution<float> scale(0.002f, 0.02f);
  std::uniform_int_distribution<int> zp(-40, 40);
  const float s0 = scale(rng);
  const int z0 = c.weight_zp ? zp(rng) : 0;
  for (int m = 0; m < p.m; ++m) {
    d.w_scale.push_back(c.per_channel ? scale(rng) : s0);
    d.w_zp.push_back(c.per_channel && c.weight_zp ? zp(rng) : z0);
  }
  if (p.bias) d.bias = RandomInt32(p.m, seed + 3, -4000, 4000);
  return d;
}

opm::OpOptionsUnion ConvOptions(const ConvParams& p) {
  return Options(FillOptions<opm::Conv2DOptionsT>(p));
}

// The float conv on the dequantized operands (bias at scale s_x * s_w[m]).
std::vector<float> FloatConv(const QConv& c, const QConvData& d) {
  const ConvParams& p = c.p;
  std::vector<float> bias;
  for (int m = 0; p.bias && m < p.m; ++m)
    bias.push_back(static_cast<float>(static_cast<double>(c.x.scale) * d.w_scale[m] * d.bias[m]));
  std::vector<Operand> ins = {
      Operand::F32({p.n, p.c, p.h, p.w}, Dequantize(d.x, c.x)),
      Operand::F32(WeightShape(p), DequantizePerChannel(d.w, d.w_scale, d.w_zp), true)};
  ins.push_back(p.bias ? Operand::F32({p.m}, bias, true) : Operand::Absent());
  SingleOpModel m(opm::OpCode::CONV_2D, ConvOptions(p), ins, {Operand::Out(OutShape(p))});
  EXPECT_EQ(m.Run(), Status::kOk) << m.error();
  return m.OutputF32(0);
}

std::unique_ptr<SingleOpModel> Int8Conv(const QConv& c, const QConvData& d, QParams out) {
  const ConvParams& p = c.p;
  std::vector<Operand> ins = {Int8({p.n, p.c, p.h, p.w}, d.x, c.x)};
  if (c.per_channel)
    ins.push_back(Int8PerAxis(WeightShape(p), d.w, d.w_scale, d.w_zp, 0));
  else
    ins.push_back(Int8(WeightShape(p), d.w, {d.w_scale[0], static_cast<int>(d.w_zp[0])}, true));
  ins.push_back(p.bias && !c.int32_out ? Int32({p.m}, d.bias) : Operand::Absent());
  const Operand y = c.int32_out ? Operand::Out(OutShape(p), opm::DType::INT32)
                                : OutI8(OutShape(p), out);
  return std::make_unique<SingleOpModel>(opm::OpCode::CONV_2D, ConvOptions(p), std::move(ins),
                                         std::vector<Operand>{y});
}

// Exact accumulators by the definition: padded cells skipped, bias added unless INT32 output.
std::vector<int64_t> Accumulators(const QConv& c, const QConvData& d) {
  const ConvParams& p = c.p;
  const auto os = OutShape(p);
  const int oh = os[2], ow = os[3], cg = p.c / p.groups, mg = p.m / p.groups;
  std::vector<int64_t> acc;
  for (int n = 0; n < p.n; ++n)
    for (int m = 0; m < p.m; ++m)
      for (int i = 0; i < oh; ++i)
        for (int j = 0; j < ow; ++j) {
          int64_t s = p.bias && !c.int32_out ? d.bias[m] : 0;
          for (int ci = 0; ci < cg; ++ci)
            for (int u = 0; u < p.kh; ++u)
              for (int v = 0; v < p.kw; ++v) {
                const int ih = i * p.stride_h - p.pad_t + u * p.dil_h;
                const int iw = j * p.stride_w - p.pad_l + v * p.dil_w;
                if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) continue;
                const int ch = (m / mg) * cg + ci;
                const int64_t xv = d.x[((n * p.c + ch) * p.h + ih) * p.w + iw] - c.x.zp;
                const int64_t wv = d.w[((m * cg + ci) * p.kh + u) * p.kw + v] - d.w_zp[m];
                s += xv * wv;
              }
          acc.push_back(s);
        }
  return acc;
}

// The documented requantization of exact accumulators, with the activation clamp.
std::vector<int8_t> Requantized(const QConv& c, const QConvData& d, QParams out,
                                const std::vector<int64_t>& acc) {
  const ConvParams& p = c.p;
  int lo = -128, hi = 127;
  if (p.act == Activation::RELU) lo = QuantizeRef(0.0, out.scale, out.zp);
  if (p.act == Activation::CLIP) {
    lo = QuantizeRef(p.act_min, out.scale, out.zp);
    hi = QuantizeRef(p.act_max, out.scale, out.zp);
  }
  const size_t plane = acc.size() / (static_cast<size_t>(p.n) * p.m);
  std::vector<int8_t> y(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    const int m = static_cast<int>((i / plane) % p.m);
    kernels::QuantizedMultiplier mult;
    EXPECT_TRUE(kernels::MultiplierFromScales(&c.x.scale, &d.w_scale[m], &out.scale, &mult));
    EXPECT_LE(std::llabs(acc[i]), INT32_MAX);
    y[i] = static_cast<int8_t>(
        kernels::Requantize(static_cast<int32_t>(acc[i]), mult, out.zp, lo, hi));
  }
  return y;
}

void CheckConv(const QConv& c, uint32_t seed, const std::string& what) {
  SCOPED_TRACE(what);
  const QConvData d = MakeData(c, seed);
  const auto acc = Accumulators(c, d);
  if (c.int32_out) {
    auto m = Int8Conv(c, d, {});
    ASSERT_EQ(m->Run(), Status::kOk) << m->error();
    const auto got = m->Output<int32_t>(0);
    ASSERT_EQ(got.size(), acc.size());
    for (size_t i = 0; i < acc.size(); ++i) ASSERT_EQ(got[i], acc[i]) << "element " << i;
    return;
  }
  const std::vector<float> ref = FloatConv(c, d);
  const QParams out = ParamsCovering(ref);
  auto m = Int8Conv(c, d, out);
  ASSERT_EQ(m->Run(), Status::kOk) << m->error();
  const auto got = m->Output<int8_t>(0);
  ExpectWithinLsb(CompareWithFloat(got, ref, out), 1, what);
  EXPECT_EQ(got, Requantized(c, d, out, acc)) << "not the documented integer arithmetic";
}

std::vector<std::pair<std::string, QConv>> Cases() {
  std::vector<std::pair<std::string, QConv>> cases;
  {
    QConv c;  // prime channel counts, 3x3, same padding
    c.p.c = 5, c.p.h = 11, c.p.w = 13, c.p.m = 7, c.p.kh = c.p.kw = 3;
    c.p.pad_t = c.p.pad_l = c.p.pad_b = c.p.pad_r = 1;
    cases.push_back({"conv 3x3 same, per-channel", c});
    c.per_channel = false;
    cases.push_back({"conv 3x3 same, per-tensor", c});
    c.per_channel = true;
    c.weight_zp = true;
    cases.push_back({"conv 3x3 same, weight zero points", c});
    c.int32_out = true;
    cases.push_back({"conv 3x3 same, INT32 output", c});
  }
  {
    QConv c;  // stride 2, 7x7, asymmetric pads, batch 2, no bias, relu
    c.p.n = 2, c.p.c = 3, c.p.h = 19, c.p.w = 17, c.p.m = 5, c.p.kh = c.p.kw = 7;
    c.p.stride_h = c.p.stride_w = 2, c.p.pad_t = 3, c.p.pad_l = 2, c.p.pad_b = 1, c.p.pad_r = 3;
    c.p.bias = false;
    c.p.act = Activation::RELU;
    c.x = {0.05f, -20};
    cases.push_back({"conv 7x7 stride 2, relu", c});
  }
  {
    QConv c;  // different strides and dilations per axis
    c.p.c = 2, c.p.h = 23, c.p.w = 20, c.p.m = 3, c.p.kh = 3, c.p.kw = 2;
    c.p.stride_h = 3, c.p.stride_w = 1, c.p.dil_h = 2, c.p.dil_w = 3, c.p.pad_t = 2,
    c.p.pad_r = 1;
    c.weight_zp = true;
    cases.push_back({"conv dilated, weight zero points", c});
  }
  {
    QConv c;  // grouped: 6 channels in 3 groups, 9 outputs
    c.p.c = 6, c.p.h = 9, c.p.w = 10, c.p.m = 9, c.p.kh = c.p.kw = 3, c.p.groups = 3;
    c.p.stride_w = 2, c.p.pad_t = c.p.pad_b = 1;
    cases.push_back({"grouped conv", c});
    c.int32_out = true;
    c.weight_zp = true;
    cases.push_back({"grouped conv, INT32 output", c});
  }
  {
    QConv c;  // depthwise, prime channels, relu6
    c.p.c = c.p.m = c.p.groups = 7, c.p.h = c.p.w = 12, c.p.kh = c.p.kw = 3;
    c.p.stride_h = c.p.stride_w = 2, c.p.pad_t = c.p.pad_l = c.p.pad_b = c.p.pad_r = 1;
    c.p.act = Activation::CLIP, c.p.act_min = -1.0f, c.p.act_max = 3.0f;
    c.x = {0.01f, 7};
    cases.push_back({"depthwise, clip", c});
    c.per_channel = false;
    cases.push_back({"depthwise, per-tensor", c});
  }
  {
    QConv c;  // depthwise with channel multiplier 2, dilation 2
    c.p.c = c.p.groups = 4, c.p.m = 8, c.p.h = c.p.w = 10, c.p.kh = c.p.kw = 3;
    c.p.dil_h = c.p.dil_w = 2;
    c.p.pad_t = c.p.pad_l = c.p.pad_b = c.p.pad_r = 2;
    c.weight_zp = true;
    cases.push_back({"depthwise x2, dilation 2", c});
  }
  {
    QConv c;  // kernel as large as the padded input, pads larger than the kernel reach
    c.p.c = 3, c.p.h = 2, c.p.w = 3, c.p.m = 2, c.p.kh = 5, c.p.kw = 4, c.p.pad_t = 3,
    c.p.pad_b = 4, c.p.pad_l = 1, c.p.pad_r = 6;
    cases.push_back({"conv, kernel beyond the input", c});
  }
  {
    QConv c;  // 1x1 pointwise, long reduction, wide rows (more than one accumulator block)
    c.p.c = 67, c.p.h = 3, c.p.w = 150, c.p.m = 11;
    c.x = {0.01f, 0};
    cases.push_back({"pointwise 1x1, 150 columns", c});
  }
  {
    QConv c;  // 1-row image, wide kernel, stride 3
    c.p.c = 2, c.p.h = 1, c.p.w = 131, c.p.m = 3, c.p.kh = 1, c.p.kw = 5, c.p.stride_w = 3;
    c.p.pad_l = 2;
    cases.push_back({"1-row image, stride 3", c});
  }
  return cases;
}

TEST(Conv2DInt8, MatchesFloatAndIntegerReferences) {
  uint32_t seed = 300;
  for (const auto& [name, c] : Cases()) CheckConv(c, seed += 10, name);
}

TEST(Conv2DInt8, ResultsDoNotDependOnTheExecutor) {
  QConv c;
  c.p.n = 2, c.p.c = 4, c.p.h = c.p.w = 9, c.p.m = 6, c.p.kh = c.p.kw = 3, c.p.groups = 2;
  c.p.pad_t = c.p.pad_l = 1;
  const QConvData d = MakeData(c, 77);
  auto m = Int8Conv(c, d, {0.2f, 3});
  ASSERT_EQ(m->Run(), Status::kOk) << m->error();
  const auto serial = m->Output<int8_t>(0);
  Executor e;
  e.parallel_for = ReversedChunks;
  e.threads = 4;
  m->interpreter().set_executor(&e);
  ASSERT_EQ(m->interpreter().Invoke(), Status::kOk);
  EXPECT_EQ(m->Output<int8_t>(0), serial);
}

TEST(Conv2DInt8, HandChecked) {
  // 1x1 conv of [1, 2, 3, 4] (zero point 2, scale 0.5) by weight 3 (scale 0.25) plus bias 4
  // (scale 0.125): real = 0.5 * (x - 2) * 0.75 + 0.5 = {0.125, 0.5, 0.875, 1.25}; output scale
  // 0.125, zero point -10: {1, 4, 7, 10} - 10.
  ConvParams p;
  p.w = 4;
  SingleOpModel m(opm::OpCode::CONV_2D, ConvOptions(p),
                  {Int8({1, 1, 1, 4}, {1, 2, 3, 4}, {0.5f, 2}),
                   Int8({1, 1, 1, 1}, {3}, {0.25f, 0}, true), Int32({1}, {4})},
                  {OutI8({1, 1, 1, 4}, {0.125f, -10})});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  EXPECT_EQ(OutputInts<int8_t>(m, 0), (std::vector<int>{-9, -6, -3, 0}));
}

TEST(Conv2DInt8, RefusesAccumulatorOverflow) {
  // 1 x 70000 x 1 x 1 weights of 127 against inputs that may reach 255 from their zero point:
  // 255 * 127 * 70000 > 2^31.
  ConvParams p;
  p.c = 70000;
  SingleOpModel m(opm::OpCode::CONV_2D, ConvOptions(p),
                  {Int8({1, 70000, 1, 1}, std::vector<int8_t>(70000, 0), {0.1f, -128}),
                   Int8({1, 70000, 1, 1}, std::vector<int8_t>(70000, 127), {0.1f, 0}, true)},
                  {OutI8({1, 1, 1, 1}, {1.0f, 0})});
  EXPECT_EQ(m.Run(), Status::kUnsupported);
  EXPECT_NE(m.error().find("overflow"), std::string::npos) << m.error();
}

TEST(Conv2DInt8, OneZeroPointSharedByEveryChannel) {
  // Format 1.3: a per-channel weight may store a single zero point for all channels. The output
  // is the same as with the zero point repeated per channel; any other length is refused.
  QConv c;
  c.p.c = 3;
  c.p.m = 5;
  c.p.h = c.p.w = 6;
  c.p.kh = c.p.kw = 3;
  c.weight_zp = false;
  const QConvData d = MakeData(c, 41);
  const QParams out = ParamsCovering(FloatConv(c, d));
  auto expanded = Int8Conv(c, d, out);
  ASSERT_EQ(expanded->Run(), Status::kOk) << expanded->error();

  QConvData shared = d;
  shared.w_zp = {0};
  auto one = Int8Conv(c, shared, out);
  ASSERT_EQ(one->Run(), Status::kOk) << one->error();
  EXPECT_EQ(one->Output<int8_t>(0), expanded->Output<int8_t>(0));

  shared.w_zp = {0, 0};
  auto two = Int8Conv(c, shared, out);
  EXPECT_EQ(two->Run(), Status::kCorruptModel);
  EXPECT_NE(two->error().find("inconsistent quantization"), std::string::npos) << two->error();
}

}  // namespace
}  // namespace outpost::testing
