// The AArch64 int8 CONV_2D and FULLY_CONNECTED kernels, plain NEON and dot product (SDOT),
// against the int8 reference kernels, which are their specification: every output byte must
// be equal, on shapes chosen to hit every remainder path (prime channel counts, pixel counts
// no multiple of the 4-lane vector or the 12-pixel tile, channel counts no multiple of the
// 8-channel tile, k no multiple of 4 or 16, strides 1..3, dilations, asymmetric padding,
// groups, depthwise, batch 2), input zero points at both extremes, per-tensor and per-channel
// weights, with and without bias, each fused activation, multipliers above 1 and below 2^-32,
// and INT32 outputs. Also: the same bytes whatever the executor's split.
//
// Both instruction sets are tested on one CPU by restricting the resolver's features: NEON
// alone selects the plain NEON kernels. The cross build runs this under qemu-aarch64 with
// `-cpu max`, which has the dot product; OUTPOST_REQUIRE_DOTPROD=1 (set there) turns a
// missing extension into a failure instead of a skip, so the SDOT path cannot go untested
// silently. Run times under the emulator say nothing about speed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "runtime/cpu_features.h"
#include "tests/runtime/linear_op_models.h"
#include "tests/runtime/optimized_kernel_test_util.h"

namespace outpost::testing {
namespace {

using opm::Activation;

constexpr uint32_t kNeon = kCpuArmNeon;
constexpr uint32_t kDot = kCpuArmNeon | kCpuArmDotProd;

class ArmInt8Test : public ::testing::TestWithParam<uint32_t> {
 protected:
  void SetUp() override {
    if ((DetectCpuFeatures() & GetParam()) == GetParam()) return;
    const char* require = std::getenv("OUTPOST_REQUIRE_DOTPROD");
    if (require != nullptr && std::strcmp(require, "1") == 0)
      FAIL() << "the CPU (or emulator) lacks the dot product, but this run requires it";
    GTEST_SKIP() << "this CPU has no dot product: the SDOT kernels are not selected";
  }

  // Kernel name suffix of the instruction set under test.
  std::string Kernel(const char* op) const {
    return std::string(op) + (GetParam() == kDot ? "_i8_neon_dot" : "_i8_neon");
  }

  // The optimized run equals the reference run byte for byte, serially and split two ways.
  void ExpectSameAsReference(const std::vector<uint8_t>& file,
                             const std::vector<std::vector<uint8_t>>& input,
                             const std::string& want_kernel) {
    const FeatureRun ref = RunWithFeatures(file, input, 0);
    ASSERT_EQ(ref.status, Status::kOk) << ref.error;
    const FeatureRun opt = RunWithFeatures(file, input, GetParam());
    ASSERT_EQ(opt.status, Status::kOk) << opt.error;
    EXPECT_EQ(opt.kernel, want_kernel);
    ASSERT_EQ(opt.bytes.size(), ref.bytes.size());
    size_t diff = 0, first = 0;
    for (size_t i = 0; i < ref.bytes.size(); ++i)
      if (ref.bytes[i] != opt.bytes[i] && diff++ == 0) first = i;
    EXPECT_EQ(diff, 0u) << "first difference at byte " << first << " of " << ref.bytes.size();
    const Executor reversed = SplittingExecutor(ReversedSingleTasks, 4);
    EXPECT_EQ(RunWithFeatures(file, input, GetParam(), &reversed).bytes, ref.bytes)
        << "reversed single tasks";
    const Executor three = SplittingExecutor(ThreeUnevenChunks, 3);
    EXPECT_EQ(RunWithFeatures(file, input, GetParam(), &three).bytes, ref.bytes) << "three chunks";
  }

  void CheckConv(const Int8ConvCase& c, uint32_t seed) {
    const BuiltModel m = Int8ConvModel(c, seed);
    ASSERT_EQ(m.status, Status::kOk) << m.error;
    ExpectSameAsReference(m.file, m.feeds, Kernel("conv2d"));
  }

  void CheckFc(const Int8FcCase& c, uint32_t seed) {
    const BuiltModel m = Int8FullyConnectedModel(c, seed);
    ASSERT_EQ(m.status, Status::kOk) << m.error;
    ExpectSameAsReference(m.file, m.feeds, Kernel("fully_connected"));
  }
};

ConvParams Conv(int n, int c, int h, int w, int m, int kh, int kw) {
  ConvParams p;
  p.n = n, p.c = c, p.h = h, p.w = w, p.m = m, p.kh = kh, p.kw = kw;
  return p;
}

void Pads(ConvParams& p, int t, int l, int b, int r) {
  p.pad_t = t, p.pad_l = l, p.pad_b = b, p.pad_r = r;
}

TEST_P(ArmInt8Test, ConvPointwise) {
  for (int zx : {-128, 0, 127}) {
    SCOPED_TRACE(zx);
    Int8ConvCase c;
    c.p = Conv(1, 37, 7, 9, 23, 1, 1);  // k = 37: not a multiple of 4; 63 pixels
    c.x.zp = zx;
    CheckConv(c, 10 + zx);
    c.per_channel = false;
    CheckConv(c, 20 + zx);
  }
  Int8ConvCase c;
  c.p = Conv(2, 16, 9, 10, 24, 1, 1);  // batch 2, 90 pixels: 16-pixel interleave + tail
  c.p.act = Activation::CLIP, c.p.act_min = 0, c.p.act_max = 6;
  CheckConv(c, 30);
  c.p = Conv(2, 64, 14, 14, 96, 1, 1);  // many tiles: 17 pixel blocks x 12 channel tiles
  c.p.act = Activation::RELU;
  CheckConv(c, 32);
  c.p = Conv(1, 3, 1, 1, 1, 1, 1);  // one pixel, one channel
  c.p.bias = false;
  CheckConv(c, 31);
}

TEST_P(ArmInt8Test, ConvGeneral) {
  for (int zx : {-128, 127}) {
    SCOPED_TRACE(zx);
    Int8ConvCase c;
    c.p = Conv(1, 5, 11, 13, 7, 3, 3);  // prime channels, k = 45
    Pads(c.p, 1, 1, 1, 1);
    c.x.zp = zx;
    CheckConv(c, 50 + zx);
    c.p = Conv(2, 3, 19, 17, 5, 7, 7);  // stride 2, asymmetric pads, no bias, relu
    c.p.stride_h = c.p.stride_w = 2;
    Pads(c.p, 3, 2, 1, 3);
    c.p.bias = false;
    c.p.act = Activation::RELU;
    CheckConv(c, 60 + zx);
  }
  Int8ConvCase c;
  c.p = Conv(1, 2, 23, 20, 3, 3, 2);  // per-axis strides and dilations
  c.p.stride_h = 3, c.p.dil_h = 2, c.p.dil_w = 3;
  Pads(c.p, 2, 0, 0, 1);
  CheckConv(c, 70);
  c.p = Conv(1, 3, 30, 30, 32, 3, 3);  // a first layer: k = 27, 225 pixels
  c.p.stride_h = c.p.stride_w = 2;
  Pads(c.p, 0, 0, 1, 1);
  c.p.act = Activation::CLIP, c.p.act_min = 0, c.p.act_max = 6;
  CheckConv(c, 71);
  c.per_channel = false;
  CheckConv(c, 72);
  c.p = Conv(1, 13, 11, 17, 19, 1, 1);  // 1x1 strided and padded: im2col
  c.p.stride_h = c.p.stride_w = 2;
  Pads(c.p, 1, 0, 0, 2);
  CheckConv(c, 73);
}

TEST_P(ArmInt8Test, ConvGrouped) {
  Int8ConvCase c;
  c.p = Conv(1, 6, 9, 10, 9, 3, 3);
  c.p.groups = 3;
  c.p.stride_w = 2;
  Pads(c.p, 1, 0, 1, 0);
  CheckConv(c, 80);
  c.p = Conv(2, 8, 5, 7, 4, 1, 1);  // one output channel per group
  c.p.groups = 4;
  CheckConv(c, 81);
  c.p = Conv(1, 4, 6, 6, 12, 3, 3);  // depthwise with multiplier 3: the GEMM path
  c.p.groups = 4;
  Pads(c.p, 1, 1, 1, 1);
  CheckConv(c, 82);
}

TEST_P(ArmInt8Test, ConvDepthwise) {
  for (int zx : {-128, 0, 127}) {
    SCOPED_TRACE(zx);
    for (int stride : {1, 2}) {
      Int8ConvCase c;
      c.p = Conv(1, 13, 15, 17, 13, 3, 3);
      c.p.groups = 13;
      c.p.stride_h = c.p.stride_w = stride;
      Pads(c.p, 1, 1, 1, 1);
      c.p.act = Activation::CLIP, c.p.act_min = 0, c.p.act_max = 6;
      c.x.zp = zx;
      CheckConv(c, 90 + zx + stride);
      c.per_channel = false;
      c.p.bias = false;
      c.p.act = Activation::NONE;
      CheckConv(c, 100 + zx + stride);
    }
  }
  Int8ConvCase c;
  c.p = Conv(2, 7, 7, 7, 7, 3, 3);  // 7x7 planes, batch 2
  c.p.groups = 7;
  Pads(c.p, 1, 1, 1, 1);
  CheckConv(c, 110);
  c.p = Conv(1, 5, 20, 31, 5, 5, 3);  // 5x3, strides 2 x 3 (the gather), dilation, pads
  c.p.groups = 5;
  c.p.stride_h = 2, c.p.stride_w = 3, c.p.dil_h = 2, c.p.dil_w = 1;
  Pads(c.p, 0, 2, 3, 1);
  CheckConv(c, 111);
  c.p = Conv(1, 3, 4, 40, 3, 1, 3);  // no padding, kernel wider than tall
  c.p.groups = 3;
  CheckConv(c, 112);
  c.p = Conv(1, 16, 112, 112, 16, 3, 3);  // a MobileNet stage
  c.p.groups = 16;
  Pads(c.p, 1, 1, 1, 1);
  c.p.act = Activation::RELU;
  CheckConv(c, 113);
}

TEST_P(ArmInt8Test, ConvMultiplierExtremes) {
  for (float gain : {0.0005f, 0.01f, 1e12f}) {  // M > 1 (left shift, saturating), M ~ 0
    SCOPED_TRACE(gain);
    Int8ConvCase c;
    c.out_gain = gain;
    c.p = Conv(1, 9, 6, 7, 11, 3, 3);
    Pads(c.p, 1, 1, 1, 1);
    CheckConv(c, 120);
    c.p.groups = 9, c.p.m = 9;
    CheckConv(c, 121);
  }
}

TEST_P(ArmInt8Test, ConvInt32Output) {
  Int8ConvCase c;
  c.int32_out = true;
  c.p = Conv(1, 5, 9, 11, 7, 3, 3);
  Pads(c.p, 1, 0, 1, 2);
  c.p.bias = false;
  CheckConv(c, 130);
  c.p = Conv(1, 6, 9, 11, 6, 3, 3);
  c.p.groups = 6;
  CheckConv(c, 131);
}

TEST_P(ArmInt8Test, ConvWeightZeroPointsFallBack) {
  Int8ConvCase c;
  c.weight_zp = true;
  c.p = Conv(1, 5, 9, 11, 7, 3, 3);
  CheckConv(c, 140);  // same kernel, reference arithmetic inside
  c.int32_out = true;
  CheckConv(c, 141);
}

TEST_P(ArmInt8Test, FullyConnectedShapes) {
  const int shapes[][3] = {{1, 1, 1},     {1, 5, 17},  {3, 37, 100},
                           {2, 700, 300}, {1, 64, 64}, {1, 7, 65}};
  uint32_t seed = 200;
  for (const auto& s : shapes)
    for (int zx : {-128, 0, 127}) {
      SCOPED_TRACE(::testing::Message() << s[0] << "x" << s[1] << " -> " << s[2] << " zx " << zx);
      Int8FcCase c;
      c.n = s[0], c.k = s[1], c.out = s[2];
      c.x.zp = zx;
      CheckFc(c, seed++);
      c.per_channel = false;
      c.bias = false;
      c.act = Activation::RELU;
      CheckFc(c, seed++);
    }
}

TEST_P(ArmInt8Test, FullyConnectedClipInt32AndFallback) {
  Int8FcCase c;
  c.n = 2, c.k = 29, c.out = 31;
  c.act = Activation::CLIP, c.act_min = -1, c.act_max = 2;
  CheckFc(c, 300);
  c.act = Activation::NONE;
  c.int32_out = true;
  CheckFc(c, 301);
  c.weight_zp = true;
  CheckFc(c, 302);
  c.int32_out = false;
  CheckFc(c, 303);
}

INSTANTIATE_TEST_SUITE_P(Isa, ArmInt8Test, ::testing::Values(kNeon, kDot),
                         [](const ::testing::TestParamInfo<uint32_t>& info) {
                           return std::string(info.param == kDot ? "dotprod" : "neon");
                         });

}  // namespace
}  // namespace outpost::testing
