// The AArch64 NEON float32 CONV_2D and FULLY_CONNECTED kernels against the reference kernels
// (the specification) on awkward shapes: prime channel counts, widths that are no multiple of
// the 4-lane vector or the 12-column GEMM tile, 1..8 rows per tile, strides, asymmetric padding,
// dilation, groups, depthwise (interior and border columns, LD2 for stride 2), batch 2, with
// and without bias, every fused activation. Also: identical results for any thread split,
// packed memory counted by Measure, and the reference fallback for non-constant weights.
//
// Tolerance: max |opt - ref| <= 1e-4 * (1 + max |ref|) per output tensor (the optimized
// kernels sum in another order, with FMA); across thread splits the bits must be equal.
//
// In the cross build these run under qemu-aarch64: their run time says nothing about speed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "runtime/cpu_features.h"
#include "runtime/kernels/arm/arm_kernels.h"
#include "tests/runtime/linear_op_models.h"
#include "tests/runtime/optimized_kernel_test_util.h"

namespace outpost::testing {
namespace {

using opm::Activation;

constexpr uint32_t kNeon = kCpuArmNeon;

std::vector<float> AsFloats(const std::vector<uint8_t>& bytes) {
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

void CompareWithReference(const std::vector<uint8_t>& file,
                          const std::vector<std::vector<uint8_t>>& feeds, const char* want_kernel,
                          const std::string& what) {
  const FeatureRun ref = RunWithFeatures(file, feeds, 0);
  ASSERT_EQ(ref.status, Status::kOk) << what << ": " << ref.error;
  const FeatureRun opt = RunWithFeatures(file, feeds, kNeon);
  ASSERT_EQ(opt.status, Status::kOk) << what << ": " << opt.error;
  const Executor split = SplittingExecutor(ReversedSingleTasks, 4);
  const FeatureRun par = RunWithFeatures(file, feeds, kNeon, &split);
  ASSERT_EQ(par.status, Status::kOk) << what << ": " << par.error;
  EXPECT_EQ(opt.kernel, want_kernel) << what;
  const std::vector<float> r = AsFloats(ref.bytes), o = AsFloats(opt.bytes);
  ASSERT_EQ(o.size(), r.size()) << what;
  double max_ref = 0, max_err = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    max_ref = std::fmax(max_ref, std::fabs(r[i]));
    const double e = std::fabs(static_cast<double>(o[i]) - r[i]);
    if (!(e <= max_err)) max_err = std::isnan(e) ? INFINITY : e;
  }
  const double tol = 1e-4 * (1 + max_ref);
  EXPECT_LE(max_err, tol) << what;
  EXPECT_EQ(par.bytes, opt.bytes) << what << ": results depend on the thread split";
  std::printf("  %-58s %-24s max err %.2e (tol %.2e)\n", what.c_str(), opt.kernel.c_str(), max_err,
              tol);
}

void RunConv(const ConvParams& p, bool weights_constant = true) {
  const BuiltModel m = F32ConvModel(p, weights_constant);
  ASSERT_EQ(m.status, Status::kOk) << m.error;
  CompareWithReference(m.file, m.feeds, "conv2d_f32_neon", "conv " + DescribeConv(p));
}

ConvParams Conv(int n, int c, int h, int w, int m, int k, int stride, int pad, int groups = 1) {
  ConvParams p;
  p.n = n, p.c = c, p.h = h, p.w = w, p.m = m, p.kh = k, p.kw = k;
  p.stride_h = p.stride_w = stride;
  p.pad_t = p.pad_l = p.pad_b = p.pad_r = pad;
  p.groups = groups;
  return p;
}

std::vector<ConvParams> ConvCases() {
  std::vector<ConvParams> v;
  v.push_back(Conv(1, 7, 5, 9, 13, 1, 1, 0));    // pointwise: 45 columns (3 tiles + 9), 13 rows
  v.push_back(Conv(2, 31, 7, 7, 3, 1, 1, 0));    // pointwise, batch 2, 3 rows (4-row tile)
  v.push_back(Conv(1, 16, 6, 2, 40, 1, 1, 0));   // pointwise, 12 columns: exactly one tile
  v.push_back(Conv(1, 3, 11, 13, 7, 3, 1, 1));   // im2col 3x3
  v.push_back(Conv(2, 13, 9, 10, 31, 3, 2, 1));  // im2col stride 2, batch 2
  v.push_back(Conv(1, 3, 23, 19, 8, 7, 2, 3));   // im2col 7x7 stride 2
  v.push_back(Conv(1, 7, 6, 6, 9, 1, 2, 0));     // 1x1 stride 2: im2col
  v.push_back(Conv(1, 37, 6, 7, 19, 3, 1, 1));   // reduction 333: two blocks of the GEMM
  v.push_back(Conv(1, 30, 5, 5, 70, 3, 1, 1));   // 270 x 70: several panel chunks
  {
    ConvParams p = Conv(1, 5, 12, 17, 11, 3, 1, 0);
    p.pad_t = 2, p.pad_l = 0, p.pad_b = 1, p.pad_r = 3;  // asymmetric padding, 3x2 kernel
    p.kw = 2;
    v.push_back(p);
  }
  {
    ConvParams p = Conv(1, 6, 13, 15, 10, 3, 1, 2);
    p.dil_h = p.dil_w = 2;
    v.push_back(p);
  }
  v.push_back(Conv(1, 12, 8, 9, 18, 3, 1, 1, 3));    // grouped 3x3
  v.push_back(Conv(2, 14, 5, 6, 21, 1, 1, 0, 7));    // grouped pointwise
  v.push_back(Conv(1, 13, 9, 35, 13, 3, 1, 1, 13));  // depthwise: 16 + 16 + 1 interior
  v.push_back(Conv(2, 7, 12, 37, 7, 3, 2, 1, 7));    // depthwise stride 2 (LD2), batch 2
  v.push_back(Conv(1, 31, 7, 7, 31, 5, 1, 2, 31));   // depthwise 5x5: small interior
  v.push_back(Conv(1, 3, 4, 3, 3, 3, 2, 1, 3));      // depthwise without interior
  v.push_back(Conv(1, 3, 5, 26, 3, 3, 2, 0, 3));     // depthwise stride 2 to the right edge
  {
    ConvParams p = Conv(1, 5, 10, 21, 5, 3, 2, 0, 5);
    p.pad_t = 0, p.pad_l = 1, p.pad_b = 2, p.pad_r = 0;  // depthwise asymmetric padding
    v.push_back(p);
  }
  {
    ConvParams p = Conv(1, 4, 11, 40, 4, 3, 2, 2, 4);
    p.dil_h = p.dil_w = 2;  // depthwise dilation 2, stride 2
    v.push_back(p);
  }
  {
    ConvParams p = Conv(1, 3, 11, 20, 3, 3, 1, 1, 3);
    p.stride_h = 3;  // depthwise stride 3 x 1
    v.push_back(p);
  }
  // Border columns: MobileNetV2's 14x14 and 7x7 planes (every 7x7 column a border one), the
  // 14x14 -> 7x7 stride, and taps 65 columns wide.
  v.push_back(Conv(1, 5, 14, 14, 5, 3, 1, 1, 5));
  v.push_back(Conv(1, 5, 7, 7, 5, 3, 1, 1, 5));
  v.push_back(Conv(1, 5, 14, 14, 5, 3, 2, 1, 5));
  {
    ConvParams p = Conv(1, 2, 20, 70, 2, 9, 1, 32, 2);
    p.dil_h = p.dil_w = 8;  // taps 65 columns wide
    v.push_back(p);
  }
  v.push_back(Conv(1, 4, 9, 12, 8, 3, 1, 1, 4));  // channel multiplier 2: grouped GEMM
  v.push_back(Conv(1, 64, 14, 14, 96, 1, 1, 0));     // pointwise, many tiles and panel chunks
  v.push_back(Conv(1, 16, 56, 56, 16, 3, 2, 1, 16));  // a MobileNet-like depthwise stage
  // Large maps: the GEMM runs tile-major over a materialized im2col.
  v.push_back(Conv(1, 37, 30, 31, 19, 3, 1, 1));  // reduction 333: 2 blocks, 930 columns
  v.push_back(Conv(1, 3, 131, 97, 10, 7, 2, 3));  // stem-like 7x7/2
  v.push_back(Conv(2, 20, 400, 3, 5, 3, 1, 1));   // 3 columns a row: several runs per tile
  {
    ConvParams p = Conv(1, 16, 100, 110, 7, 3, 3, 2);
    p.dil_h = p.dil_w = 2;  // stride 3, dilation 2
    v.push_back(p);
  }
  return v;
}

TEST(ArmF32Kernels, ConvMatchesReference) {
  for (ConvParams p : ConvCases()) {
    RunConv(p);
    p.bias = !p.bias;
    RunConv(p);
  }
}

TEST(ArmF32Kernels, ConvActivations) {
  const Activation acts[] = {Activation::RELU, Activation::CLIP, Activation::HARD_SWISH};
  // The last has a blocked reduction: the activation must apply once, after the last block.
  const ConvParams shapes[] = {Conv(1, 7, 5, 9, 13, 1, 1, 0), Conv(1, 3, 11, 13, 7, 3, 2, 1),
                               Conv(1, 13, 9, 35, 13, 3, 1, 1, 13), Conv(1, 37, 6, 7, 19, 3, 1, 1)};
  for (ConvParams p : shapes)
    for (Activation a : acts) {
      p.act = a;
      p.act_min = -0.25f;
      p.act_max = 0.5f;
      RunConv(p);
    }
}

TEST(ArmF32Kernels, ConvWithRuntimeWeightsFallsBackToReference) {
  RunConv(Conv(1, 7, 5, 9, 13, 3, 1, 1), /*weights_constant=*/false);
  RunConv(Conv(1, 7, 5, 9, 7, 3, 1, 1, 7), /*weights_constant=*/false);
}

void RunFullyConnected(int n, int k, int o, bool bias, Activation act) {
  const BuiltModel m = F32FullyConnectedModel(n, k, o, bias, act);
  ASSERT_EQ(m.status, Status::kOk) << m.error;
  char what[128];
  std::snprintf(what, sizeof(what), "fc n%d k%d o%d%s act%d", n, k, o, bias ? " bias" : "",
                static_cast<int>(act));
  CompareWithReference(m.file, m.feeds, "fully_connected_f32_neon", what);
}

TEST(ArmF32Kernels, FullyConnectedMatchesReference) {
  RunFullyConnected(1, 31, 13, true, Activation::NONE);
  RunFullyConnected(2, 7, 3, false, Activation::RELU);
  RunFullyConnected(9, 130, 61, true, Activation::CLIP);
  RunFullyConnected(1, 640, 250, true, Activation::NONE);
  RunFullyConnected(3, 17, 50, true, Activation::HARD_SWISH);
  RunFullyConnected(5, 300, 12, false, Activation::NONE);  // 5 rows: the 8-row tile, 2 blocks
}

TEST(ArmF32Kernels, MeasureCountsPackedWeights) {
  // Pointwise conv, 13 output channels x 7 inputs: A panels padded to the tile's 8 rows.
  ConvParams p = Conv(1, 7, 5, 9, 13, 1, 1, 0);
  const std::vector<float> x = RandomFloats(7 * 45, 1), w = RandomFloats(13 * 7, 2);
  std::vector<Operand> in = {Operand::F32({1, 7, 5, 9}, x), Operand::F32({13, 7, 1, 1}, w, true),
                             Operand::Absent()};
  SingleOpModel model(opm::OpCode::CONV_2D, Options(FillOptions<opm::Conv2DOptionsT>(p)), in,
                      {Operand::Out({1, 13, 5, 9})});
  ASSERT_EQ(model.status(), Status::kOk);
  const FeatureRun ref = RunWithFeatures(model.file(), {in[0].bytes}, 0);
  const FeatureRun opt = RunWithFeatures(model.file(), {in[0].bytes}, kNeon);
  ASSERT_EQ(opt.status, Status::kOk);
  const size_t want = (16 * 7 * sizeof(float) + 63) / 64 * 64;
  EXPECT_EQ(ref.req.packed_bytes, 0u);
  EXPECT_EQ(opt.req.packed_bytes, want);
}

TEST(ArmF32Kernels, RegistrationsAndResolver) {
  size_t n = 0;
  const KernelRegistration* const* all = kernels::arm::ArmKernels(&n);
  ASSERT_EQ(n, 6u);
  for (size_t i = 0; i < n; ++i) {
    const KernelRegistration& k = *all[i];
    SCOPED_TRACE(k.name);
    EXPECT_EQ(k.family, KernelFamily::kArm);
    EXPECT_NE(k.required_cpu_features & kCpuArmNeon, 0u);
    EXPECT_NE(k.packed_bytes, nullptr);
    EXPECT_NE(k.scratch_bytes, nullptr);
  }
  // Every AArch64 CPU has NEON: detection must report it.
  EXPECT_NE(DetectCpuFeatures() & kCpuArmNeon, 0u);
  AllOpsResolver resolver;
  ASSERT_EQ(RegisterAllKernels(resolver), Status::kOk);
  resolver.set_cpu_features(0);
  EXPECT_STREQ(resolver.Find(OpCode::CONV_2D, DType::FLOAT32)->name, "conv2d_f32_ref");
  resolver.set_cpu_features(kNeon);
  EXPECT_STREQ(resolver.Find(OpCode::CONV_2D, DType::FLOAT32)->name, "conv2d_f32_neon");
  EXPECT_STREQ(resolver.Find(OpCode::FULLY_CONNECTED, DType::FLOAT32)->name,
               "fully_connected_f32_neon");
  EXPECT_STREQ(resolver.Find(OpCode::CONV_2D, DType::INT8)->name, "conv2d_i8_neon");
  resolver.set_cpu_features(kNeon | kCpuArmDotProd);
  EXPECT_STREQ(resolver.Find(OpCode::CONV_2D, DType::INT8)->name, "conv2d_i8_neon_dot");
  EXPECT_STREQ(resolver.Find(OpCode::FULLY_CONNECTED, DType::INT8)->name,
               "fully_connected_i8_neon_dot");
}

}  // namespace
}  // namespace outpost::testing
