// The x86 int8 kernels (AVX-512 VNNI, and AVX2 for CONV_2D and FULLY_CONNECTED, run here by
// leaving AVX-512 out of the resolver's CPU features) against the int8 reference kernels,
// which are their specification: every output byte must be equal, on shapes chosen to hit every
// remainder path (prime channel counts, widths not a multiple of 16 or 48, k not a multiple of 4,
// strides, dilations, asymmetric padding, groups, depthwise, batch 2), every input zero point
// extreme, per-tensor and per-channel weights, with and without bias, each fused activation,
// multipliers above 1 and below 2^-32, and INT32 outputs; ADD with and without broadcasting;
// MAX_POOL_2D with strides, dilations and ceil mode; GLOBAL_AVERAGE_POOL; QUANTIZE from float
// on ties and special values.
// Also: the same bytes whatever the executor's split (1, 2, 3 threads and more).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>

#include "runtime/cpu_features.h"
#include "runtime/kernels/x86/int8/avx2_int8_util.h"
#include "runtime/kernels/x86/int8/avx512_int8_util.h"
#include "tests/runtime/conv_test_util.h"
#include "tests/runtime/int8_test_util.h"

namespace outpost::testing {
namespace {

using opm::Activation;

bool HaveVnni() { return (DetectCpuFeatures() & kCpuX86Avx512Vnni) != 0; }
bool HaveAvx2() { return (DetectCpuFeatures() & kCpuX86Avx2Fma) != 0; }

#define REQUIRE_VNNI()                                                                     \
  do {                                                                                     \
    if (!HaveVnni()) GTEST_SKIP() << "this CPU has no AVX-512 VNNI: kernels not selected"; \
  } while (0)

#define REQUIRE_AVX2()                                                                   \
  do {                                                                                   \
    if (!HaveAvx2()) GTEST_SKIP() << "this CPU has no AVX2 + FMA: kernels not selected"; \
  } while (0)

// An instruction set the CONV_2D and FULLY_CONNECTED kernels exist for: the CPU features the
// resolver is given and the kernels that must then win.
struct Isa {
  const char* name;
  uint32_t features;
  const char* conv;
  const char* fc;
};

// Every one this CPU runs: AVX-512 VNNI with all detected features, AVX2 with AVX2 alone (as
// on a CPU without AVX-512).
std::vector<Isa> Isas() {
  std::vector<Isa> v;
  if (HaveVnni() && (DetectCpuFeatures() & kCpuX86Avx512Vbmi))
    v.push_back({"avx512vbmi", DetectCpuFeatures(), "conv2d_i8_avx512vbmi",
                 "fully_connected_i8_avx512vnni"});
  if (HaveVnni())
    v.push_back({"avx512vnni", DetectCpuFeatures() & ~uint32_t{kCpuX86Avx512Vbmi},
                 "conv2d_i8_avx512vnni", "fully_connected_i8_avx512vnni"});
  if (HaveAvx2())
    v.push_back({"avx2", kCpuX86Avx2Fma, "conv2d_i8_avx2", "fully_connected_i8_avx2"});
  return v;
}

template <class Check>
void ForEachIsa(Check check) {
  for (const Isa& isa : Isas()) {
    SCOPED_TRACE(isa.name);
    check(isa);
  }
}

// Splits [0, n) into chunks of one, last first, as if each ran on its own thread.
void ReversedSingles(void*, int64_t n, int64_t, void (*fn)(void*, int64_t, int64_t), void* arg) {
  for (int64_t b = n - 1; b >= 0; --b) fn(arg, b, b + 1);
}

// Two chunks, the second first.
void TwoChunks(void*, int64_t n, int64_t, void (*fn)(void*, int64_t, int64_t), void* arg) {
  const int64_t a = n / 2;
  if (n > a) fn(arg, a, n);
  if (a > 0) fn(arg, 0, a);
}

// Three uneven chunks.
void ThreeChunks(void*, int64_t n, int64_t, void (*fn)(void*, int64_t, int64_t), void* arg) {
  const int64_t a = n / 5, b = n - n / 3;
  if (a > 0) fn(arg, 0, a);
  if (b > a) fn(arg, a, b);
  if (n > b) fn(arg, b, n);
}

struct RunOut {
  Status status = Status::kOk;
  std::string error;
  std::string kernel;
  std::vector<uint8_t> bytes;
};

using Inputs = std::vector<std::vector<uint8_t>>;

// Runs the one-operator model `file` with the kernels `features` allow (0: the reference
// kernels only), feeding `inputs` to its non-constant inputs.
RunOut RunModel(const std::vector<uint8_t>& file, const Inputs& inputs, uint32_t features,
                const Executor* executor = nullptr) {
  RunOut r;
  std::unique_ptr<uint8_t[]> storage(new uint8_t[file.size() + 64]);
  uint8_t* p = storage.get();
  p += (64 - reinterpret_cast<uintptr_t>(p) % 64) % 64;
  std::memcpy(p, file.data(), file.size());
  ErrorReporter errors;
  Model model;
  r.status = model.Load(p, file.size(), &errors);
  AllOpsResolver resolver;
  if (r.status == Status::kOk) r.status = RegisterAllKernels(resolver);
  resolver.set_cpu_features(resolver.cpu_features() & features);
  ArenaRequirement req;
  if (r.status == Status::kOk) r.status = Interpreter::Measure(model, resolver, &req, &errors);
  std::vector<uint8_t> arena(req.total_bytes + 64, 0xA5);
  Interpreter interp;
  interp.set_executor(executor);
  if (r.status == Status::kOk)
    r.status = interp.Init(model, resolver, arena.data(), arena.size(), &errors);
  if (r.status == Status::kOk) {
    r.kernel = interp.kernel(0)->name;
    for (size_t i = 0; i < inputs.size(); ++i)
      std::memcpy(interp.input(static_cast<int>(i)).data, inputs[i].data(), inputs[i].size());
    r.status = interp.Invoke();
  }
  if (r.status != Status::kOk) {
    r.error = errors.message();
    return r;
  }
  const TensorView& y = interp.output(0);
  r.bytes.assign(y.as<uint8_t>(), y.as<uint8_t>() + y.bytes);
  return r;
}

// The optimized run (with the kernels `features` allow) equals the reference run byte for
// byte, serially and split three ways.
void ExpectSameAsReference(const std::vector<uint8_t>& file, const Inputs& input,
                           const char* want_kernel, uint32_t features = ~0u) {
  const RunOut ref = RunModel(file, input, 0);
  ASSERT_EQ(ref.status, Status::kOk) << ref.error;
  const RunOut opt = RunModel(file, input, features);
  ASSERT_EQ(opt.status, Status::kOk) << opt.error;
  EXPECT_EQ(opt.kernel, want_kernel);
  ASSERT_EQ(opt.bytes.size(), ref.bytes.size());
  size_t diff = 0, first = 0;
  for (size_t i = 0; i < ref.bytes.size(); ++i)
    if (ref.bytes[i] != opt.bytes[i] && diff++ == 0) first = i;
  EXPECT_EQ(diff, 0u) << "first difference at byte " << first << " of " << ref.bytes.size();
  Executor reversed;
  reversed.parallel_for = ReversedSingles;
  reversed.threads = 4;
  EXPECT_EQ(RunModel(file, input, features, &reversed).bytes, ref.bytes) << "reversed singles";
  Executor two;
  two.parallel_for = TwoChunks;
  two.threads = 2;
  EXPECT_EQ(RunModel(file, input, features, &two).bytes, ref.bytes) << "two chunks";
  Executor three;
  three.parallel_for = ThreeChunks;
  three.threads = 3;
  EXPECT_EQ(RunModel(file, input, features, &three).bytes, ref.bytes) << "three chunks";
}

// ---------------------------------------------------------------------------------------------
// CONV_2D

struct Case {
  ConvParams p;
  bool per_channel = true;
  bool weight_zp = false;  // non-zero weight zero points: the kernel falls back to reference
  bool int32_out = false;
  QParams x{0.03f, 3};
  float out_gain = 1.0f;  // output scale multiplier: < 1 gives M > 1, huge gives M ~ 0
  int out_zp = 5;
};

std::vector<int32_t> OutShape(const ConvParams& p) {
  const int oh = (p.h + p.pad_t + p.pad_b - (p.dil_h * (p.kh - 1) + 1)) / p.stride_h + 1;
  const int ow = (p.w + p.pad_l + p.pad_r - (p.dil_w * (p.kw - 1) + 1)) / p.stride_w + 1;
  return {p.n, p.m, oh, ow};
}

void CheckConvWith(const Case& c, uint32_t seed, const Isa& isa) {
  const ConvParams& p = c.p;
  const std::vector<int32_t> ws = {p.m, p.c / p.groups, p.kh, p.kw};
  const int k = p.c / p.groups * p.kh * p.kw;
  const auto x = RandomInt8(static_cast<size_t>(p.n) * p.c * p.h * p.w, seed);
  const auto w = RandomInt8(static_cast<size_t>(Product(ws)), seed + 1);
  std::mt19937 rng(seed + 2);
  std::uniform_real_distribution<float> scale(0.002f, 0.02f);
  std::uniform_int_distribution<int> zp(-40, 40);
  std::vector<float> w_scale;
  std::vector<int64_t> w_zp;
  const float s0 = scale(rng);
  for (int m = 0; m < p.m; ++m) {
    w_scale.push_back(c.per_channel ? scale(rng) : s0);
    w_zp.push_back(c.weight_zp ? zp(rng) : 0);
  }
  if (!c.per_channel) w_zp.assign(p.m, w_zp[0]);
  // About three standard deviations of the accumulator map to the int8 range.
  QParams out;
  out.scale =
      static_cast<float>(130.0 * std::sqrt(static_cast<double>(k)) * c.x.scale * s0 * c.out_gain);
  out.zp = c.out_zp;
  std::vector<Operand> ins = {Int8({p.n, p.c, p.h, p.w}, x, c.x)};
  if (c.per_channel)
    ins.push_back(Int8PerAxis(ws, w, w_scale, w_zp, 0));
  else
    ins.push_back(Int8(ws, w, {s0, static_cast<int>(w_zp[0])}, true));
  ins.push_back(p.bias && !c.int32_out ? Int32({p.m}, RandomInt32(p.m, seed + 3, -30000, 30000))
                                       : Operand::Absent());
  const Operand y =
      c.int32_out ? Operand::Out(OutShape(p), opm::DType::INT32) : OutI8(OutShape(p), out);
  SingleOpModel model(opm::OpCode::CONV_2D, Options(FillOptions<opm::Conv2DOptionsT>(p)),
                      std::move(ins), {y});
  ASSERT_EQ(model.status(), Status::kOk) << model.error();
  ExpectSameAsReference(model.file(), {std::vector<uint8_t>(x.begin(), x.end())}, isa.conv,
                        isa.features);
}

// With every instruction set this CPU runs.
void CheckConv(const Case& c, uint32_t seed) {
  ForEachIsa([&](const Isa& isa) { CheckConvWith(c, seed, isa); });
}

ConvParams Conv(int n, int c, int h, int w, int m, int kh, int kw) {
  ConvParams p;
  p.n = n, p.c = c, p.h = h, p.w = w, p.m = m, p.kh = kh, p.kw = kw;
  return p;
}

void Pads(ConvParams& p, int t, int l, int b, int r) {
  p.pad_t = t, p.pad_l = l, p.pad_b = b, p.pad_r = r;
}

TEST(X86Int8Conv, Pointwise) {
  REQUIRE_AVX2();
  for (int zx : {-128, 0, 127}) {
    Case c;
    c.p = Conv(1, 37, 7, 9, 23, 1, 1);  // k = 37: not a multiple of 4; 63 pixels
    c.x.zp = zx;
    SCOPED_TRACE(zx);
    CheckConv(c, 10 + zx);
    c.per_channel = false;
    CheckConv(c, 20 + zx);
  }
  Case c;
  c.p = Conv(2, 16, 14, 14, 96, 1, 1);  // batch 2, 196 pixels (4 blocks of 48 + 4)
  c.p.act = Activation::CLIP, c.p.act_min = 0, c.p.act_max = 6;
  CheckConv(c, 30);
  c.p = Conv(1, 8, 10, 13, 11, 1, 1);  // 130 pixels: two 64-column interleaves and a tail
  c.p.act = Activation::NONE;
  CheckConv(c, 32);
  c.p = Conv(1, 3, 1, 1, 1, 1, 1);  // one pixel, one channel
  c.p.bias = false;
  CheckConv(c, 31);
  // Output bounds of int8 itself and a lower bound at the zero point (a RELU, or no activation
  // with the zero point at -128): the requantization without the negative-product correction.
  c.out_zp = -128;
  for (Activation act : {Activation::RELU, Activation::NONE}) {
    c.p = Conv(1, 24, 9, 11, 37, 1, 1);
    c.p.act = act;
    CheckConv(c, 33);
    c.p = Conv(1, 5, 9, 11, 13, 3, 3);  // an im2col GEMM
    Pads(c.p, 1, 1, 1, 1);
    c.per_channel = false;
    CheckConv(c, 34);
    c.per_channel = true;
  }
}

TEST(X86Int8Conv, PointwiseStridedAndPadded) {
  REQUIRE_AVX2();
  Case c;
  c.p = Conv(1, 13, 11, 17, 19, 1, 1);
  c.p.stride_h = c.p.stride_w = 2;
  CheckConv(c, 40);
  Pads(c.p, 1, 0, 0, 2);
  c.p.act = Activation::RELU;
  CheckConv(c, 41);
}

TEST(X86Int8Conv, General) {
  REQUIRE_AVX2();
  for (int zx : {-128, 0, 127}) {
    SCOPED_TRACE(zx);
    Case c;
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
  Case c;
  c.p = Conv(1, 2, 23, 20, 3, 3, 2);  // per-axis strides and dilations
  c.p.stride_h = 3, c.p.dil_h = 2, c.p.dil_w = 3;
  Pads(c.p, 2, 0, 0, 1);
  CheckConv(c, 70);
  c.p = Conv(1, 3, 50, 50, 32, 3, 3);  // a first layer: k = 27, 625 pixels
  c.p.stride_h = c.p.stride_w = 2;
  Pads(c.p, 0, 0, 1, 1);
  c.p.act = Activation::CLIP, c.p.act_min = 0, c.p.act_max = 6;
  CheckConv(c, 71);
  c.per_channel = false;
  CheckConv(c, 72);
  c.p = Conv(1, 3, 9, 150, 5, 3, 3);  // stride 2 rows of 75 outputs: the vector gather
  c.p.stride_h = c.p.stride_w = 2;
  Pads(c.p, 1, 1, 1, 0);
  CheckConv(c, 73);
  c.p = Conv(1, 4, 6, 130, 6, 3, 5);  // stride 1 rows of 129 outputs: 3 masked chunks of 64
  c.p.dil_w = 2;
  Pads(c.p, 2, 3, 1, 4);
  CheckConv(c, 74);
  c.p = Conv(1, 5, 7, 7, 9, 3, 3);  // 7-column rows, as ResNet18's last layers
  Pads(c.p, 1, 1, 1, 1);
  CheckConv(c, 75);
}

TEST(X86Int8Conv, Grouped) {
  REQUIRE_AVX2();
  Case c;
  c.p = Conv(1, 6, 9, 10, 9, 3, 3);
  c.p.groups = 3;
  c.p.stride_w = 2;
  Pads(c.p, 1, 0, 1, 0);
  CheckConv(c, 80);
  c.p = Conv(2, 8, 5, 7, 4, 1, 1);  // channel multiplier below 1 per group
  c.p.groups = 4;
  CheckConv(c, 81);
  c.p = Conv(1, 3, 7, 31, 3, 3, 3);  // depthwise with column stride 5: the GEMM path
  c.p.groups = 3;
  c.p.stride_w = 5;
  CheckConv(c, 83);
  c.p = Conv(1, 4, 6, 6, 12, 3, 3);  // depthwise with multiplier 3: the GEMM path
  c.p.groups = 4;
  Pads(c.p, 1, 1, 1, 1);
  CheckConv(c, 82);
}

TEST(X86Int8Conv, Depthwise) {
  REQUIRE_AVX2();
  for (int zx : {-128, 0, 127}) {
    SCOPED_TRACE(zx);
    for (int stride : {1, 2}) {
      Case c;
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
  Case c;
  c.p = Conv(2, 7, 7, 7, 7, 3, 3);  // 7x7 planes, batch 2
  c.p.groups = 7;
  Pads(c.p, 1, 1, 1, 1);
  CheckConv(c, 110);
  c.p = Conv(1, 5, 20, 31, 5, 5, 3);  // 5x3, mixed strides, dilation, asymmetric pads
  c.p.groups = 5;
  c.p.stride_h = 2, c.p.stride_w = 3, c.p.dil_h = 2, c.p.dil_w = 1;
  Pads(c.p, 0, 2, 3, 1);
  CheckConv(c, 111);
  c.p = Conv(1, 3, 4, 40, 3, 1, 3);  // no padding, kernel wider than tall
  c.p.groups = 3;
  CheckConv(c, 112);
  c.p = Conv(1, 11, 14, 14, 11, 3, 3);  // stride 2 to 7x7: two output rows per vector
  c.p.groups = 11;
  c.p.stride_h = c.p.stride_w = 2;
  Pads(c.p, 1, 1, 1, 1);
  CheckConv(c, 114);
  c.p = Conv(1, 5, 3, 40, 5, 3, 5);  // one row of 36: a batch with missing vectors
  c.p.groups = 5;
  c.p.dil_w = 1;
  CheckConv(c, 115);
  c.p = Conv(1, 16, 112, 112, 16, 3, 3);  // a MobileNet stage
  c.p.groups = 16;
  Pads(c.p, 1, 1, 1, 1);
  c.p.act = Activation::RELU;
  CheckConv(c, 113);
  c.p = Conv(1, 5, 9, 127, 5, 3, 3);  // rows of two 64-byte chunks, padding in both
  c.p.groups = 5;
  c.p.dil_h = c.p.dil_w = 2;
  Pads(c.p, 2, 2, 1, 2);
  c.p.act = Activation::NONE;
  CheckConv(c, 116);
  c.p = Conv(1, 3, 4, 530, 3, 3, 3);  // rows too wide for the precomputed column masks
  c.p.groups = 3;
  c.p.dil_h = c.p.dil_w = 1;
  Pads(c.p, 1, 1, 1, 1);
  CheckConv(c, 117);
  // More output vectors per plane than the kernel lists at once (1170; 1050 row pairs).
  c.p = Conv(1, 2, 130, 130, 2, 3, 3);
  c.p.groups = 2;
  CheckConv(c, 118);
  c.p = Conv(1, 2, 2100, 5, 2, 3, 3);
  c.p.groups = 2;
  CheckConv(c, 119);
  // A RELU with the output zero point at -128 (MobileNet's layers): the requantization
  // without the negative-product correction, on the row path (rows of 40; row pairs of 6)
  // and on small planes.
  c.out_zp = -128;
  c.p.act = Activation::RELU;
  const int planes[][2] = {{40, 40}, {60, 6}, {7, 7}, {14, 14}};
  for (const auto& hw : planes) {
    c.p = Conv(1, 6, hw[0], hw[1], 6, 3, 3);
    c.p.groups = 6;
    c.p.act = Activation::RELU;
    Pads(c.p, 1, 1, 1, 1);
    CheckConv(c, 150 + hw[1]);
  }
}

TEST(X86Int8Conv, MultiplierExtremes) {
  REQUIRE_AVX2();
  // M > 1 (left shift, saturating); M around 1 (shifts of both signs and none); M ~ 0
  for (float gain : {0.0005f, 0.0012f, 0.01f, 1e12f}) {
    SCOPED_TRACE(gain);
    Case c;
    c.out_gain = gain;
    c.p = Conv(1, 9, 6, 7, 11, 3, 3);
    Pads(c.p, 1, 1, 1, 1);
    CheckConv(c, 120);
    c.p.groups = 9, c.p.m = 9;
    CheckConv(c, 121);
  }
}

TEST(X86Int8Conv, Int32Output) {
  REQUIRE_AVX2();
  Case c;
  c.int32_out = true;
  c.p = Conv(1, 5, 9, 11, 7, 3, 3);
  Pads(c.p, 1, 0, 1, 2);
  c.p.bias = false;
  CheckConv(c, 130);
  c.p = Conv(1, 6, 9, 11, 6, 3, 3);
  c.p.groups = 6;
  CheckConv(c, 131);
  c.p = Conv(1, 4, 8, 7, 4, 3, 3);  // depthwise, rows of 5: two per vector
  c.p.groups = 4;
  CheckConv(c, 132);
}

TEST(X86Int8Conv, WeightZeroPointsFallBack) {
  REQUIRE_AVX2();
  Case c;
  c.weight_zp = true;
  c.p = Conv(1, 5, 9, 11, 7, 3, 3);
  CheckConv(c, 140);  // same kernel, reference arithmetic inside
  c.int32_out = true;
  CheckConv(c, 141);
}

// ---------------------------------------------------------------------------------------------
// FULLY_CONNECTED

struct FcCase {
  int n = 1, k = 1, out = 1;
  bool per_channel = true, bias = true, weight_zp = false, int32_out = false;
  Activation act = Activation::NONE;
  float act_min = 0, act_max = 0;
  QParams x{0.02f, -3};
};

void CheckFcWith(const FcCase& c, uint32_t seed, const Isa& isa) {
  const auto x = RandomInt8(static_cast<size_t>(c.n) * c.k, seed);
  const auto w = RandomInt8(static_cast<size_t>(c.out) * c.k, seed + 1);
  std::mt19937 rng(seed + 2);
  std::uniform_real_distribution<float> scale(0.002f, 0.02f);
  std::uniform_int_distribution<int> zp(-40, 40);
  const float s0 = scale(rng);
  std::vector<float> w_scale;
  std::vector<int64_t> w_zp;
  for (int o = 0; o < c.out; ++o) {
    w_scale.push_back(c.per_channel ? scale(rng) : s0);
    w_zp.push_back(c.weight_zp ? zp(rng) : 0);
  }
  if (!c.per_channel) w_zp.assign(c.out, w_zp[0]);
  QParams out{static_cast<float>(130.0 * std::sqrt(static_cast<double>(c.k)) * c.x.scale * s0), -7};
  std::vector<Operand> ins = {Int8({c.n, c.k}, x, c.x)};
  if (c.per_channel)
    ins.push_back(Int8PerAxis({c.out, c.k}, w, w_scale, w_zp, 0));
  else
    ins.push_back(Int8({c.out, c.k}, w, {s0, static_cast<int>(w_zp[0])}, true));
  ins.push_back(c.bias && !c.int32_out ? Int32({c.out}, RandomInt32(c.out, seed + 3, -9000, 9000))
                                       : Operand::Absent());
  const Operand y =
      c.int32_out ? Operand::Out({c.n, c.out}, opm::DType::INT32) : OutI8({c.n, c.out}, out);
  opm::FullyConnectedOptionsT o;
  o.activation = c.act;
  o.act_min = c.act_min;
  o.act_max = c.act_max;
  SingleOpModel model(opm::OpCode::FULLY_CONNECTED, Options(o), std::move(ins), {y});
  ASSERT_EQ(model.status(), Status::kOk) << model.error();
  ExpectSameAsReference(model.file(), {std::vector<uint8_t>(x.begin(), x.end())}, isa.fc,
                        isa.features);
}

void CheckFc(const FcCase& c, uint32_t seed) {
  ForEachIsa([&](const Isa& isa) { CheckFcWith(c, seed, isa); });
}

TEST(X86Int8FullyConnected, Shapes) {
  REQUIRE_AVX2();
  // Batch 1 runs on the weights in place on AVX-512 (k in 64-byte blocks plus a masked tail,
  // channels in fours plus a remainder); larger batches on the packed weights.
  const int shapes[][3] = {{1, 1, 1},   {1, 5, 17}, {3, 37, 100},   {2, 1280, 1000},
                           {1, 64, 64}, {1, 7, 65}, {1, 3136, 128}, {1, 201, 67}};
  uint32_t seed = 200;
  for (const auto& s : shapes)
    for (int zx : {-128, 0, 127}) {
      SCOPED_TRACE(::testing::Message() << s[0] << "x" << s[1] << " -> " << s[2] << " zx " << zx);
      FcCase c;
      c.n = s[0], c.k = s[1], c.out = s[2];
      c.x.zp = zx;
      CheckFc(c, seed++);
      c.per_channel = false;
      c.bias = false;
      c.act = Activation::RELU;
      CheckFc(c, seed++);
    }
}

TEST(X86Int8FullyConnected, ClipInt32AndFallback) {
  REQUIRE_AVX2();
  FcCase c;
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
  c.n = 1, c.weight_zp = false;  // batch 1: weights in place
  CheckFc(c, 304);
  c.int32_out = true;
  CheckFc(c, 305);
}

// ---------------------------------------------------------------------------------------------
// ADD

void CheckAdd(std::vector<int32_t> a_shape, std::vector<int32_t> b_shape, QParams a, QParams b,
              QParams y, Activation act, uint32_t seed, const char* want_kernel) {
  std::vector<int32_t> y_shape = a_shape.size() >= b_shape.size() ? a_shape : b_shape;
  const auto xa = RandomInt8(static_cast<size_t>(Product(a_shape)), seed);
  const auto xb = RandomInt8(static_cast<size_t>(Product(b_shape)), seed + 1);
  opm::BinaryOptionsT o;
  o.activation = act;
  o.act_min = -0.5f;
  o.act_max = 1.5f;
  SingleOpModel model(opm::OpCode::ADD, Options(o), {Int8(a_shape, xa, a), Int8(b_shape, xb, b)},
                      {OutI8(y_shape, y)});
  ASSERT_EQ(model.status(), Status::kOk) << model.error();
  const Inputs in = {std::vector<uint8_t>(xa.begin(), xa.end()),
                     std::vector<uint8_t>(xb.begin(), xb.end())};
  ExpectSameAsReference(model.file(), in, want_kernel);
  if (HaveAvx2()) ExpectSameAsReference(model.file(), in, "add_i8_avx2", kCpuX86Avx2Fma);
}

TEST(X86Int8Add, SameShape) {
  REQUIRE_VNNI();
  uint32_t seed = 400;
  for (int za : {-128, 0, 127})
    for (Activation act : {Activation::NONE, Activation::RELU, Activation::CLIP}) {
      SCOPED_TRACE(za);
      CheckAdd({1, 24, 17, 19}, {1, 24, 17, 19}, {0.05f, za}, {0.02f, -za / 2}, {0.06f, 9}, act,
               seed++, "add_i8_avx512vnni");
      CheckAdd({3, 5}, {3, 5}, {0.01f, 3}, {0.4f, za}, {0.003f, -100}, act, seed++,
               "add_i8_avx512vnni");  // very different input scales
    }
  CheckAdd({1, 9000}, {1, 9000}, {0.03f, 1}, {0.03f, 1}, {0.05f, 0}, Activation::NONE, 420,
           "add_i8_avx512vnni");  // several ParallelFor chunks
}

// Every pair of input values, with input scales apart by 2^-r * 1.37 for r up to 25 (the
// 32-bit terms take r <= 20, the others the 64-bit ones) and zero points at both ends.
TEST(X86Int8Add, EveryInputPairAcrossScales) {
  REQUIRE_VNNI();
  std::vector<int8_t> a(65536), b(65536);
  for (int i = 0; i < 65536; ++i) {
    a[i] = static_cast<int8_t>((i & 255) - 128);
    b[i] = static_cast<int8_t>((i >> 8) - 128);
  }
  const std::vector<uint8_t> fa(a.begin(), a.end()), fb(b.begin(), b.end());
  const int zps[][2] = {{-128, 127}, {127, -128}, {0, 3}};
  for (int r : {0, 1, 5, 12, 19, 20, 21, 25})
    for (const auto& z : zps)
      for (Activation act : {Activation::NONE, Activation::RELU}) {
        SCOPED_TRACE(::testing::Message() << "r " << r << " zp " << z[0] << "," << z[1]);
        const float sb = 0.05f * 1.37f / static_cast<float>(1 << r) / 2.0f;
        opm::BinaryOptionsT o;
        o.activation = act;
        SingleOpModel model(opm::OpCode::ADD, Options(o),
                            {Int8({1, 65536}, a, {0.05f, z[0]}), Int8({1, 65536}, b, {sb, z[1]})},
                            {OutI8({1, 65536}, {0.07f, 5})});
        ASSERT_EQ(model.status(), Status::kOk) << model.error();
        ExpectSameAsReference(model.file(), {fa, fb}, "add_i8_avx512vnni");
        ExpectSameAsReference(model.file(), {fa, fb}, "add_i8_avx2", kCpuX86Avx2Fma);
      }
}

TEST(X86Int8Add, BroadcastFallsBack) {
  REQUIRE_VNNI();
  CheckAdd({2, 3, 5, 7}, {3, 1, 1}, {0.05f, 4}, {0.02f, -3}, {0.06f, 0}, Activation::NONE, 430,
           "add_i8_avx512vnni");
}

// ---------------------------------------------------------------------------------------------
// MAX_POOL_2D

struct PoolCase {
  std::vector<int32_t> x, y;
  int kh = 3, kw = 3, sh = 2, sw = 2, dh = 1, dw = 1, pt = 1, pl = 1, pb = 1, pr = 1;
};

void CheckMaxPool(const PoolCase& c, uint32_t seed, const char* want_kernel) {
  opm::Pool2DOptionsT o;
  o.kernel_h = c.kh, o.kernel_w = c.kw, o.stride_h = c.sh, o.stride_w = c.sw;
  o.dilation_h = c.dh, o.dilation_w = c.dw;
  o.pad_top = c.pt, o.pad_left = c.pl, o.pad_bottom = c.pb, o.pad_right = c.pr;
  const auto x = RandomInt8(static_cast<size_t>(Product(c.x)), seed);
  const QParams q{0.05f, -7};
  SingleOpModel model(opm::OpCode::MAX_POOL_2D, Options(o), {Int8(c.x, x, q)}, {OutI8(c.y, q)});
  ASSERT_EQ(model.status(), Status::kOk) << model.error();
  ExpectSameAsReference(model.file(), {std::vector<uint8_t>(x.begin(), x.end())}, want_kernel);
}

TEST(X86Int8MaxPool, Shapes) {
  REQUIRE_VNNI();
  PoolCase c;
  c.x = {1, 8, 112, 112}, c.y = {1, 8, 56, 56};  // ResNet's stem pool
  CheckMaxPool(c, 500, "max_pool2d_i8_avx512vnni");
  c.x = {2, 3, 13, 150}, c.y = {2, 3, 7, 75};  // batch 2, rows wider than 64 outputs
  CheckMaxPool(c, 501, "max_pool2d_i8_avx512vnni");
  c.x = {1, 5, 9, 11}, c.y = {1, 5, 5, 6};  // ceil mode: the last window runs past the input
  c.pb = 0, c.pr = 0;
  CheckMaxPool(c, 502, "max_pool2d_i8_avx512vnni");
  c = PoolCase();
  c.sh = c.sw = 1, c.kh = 2, c.kw = 3, c.dh = 2, c.dw = 2, c.pt = 0, c.pl = 2, c.pb = 1, c.pr = 0;
  c.x = {1, 7, 10, 71}, c.y = {1, 7, 9, 69};  // stride 1, dilations, asymmetric pads
  CheckMaxPool(c, 503, "max_pool2d_i8_avx512vnni");
  c.sh = 3, c.sw = 3, c.dh = c.dw = 1, c.pl = 0, c.pb = 0;
  c.x = {1, 2, 9, 12}, c.y = {1, 2, 3, 4};  // stride 3: the reference arithmetic
  CheckMaxPool(c, 504, "max_pool2d_i8_avx512vnni");
}

// ---------------------------------------------------------------------------------------------
// GLOBAL_AVERAGE_POOL

TEST(X86Int8GlobalAveragePool, Shapes) {
  REQUIRE_VNNI();
  const std::vector<std::vector<int32_t>> shapes = {{1, 70, 7, 7}, {2, 5, 7, 9}, {1, 3, 150, 151},
                                                    {2, 4, 33},    {1, 2, 1, 1}, {1, 3, 8, 8}};
  uint32_t seed = 600;
  for (const auto& x_shape : shapes)
    for (int zx : {-128, 5, 127}) {
      SCOPED_TRACE(::testing::Message() << x_shape.size() << "-d, " << x_shape[2] << " zx " << zx);
      std::vector<int32_t> y_shape = x_shape;
      for (size_t a = 2; a < y_shape.size(); ++a) y_shape[a] = 1;
      const auto x = RandomInt8(static_cast<size_t>(Product(x_shape)), seed);
      for (const QParams& out : {QParams{0.05f, zx}, QParams{0.013f, -20}}) {
        SingleOpModel model(opm::OpCode::GLOBAL_AVERAGE_POOL, opm::OpOptionsUnion(),
                            {Int8(x_shape, x, {0.05f, zx})}, {OutI8(y_shape, out)});
        ASSERT_EQ(model.status(), Status::kOk) << model.error();
        ExpectSameAsReference(model.file(), {std::vector<uint8_t>(x.begin(), x.end())},
                              "global_average_pool_i8_avx512vnni");
      }
      ++seed;
    }
}

// ---------------------------------------------------------------------------------------------
// QUANTIZE FLOAT32 -> INT8

void CheckQuantize(const std::vector<float>& x, Operand y) {
  SingleOpModel model(opm::OpCode::QUANTIZE, opm::OpOptionsUnion(),
                      {Operand::F32({static_cast<int32_t>(x.size())}, x)}, {std::move(y)});
  ASSERT_EQ(model.status(), Status::kOk) << model.error();
  std::vector<uint8_t> bytes(x.size() * 4);
  std::memcpy(bytes.data(), x.data(), bytes.size());
  ExpectSameAsReference(model.file(), {bytes}, "quantize_f32_avx512vnni");
  if (HaveAvx2()) ExpectSameAsReference(model.file(), {bytes}, "quantize_f32_avx2", kCpuX86Avx2Fma);
}

TEST(X86Int8Quantize, TiesSpecialValuesAndFallbacks) {
  REQUIRE_VNNI();
  // Exact ties k + 1/2 (scale 0.25), values next to them, zeros of both signs, infinities,
  // NaN, huge values; then random values, and a length that is no multiple of 16.
  std::vector<float> x;
  for (int k = -140; k <= 140; ++k) {
    const float t = (k + 0.5f) * 0.25f;
    x.insert(x.end(), {t, std::nextafter(t, 1e9f), std::nextafter(t, -1e9f), k * 0.25f});
  }
  x.insert(x.end(), {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, 3e38f, -3e38f, 1e-30f});
  const auto r = RandomFloats(1001, 500, -40.0f, 40.0f);
  x.insert(x.end(), r.begin(), r.end());
  for (int zp : {-128, -3, 0, 127}) {
    SCOPED_TRACE(zp);
    CheckQuantize(x, OutI8({static_cast<int32_t>(x.size())}, {0.25f, zp}));
    CheckQuantize(x, OutI8({static_cast<int32_t>(x.size())}, {0.0731f, zp}));
  }
  // UINT8 output: the reference arithmetic.
  CheckQuantize(
      x, Operand::Out({static_cast<int32_t>(x.size())}, opm::DType::UINT8).Quantized(0.25f, 128));
}

// 16 accumulators for the requantization tests: int32 extremes, values around a tie of the
// final rounding for `shift`, and random values of every magnitude.
void RequantInputs(std::mt19937& rng, int shift, int32_t x[16]) {
  for (int i = 0; i < 16; ++i) {
    const int kind = static_cast<int>(rng() % 5);
    if (kind == 0) {
      const int32_t edge[] = {INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX};
      x[i] = edge[rng() % 6];
    } else if (kind == 1) {  // around a tie of the final rounding
      const int r = shift < 0 ? (-shift < 30 ? -shift : 30) : 0;
      const int64_t t = (static_cast<int64_t>(rng() % 4096) - 2048) * (int64_t{1} << r) +
                        (int64_t{1} << r) / 2 + static_cast<int64_t>(rng() % 3) - 1;
      x[i] = static_cast<int32_t>(t);
    } else {
      x[i] = static_cast<int32_t>(rng()) >> (rng() % 32);
    }
  }
}

// The output zero points and bounds the requantization tests try: int8's and uint8's, and
// unclamped (MultiplyRequantVec).
struct RequantOut {
  int32_t zp, lo, hi;
};
// A lower bound at or above the zero point (RELU) drops the fast path's correction for
// negative products.
const RequantOut kRequantOuts[] = {
    {-128, -128, 127},        {0, -128, 127}, {5, 5, 127}, {-10, 20, 127}, {3, 2, 127},
    {127, -128, 127},         {-3, -128, 80}, {0, 0, 255}, {255, 0, 255},  {128, 0, 200},
    {0, INT32_MIN, INT32_MAX}};
const int32_t kRequantM0s[] = {0, 1, 1 << 30, (1 << 30) + 1, 1518500250, INT32_MAX};

// ApplyRequantVec and ApplyRequantVecI8 (every convolution's requantization) against
// Requantize, lane by lane, for every right shift, multipliers at the ends of their range,
// zero points and bounds of both output types (int8's own bounds take the saturating
// narrowing), and accumulators at the int32 extremes, near rounding ties and random.
// GCC 12 flags the intrinsics' internal _mm512_undefined operands once they are inlined here.
#pragma GCC diagnostic push
#if !defined(__clang__)  // a GCC-only warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
OUTPOST_AVX512_VNNI void ApplyRequantVec16(const kernels::x86::ChannelRequant& m, int32_t zp,
                                           int32_t lo, int32_t hi, const int32_t* x, int32_t* y,
                                           uint8_t* y8) {
  const kernels::x86::RequantVec r = kernels::x86::MakeRequantVec(m, zp, lo, hi);
  _mm512_storeu_si512(y, kernels::x86::ApplyRequantVec(r, _mm512_loadu_si512(x)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(y8),
                   kernels::x86::ApplyRequantVecI8(r, _mm512_loadu_si512(x)));
}
#pragma GCC diagnostic pop

TEST(X86Int8Requantize, ApplyRequantVecMatchesReference) {
  REQUIRE_VNNI();
  std::mt19937 rng(7);
  int64_t checked = 0;
  for (int shift = -31; shift <= 30; ++shift)
    for (int32_t m0 : kRequantM0s)
      for (const RequantOut& o : kRequantOuts) {
        const kernels::x86::ChannelRequant cr = kernels::x86::MakeChannelRequant({m0, shift});
        for (int round = 0; round < 12; ++round) {
          alignas(64) int32_t x[16], y[16];
          uint8_t y8[16];
          RequantInputs(rng, shift, x);
          ApplyRequantVec16(cr, o.zp, o.lo, o.hi, x, y, y8);
          for (int i = 0; i < 16; ++i) {
            const int32_t want = kernels::Requantize(x[i], {m0, shift}, o.zp, o.lo, o.hi);
            ASSERT_EQ(y[i], want) << "x " << x[i] << " m0 " << m0 << " shift " << shift << " zp "
                                  << o.zp;
            ASSERT_EQ(y8[i], static_cast<uint8_t>(want))
                << "x " << x[i] << " m0 " << m0 << " shift " << shift << " zp " << o.zp;
            ++checked;
          }
        }
      }
  EXPECT_GT(checked, 0);
}

// The int8 ADD's 32-bit input term (Term32 on AVX-512, Term32x8 on AVX2) against the reference's
// MultiplyByQuantizedMultiplier((q - zp) * 2^20, m), for every q, zero points that make
// q - zp cover [-255, 255], every right shift the term takes and multipliers at the ends of
// their range, near the 2^11 split and random; and where Term32Exact refuses it.
// GCC 12 flags the intrinsics' internal _mm512_undefined operands once they are inlined here.
#pragma GCC diagnostic push
#if !defined(__clang__)  // GCC-only warnings
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
OUTPOST_AVX512_VNNI void ScaledTerm32x16(int32_t zp, const kernels::x86::ChannelRequant& m,
                                         const int8_t* q, int32_t* y) {
  const kernels::x86::Term32 t = kernels::x86::MakeTerm32(zp, m);
  _mm512_storeu_si512(
      y, kernels::x86::ScaledTerm32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)), t));
}
#pragma GCC diagnostic pop

OUTPOST_AVX2 void ScaledTerm32x8x2(int32_t zp, int32_t m0, int32_t right, const int8_t* q,
                                   int32_t* y) {
  const kernels::x86::Term32x8 t = kernels::x86::MakeTerm32x8(zp, m0, right);
  for (int h = 0; h < 2; ++h)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + 8 * h),
                        kernels::x86::ScaledTerm32x8(
                            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + 8 * h)), t));
}

TEST(X86Int8Add, Term32MatchesReference) {
  REQUIRE_VNNI();
  std::vector<int32_t> m0s = {
      0,          1 << 30,          (1 << 30) + 1, (1 << 30) + 2047, (1 << 30) + 2048,
      1518500250, INT32_MAX - 2047, INT32_MAX};
  std::mt19937 rng(11);
  for (int i = 0; i < 40; ++i) m0s.push_back((1 << 30) + static_cast<int32_t>(rng() >> 2));
  int8_t q[256];
  for (int i = 0; i < 256; ++i) q[i] = static_cast<int8_t>(i - 128);
  int64_t checked = 0;
  for (int r = 0; r <= kernels::x86::kMaxTerm32Right; ++r)
    for (int32_t m0 : m0s)
      for (int32_t zp : {-128, 0, 127}) {
        const kernels::x86::ChannelRequant m = kernels::x86::MakeChannelRequant({m0, -r});
        ASSERT_TRUE(kernels::x86::Term32Exact(m)) << "m0 " << m0 << " r " << r;
        for (int v = 0; v < 256; v += 16) {
          int32_t y[16], y2[16];
          ScaledTerm32x16(zp, m, q + v, y);
          ScaledTerm32x8x2(zp, m0, r, q + v, y2);
          for (int i = 0; i < 16; ++i) {
            const int32_t d = q[v + i] - zp;
            const int32_t want = kernels::MultiplyByQuantizedMultiplier(d * (1 << 20), m0, -r);
            ASSERT_EQ(y[i], want) << "AVX-512, d " << d << " m0 " << m0 << " r " << r;
            ASSERT_EQ(y2[i], want) << "AVX2, d " << d << " m0 " << m0 << " r " << r;
            ++checked;
          }
        }
      }
  EXPECT_EQ(checked, 21 * 48 * 3 * 256);
  using kernels::x86::MakeChannelRequant;
  using kernels::x86::Term32Exact;
  EXPECT_FALSE(Term32Exact(MakeChannelRequant({1 << 30, -21})));  // c would overflow int32
  EXPECT_FALSE(Term32Exact(MakeChannelRequant({1 << 30, 1})));    // a left shift
  EXPECT_FALSE(Term32Exact(MakeChannelRequant({1, -3})));         // m0 not normalized
}

// The AVX2 requantization, the same way: ApplyRequantVec8 and ApplyRequantVec8I8 (the
// convolutions' per-channel form) and RequantizeAvx2 (per-lane constants, fully connected).
OUTPOST_AVX2 void ApplyRequantVec8x2(int32_t m0, int shift, int32_t zp, int32_t lo, int32_t hi,
                                     const int32_t* x, int32_t* y, uint8_t* y8, int32_t* y_lanes) {
  const kernels::x86::ChannelRequant m = kernels::x86::MakeChannelRequant({m0, shift});
  const kernels::x86::RequantVec8 r =
      kernels::x86::MakeRequantVec8(m.m0, m.left, m.right, zp, lo, hi);
  for (int h = 0; h < 2; ++h) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 8 * h));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + 8 * h),
                        kernels::x86::ApplyRequantVec8(r, v));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(y8 + 8 * h),
                     kernels::x86::ApplyRequantVec8I8(r, v));
    if (lo >= INT32_MIN + 256 && hi <= INT32_MAX - 256)  // lo - zp and hi - zp fit in int32
      _mm256_storeu_si256(
          reinterpret_cast<__m256i*>(y_lanes + 8 * h),
          kernels::x86::RequantizeAvx2(v, _mm256_set1_epi32(m.m0), _mm256_set1_epi32(m.left),
                                       _mm256_set1_epi32(m.right), _mm256_set1_epi32(zp),
                                       _mm256_set1_epi32(lo - zp), _mm256_set1_epi32(hi - zp)));
  }
}

TEST(X86Int8Requantize, Avx2MatchesReference) {
  REQUIRE_AVX2();
  std::mt19937 rng(11);
  int64_t checked = 0;
  for (int shift = -31; shift <= 30; ++shift)
    for (int32_t m0 : kRequantM0s)
      for (const RequantOut& o : kRequantOuts)
        for (int round = 0; round < 12; ++round) {
          int32_t x[16], y[16], lanes[16];
          uint8_t y8[16];
          RequantInputs(rng, shift, x);
          for (int i = 0; i < 16; ++i)
            lanes[i] = kernels::Requantize(x[i], {m0, shift}, o.zp, o.lo, o.hi);
          ApplyRequantVec8x2(m0, shift, o.zp, o.lo, o.hi, x, y, y8, lanes);
          for (int i = 0; i < 16; ++i) {
            const int32_t want = kernels::Requantize(x[i], {m0, shift}, o.zp, o.lo, o.hi);
            ASSERT_EQ(y[i], want) << "x " << x[i] << " m0 " << m0 << " shift " << shift << " zp "
                                  << o.zp;
            ASSERT_EQ(y8[i], static_cast<uint8_t>(want))
                << "x " << x[i] << " m0 " << m0 << " shift " << shift << " zp " << o.zp;
            ASSERT_EQ(lanes[i], want) << "per-lane form: x " << x[i] << " m0 " << m0 << " shift "
                                      << shift << " zp " << o.zp;
            ++checked;
          }
        }
  EXPECT_GT(checked, 0);
}

// Shapes only the AVX2 kernels treat specially: depthwise at any column stride (phase
// planes), kernels too large for the depthwise path, odd GEMM depths (int16 pairs), channel
// counts around the 4-channel tile and the 24-pixel block.
TEST(X86Int8Conv, Avx2Specific) {
  REQUIRE_AVX2();
  const Isa avx2 = {"avx2", kCpuX86Avx2Fma, "conv2d_i8_avx2", "fully_connected_i8_avx2"};
  Case c;
  for (int stride : {3, 5}) {
    SCOPED_TRACE(stride);
    c.p = Conv(1, 7, 13, 41, 7, 3, 3);  // depthwise, column stride 3 and 5
    c.p.groups = 7;
    c.p.stride_w = stride;
    c.p.dil_w = 2;
    Pads(c.p, 1, 2, 1, 2);
    c.x.zp = -128;
    CheckConvWith(c, 700 + stride, avx2);
  }
  c.p = Conv(1, 3, 12, 12, 3, 9, 9);  // 81 taps: depthwise by GEMM
  c.p.groups = 3;
  Pads(c.p, 4, 4, 4, 4);
  c.x.zp = 127;
  CheckConvWith(c, 710, avx2);
  for (int m : {1, 3, 4, 5, 9}) {
    SCOPED_TRACE(m);
    c.p = Conv(1, 3, 5, 5, m, 1, 1);  // k = 3: one pair and a half; 25 pixels: 24 + 1
    c.x.zp = -128;
    c.p.act = Activation::CLIP, c.p.act_min = 0, c.p.act_max = 6;
    CheckConvWith(c, 720 + m, avx2);
    c.p = Conv(1, 5, 4, 12, m, 1, 3);  // 48 pixels: two full blocks
    c.p.act = Activation::RELU;
    c.x.zp = 127;
    CheckConvWith(c, 730 + m, avx2);
  }
  c.p = Conv(1, 17, 9, 31, 1, 1, 1);  // 1x1 direct, odd k, 279 pixels
  c.p.act = Activation::NONE;
  CheckConvWith(c, 740, avx2);
}

}  // namespace
}  // namespace outpost::testing
