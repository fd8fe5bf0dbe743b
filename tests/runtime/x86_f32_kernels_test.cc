// The x86 float32 CONV_2D, FULLY_CONNECTED, MAX_POOL_2D and ADD kernels against the reference
// kernels (the specification) on awkward shapes: prime channel counts, widths that are not a
// multiple of the vector width, strides, asymmetric padding, dilation, groups, depthwise,
// batch 2, ceil mode, with and without bias, every fused activation. Also: identical results
// for any thread split, packed memory counted by Measure, and the reference fallback for
// non-constant weights.
//
// Tolerance: max |opt - ref| <= 1e-4 * (1 + max |ref|) per output tensor (max pooling and ADD:
// equal, NaN where the reference has NaN). The optimized
// kernels sum in a different order (and with FMA), so bit equality with the reference is not
// expected; bit equality across thread counts is. Winograd F(4x4, 3x3) rounds more than the
// other paths (on 300 channels its largest error is 1e-5 of the output's largest value, F(2x2)'s
// 2e-6): within the tolerance, except that a clipping activation shrinks max |ref| to the clip
// and not the error, so ConvActivations keeps its F(4x4) shape to 16 channels.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "runtime/cpu_features.h"
#include "runtime/kernels/f32/plan.h"
#include "runtime/kernels/x86/x86_kernels.h"
#include "tests/runtime/conv_test_util.h"

namespace outpost::testing {
namespace {

using opm::Activation;

constexpr uint32_t kAvx2 = kCpuX86Avx2Fma;
constexpr uint32_t kAvx512 = kCpuX86Avx2Fma | kCpuX86Avx512;

// Splits every parallel_for into chunks of at most 3 tasks, run last chunk first: a split no
// serial run has, so any dependence of results on the split shows.
void SmallChunksReversed(void*, int64_t n, int64_t, void (*fn)(void*, int64_t, int64_t),
                         void* arg) {
  for (int64_t end = n; end > 0; end -= 3) fn(arg, end > 3 ? end - 3 : 0, end);
}

struct RunResult {
  Status status = Status::kOk;
  std::vector<float> out;
  std::string kernel;
  ArenaRequirement req;
};

// Runs the model in `file` with the kernels `features` allow. `feeds` are the bytes of the
// model inputs (the non-constant operands, in order).
RunResult RunWith(const std::vector<uint8_t>& file, const std::vector<std::vector<uint8_t>>& feeds,
                  uint32_t features, bool split) {
  RunResult r;
  std::unique_ptr<uint8_t[]> storage(new uint8_t[file.size() + 64]);
  uint8_t* p = storage.get() + (64 - reinterpret_cast<uintptr_t>(storage.get()) % 64) % 64;
  std::memcpy(p, file.data(), file.size());
  Model model;
  r.status = model.Load(p, file.size());
  if (r.status != Status::kOk) return r;
  AllOpsResolver resolver;
  r.status = RegisterAllKernels(resolver);
  if (r.status != Status::kOk) return r;
  resolver.set_cpu_features(features);
  r.status = Interpreter::Measure(model, resolver, &r.req);
  if (r.status != Status::kOk) return r;
  std::vector<uint8_t> arena(r.req.total_bytes + 64, 0xA5);  // poison: every output is written
  Interpreter interp;
  Executor ex;
  ex.parallel_for = SmallChunksReversed;
  // 5 threads: 20 GEMM tasks, more than a gathered-B GEMM may have (kMaxGatherTasks).
  ex.threads = 5;
  if (split) interp.set_executor(&ex);
  r.status = interp.Init(model, resolver, arena.data(), arena.size());
  if (r.status != Status::kOk) return r;
  r.kernel = interp.kernel(0)->name;
  for (size_t i = 0; i < feeds.size(); ++i)
    std::memcpy(interp.input(static_cast<int>(i)).data, feeds[i].data(), feeds[i].size());
  r.status = interp.Invoke();
  if (r.status != Status::kOk) return r;
  const TensorView& y = interp.output(0);
  r.out.assign(y.as<float>(), y.as<float>() + y.num_elements());
  return r;
}

bool Supported(uint32_t features) { return (DetectCpuFeatures() & features) == features; }

const char* IsaName(uint32_t features) { return features == kAvx512 ? "avx512" : "avx2"; }

// The reference run, the optimized run, and the optimized run split over 5 threads, each
// asserted to have succeeded (call through ASSERT_NO_FATAL_FAILURE).
struct ThreeRuns {
  RunResult ref, opt, split;
};
void RunThreeWays(const std::vector<uint8_t>& file, const std::vector<std::vector<uint8_t>>& feeds,
                  uint32_t features, const std::string& what, ThreeRuns* r) {
  r->ref = RunWith(file, feeds, 0, false);
  ASSERT_EQ(r->ref.status, Status::kOk) << what;
  r->opt = RunWith(file, feeds, features, false);
  ASSERT_EQ(r->opt.status, Status::kOk) << what;
  r->split = RunWith(file, feeds, features, true);
  ASSERT_EQ(r->split.status, Status::kOk) << what;
}

// Compares the optimized run (serial and split) with the reference; returns max abs error.
void CompareWithReference(const std::vector<uint8_t>& file,
                          const std::vector<std::vector<uint8_t>>& feeds, uint32_t features,
                          const char* expect_kernel_prefix, const std::string& what) {
  ThreeRuns runs;
  ASSERT_NO_FATAL_FAILURE(RunThreeWays(file, feeds, features, what, &runs));
  const RunResult &ref = runs.ref, &opt = runs.opt, &split = runs.split;
  EXPECT_EQ(opt.kernel.rfind(expect_kernel_prefix, 0), 0u) << what << ": ran " << opt.kernel;
  ASSERT_EQ(opt.out.size(), ref.out.size());
  double max_ref = 0, max_err = 0;
  for (size_t i = 0; i < ref.out.size(); ++i) {
    max_ref = std::fmax(max_ref, std::fabs(ref.out[i]));
    const double e = std::fabs(static_cast<double>(opt.out[i]) - ref.out[i]);
    if (!(e <= max_err)) max_err = std::isnan(e) ? INFINITY : e;
  }
  const double tol = 1e-4 * (1 + max_ref);
  EXPECT_LE(max_err, tol) << what << " (" << opt.kernel << ")";
  ASSERT_EQ(split.out.size(), opt.out.size());
  EXPECT_EQ(std::memcmp(split.out.data(), opt.out.data(), opt.out.size() * sizeof(float)), 0)
      << what << ": results depend on the thread split";
  std::printf("  %-58s %-26s max err %.2e (tol %.2e)\n", what.c_str(), opt.kernel.c_str(),
              max_err, tol);
}

struct ConvCase {
  ConvParams p;
  const char* expect;  // kernel name prefix that must run
};

std::vector<int32_t> OutShape(const ConvParams& p) {
  const int oh = (p.h + p.pad_t + p.pad_b - (p.dil_h * (p.kh - 1) + 1)) / p.stride_h + 1;
  const int ow = (p.w + p.pad_l + p.pad_r - (p.dil_w * (p.kw - 1) + 1)) / p.stride_w + 1;
  return {p.n, p.m, oh, ow};
}

std::string Describe(const ConvParams& p) {
  char s[200];
  std::snprintf(s, sizeof(s), "n%d c%d %dx%d m%d k%dx%d s%d,%d d%d,%d p%d,%d,%d,%d g%d%s act%d",
                p.n, p.c, p.h, p.w, p.m, p.kh, p.kw, p.stride_h, p.stride_w, p.dil_h, p.dil_w,
                p.pad_t, p.pad_l, p.pad_b, p.pad_r, p.groups, p.bias ? " bias" : "",
                static_cast<int>(p.act));
  return s;
}

void RunConv(const ConvParams& p, uint32_t features, bool weights_constant = true) {
  const std::vector<float> x = RandomFloats(p.n * p.c * p.h * p.w, 1);
  const std::vector<float> w = RandomFloats(p.m * (p.c / p.groups) * p.kh * p.kw, 2);
  const std::vector<float> b = RandomFloats(p.m, 3);
  std::vector<Operand> in = {Operand::F32({p.n, p.c, p.h, p.w}, x),
                             Operand::F32({p.m, p.c / p.groups, p.kh, p.kw}, w, weights_constant)};
  in.push_back(p.bias ? Operand::F32({p.m}, b, true) : Operand::Absent());
  SingleOpModel model(opm::OpCode::CONV_2D, Options(FillOptions<opm::Conv2DOptionsT>(p)), in,
                      {Operand::Out(OutShape(p))});
  ASSERT_EQ(model.status(), Status::kOk) << model.error();
  std::vector<std::vector<uint8_t>> feeds = {in[0].bytes};
  if (!weights_constant) feeds.push_back(in[1].bytes);
  const std::string expect = std::string("conv2d_f32_") + IsaName(features);
  CompareWithReference(model.file(), feeds, features, expect.c_str(),
                       std::string(IsaName(features)) + " conv " + Describe(p));
}

ConvParams Conv(int n, int c, int h, int w, int m, int k, int stride, int pad, int groups = 1) {
  ConvParams p;
  p.n = n, p.c = c, p.h = h, p.w = w, p.m = m, p.kh = k, p.kw = k;
  p.stride_h = p.stride_w = stride;
  p.pad_t = p.pad_l = p.pad_b = p.pad_r = pad;
  p.groups = groups;
  return p;
}

// Awkward shapes covering every path: pointwise GEMM, im2col GEMM, grouped, depthwise.
std::vector<ConvParams> ConvCases() {
  std::vector<ConvParams> v;
  v.push_back(Conv(1, 7, 5, 9, 13, 1, 1, 0));     // pointwise, 45 columns, 13 rows
  v.push_back(Conv(2, 31, 7, 7, 3, 1, 1, 0));     // pointwise, batch 2, 3 rows
  v.push_back(Conv(1, 16, 14, 14, 40, 1, 1, 0));  // pointwise, 196 columns
  v.push_back(Conv(1, 3, 11, 13, 7, 3, 1, 1));    // im2col 3x3
  v.push_back(Conv(2, 13, 9, 10, 31, 3, 2, 1));   // im2col stride 2, batch 2
  v.push_back(Conv(1, 3, 23, 19, 8, 7, 2, 3));    // im2col 7x7 stride 2 (ResNet stem)
  v.push_back(Conv(1, 7, 6, 6, 9, 1, 2, 0));      // 1x1 stride 2: im2col
  v.push_back(Conv(1, 37, 6, 7, 19, 3, 1, 1));    // reduction 333: two blocks of the GEMM
  v.push_back(Conv(1, 30, 5, 5, 70, 3, 1, 1));    // 270 x 70: blocks and several panel chunks
  v.push_back(Conv(1, 600, 3, 3, 11, 1, 1, 0));   // pointwise, reduction 600: three blocks
  v.push_back(Conv(1, 5, 40, 41, 17, 3, 1, 1));   // im2col, B too big for one pass: per tile
  v.push_back(Conv(1, 3, 67, 29, 9, 7, 2, 3));    // stem-like, 510 columns: per-tile packing
  v.push_back(Conv(1, 40, 33, 35, 10, 1, 1, 0));  // pointwise, 1155 columns: tile-major
  v.push_back(Conv(2, 67, 7, 7, 37, 3, 1, 1));    // 7x7: panel-major, 48 + 1 columns, blocks
  // Panel-major with several reduction blocks: AVX-512 writes the im2col block by block.
  v.push_back(Conv(1, 41, 15, 13, 23, 3, 2, 1));  // stride 2, 8x7 out, reduction 369
  v.push_back(Conv(1, 29, 12, 12, 11, 3, 3, 1));  // stride 3: the scalar copies, 261
  {
    ConvParams p = Conv(1, 31, 9, 11, 13, 3, 1, 2);
    p.dil_h = p.dil_w = 2;  // dilation 2, reduction 279
    v.push_back(p);
  }
  {
    ConvParams p = Conv(1, 53, 10, 6, 17, 3, 1, 0);
    p.kw = 2, p.pad_t = 2, p.pad_l = 1, p.pad_b = 0, p.pad_r = 0;  // one-sided padding, 318
    v.push_back(p);
  }
  v.push_back(Conv(1, 19, 14, 14, 17, 1, 1, 0));  // 196 columns: 4 tiles + a 4-column tail
  v.push_back(Conv(1, 11, 10, 5, 9, 1, 1, 0));    // 50 columns: 48 + 2
  v.push_back(Conv(1, 9, 8, 8, 11, 1, 1, 0));     // 64 columns: 48 + a full vector
  v.push_back(Conv(2, 9, 10, 8, 11, 3, 1, 1));    // 80 columns: 48 + two full vectors
  v.push_back(Conv(1, 5, 6, 8, 10, 3, 1, 1));     // 48 columns: one full tile
  {
    ConvParams p = Conv(1, 5, 12, 17, 11, 3, 1, 0);
    p.pad_t = 2, p.pad_l = 0, p.pad_b = 1, p.pad_r = 3;  // asymmetric padding
    p.kw = 2;
    v.push_back(p);
  }
  {
    ConvParams p = Conv(1, 6, 13, 15, 10, 3, 1, 2);
    p.dil_h = p.dil_w = 2;  // dilation 2
    v.push_back(p);
  }
  {
    ConvParams p = Conv(1, 6, 13, 15, 10, 3, 1, 1);
    p.stride_h = 2, p.stride_w = 1;
    v.push_back(p);
  }
  v.push_back(Conv(1, 12, 8, 9, 18, 3, 1, 1, 3));   // grouped 3x3
  v.push_back(Conv(2, 14, 5, 6, 21, 1, 1, 0, 7));   // grouped pointwise
  v.push_back(Conv(1, 13, 9, 35, 13, 3, 1, 1, 13));  // depthwise stride 1, width 35
  v.push_back(Conv(2, 7, 12, 37, 7, 3, 2, 1, 7));   // depthwise stride 2, batch 2
  v.push_back(Conv(1, 31, 7, 7, 31, 5, 1, 2, 31));  // depthwise 5x5 (small plane: flat)
  v.push_back(Conv(2, 37, 14, 14, 37, 3, 1, 1, 37));  // depthwise 14x14 flat, batch 2
  v.push_back(Conv(1, 9, 16, 16, 9, 3, 1, 1, 9));   // depthwise flat, 256 pixels: 16 vectors
  v.push_back(Conv(1, 9, 17, 16, 9, 3, 1, 1, 9));   // 272 pixels: row-wise again
  // Flat planes of every vector count from 1 to 15 (AVX-512: one kernel per count; up to 8
  // vectors two planes at once, so 3 channels in 2 images also pair planes of two images).
  for (int side : {1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15})
    v.push_back(Conv(2, 3, side, side, 3, 3, 1, 1, 3));
  {
    ConvParams p = Conv(1, 6, 9, 10, 6, 3, 1, 0, 6);
    p.pad_t = 2, p.pad_b = 0, p.pad_l = 0, p.pad_r = 2;  // depthwise flat, one-sided pads
    v.push_back(p);
  }
  {
    ConvParams p = Conv(1, 5, 8, 11, 5, 3, 1, 2, 5);
    p.dil_h = p.dil_w = 2;  // depthwise flat, dilation 2
    v.push_back(p);
  }
  v.push_back(Conv(1, 3, 4, 3, 3, 3, 2, 1, 3));     // depthwise narrower than a vector
  v.push_back(Conv(1, 3, 5, 150, 3, 3, 1, 1, 3));   // depthwise, 4 blocks + 2 per row
  v.push_back(Conv(1, 5, 11, 14, 5, 3, 1, 1, 5));   // depthwise narrow: 4 rows at once + 3
  v.push_back(Conv(1, 5, 13, 28, 5, 3, 2, 1, 5));   // depthwise narrow, stride 2
  v.push_back(Conv(1, 5, 13, 56, 5, 3, 2, 1, 5));   // depthwise 2 rows x 2 blocks at once + 1
  v.push_back(Conv(2, 3, 6, 151, 3, 3, 2, 1, 3));   // depthwise stride 2, 4 blocks + 1
  // Stride 2 on small planes of at most 8 columns out, half the input's (AVX-512: split into
  // four phase planes, then flat): MobileNetV2's shape, odd sizes, 16 vectors, 5x5, one-sided
  // pads; and wider ones, row-wise.
  v.push_back(Conv(1, 6, 14, 14, 6, 3, 2, 1, 6));   // 14x14 -> 7x7
  v.push_back(Conv(2, 7, 14, 14, 7, 3, 2, 1, 7));   // batch 2, odd: pairs across images
  v.push_back(Conv(1, 3, 16, 16, 3, 3, 2, 1, 3));   // 16 columns in: one full load per row
  v.push_back(Conv(2, 5, 28, 28, 5, 3, 2, 1, 5));   // 28x28 -> 14x14, batch 2: row-wise
  v.push_back(Conv(1, 4, 13, 13, 4, 3, 2, 1, 4));   // odd rows and columns: zero phases
  v.push_back(Conv(1, 3, 63, 16, 3, 3, 2, 1, 3));   // 32x8 out: 256 pixels, 16 vectors
  v.push_back(Conv(1, 4, 15, 9, 4, 5, 2, 2, 4));    // 5x5, padding 2
  {
    ConvParams p = Conv(1, 5, 14, 14, 5, 3, 2, 0, 5);
    p.pad_b = p.pad_r = 1;  // padding only after (the "same" padding of TensorFlow)
    v.push_back(p);
  }
  v.push_back(Conv(1, 5, 13, 56, 5, 3, 2, 0, 5));   // no padding: 27 of 28 columns, row-wise
  v.push_back(Conv(1, 3, 15, 112, 3, 3, 1, 1, 3));  // depthwise 3-row, 4 rows at once + 3
  v.push_back(Conv(1, 3, 19, 113, 3, 3, 2, 1, 3));  // depthwise 3-row stride 2: 10 rows
  // 3x3 stride 2 (AVX-512: three column taps from one 32-column load and one column after):
  // that column inside the row (no padding, 64 columns out of 130 and 32 of 66) and beyond
  // it, 3 blocks with the last one partial, MobileNetV2's 112x112 -> 56x56.
  v.push_back(Conv(1, 3, 9, 130, 3, 3, 2, 0, 3));
  v.push_back(Conv(1, 3, 10, 66, 3, 3, 2, 0, 3));
  v.push_back(Conv(1, 3, 9, 66, 3, 3, 2, 1, 3));
  v.push_back(Conv(1, 4, 112, 112, 4, 3, 2, 1, 4));
  v.push_back(Conv(1, 3, 22, 29, 3, 3, 1, 1, 3));   // depthwise 3-row, 2 vectors, 4 rows + 2
  // 3x3 stride 1 (AVX-512: the outer column taps are the middle one shifted by a lane): the
  // columns before and after a run of blocks inside the row (no padding, 128 columns out of
  // 130: two runs of 4 blocks) and outside it.
  v.push_back(Conv(1, 3, 9, 130, 3, 3, 1, 0, 3));
  v.push_back(Conv(1, 3, 6, 66, 3, 3, 1, 0, 3));
  v.push_back(Conv(1, 3, 6, 64, 3, 3, 1, 1, 3));
  v.push_back(Conv(1, 3, 23, 20, 3, 3, 1, 0, 3));   // depthwise 3-row, 2 vectors, no padding
  {
    ConvParams p = Conv(1, 5, 14, 70, 5, 3, 1, 0, 5);
    p.kw = 5, p.pad_t = 2, p.pad_b = 0, p.pad_l = 1, p.pad_r = 3;  // 3x5, one-sided rows
    v.push_back(p);
  }
  {
    ConvParams p = Conv(1, 2, 13, 66, 2, 3, 2, 0, 2);
    p.stride_w = 1, p.pad_t = 0, p.pad_b = 2, p.pad_l = 1, p.pad_r = 1;  // strides 2,1
    v.push_back(p);
  }
  {
    ConvParams p = Conv(1, 5, 10, 21, 5, 3, 2, 0, 5);
    p.pad_t = 0, p.pad_l = 1, p.pad_b = 2, p.pad_r = 0;  // depthwise asymmetric padding
    v.push_back(p);
  }
  {
    ConvParams p = Conv(1, 4, 11, 40, 4, 3, 1, 2, 4);
    p.dil_h = p.dil_w = 2;  // depthwise dilation 2
    v.push_back(p);
  }
  {
    ConvParams p = Conv(1, 4, 11, 40, 4, 3, 2, 2, 4);
    p.dil_h = p.dil_w = 2;  // depthwise dilation 2 stride 2
    v.push_back(p);
  }
  {
    ConvParams p = Conv(1, 4, 9, 12, 8, 3, 1, 1, 4);  // channel multiplier 2: grouped GEMM
    v.push_back(p);
  }
  // Large maps: tile-major GEMM. With row stride 1 or 2 and rows of 16+ pixels, AVX-512
  // gathers B per column tile (implicit im2col): tiles cross output rows, vectors start inside
  // the padding, the last tile is partial. The others write the im2col band by band of output
  // rows (AVX-512) or materialize it (AVX2).
  v.push_back(Conv(1, 37, 30, 31, 19, 3, 1, 1));    // reduction 333: 2 blocks, 930 columns
  v.push_back(Conv(1, 16, 40, 50, 6, 3, 1, 1, 2));  // grouped, 8 channels a group
  v.push_back(Conv(2, 30, 100, 16, 7, 3, 1, 1));    // rows of exactly one vector, batch 2
  v.push_back(Conv(1, 13, 90, 17, 5, 3, 1, 1));     // rows of 17: vectors across 2 rows
  {
    ConvParams p = Conv(1, 10, 50, 60, 8, 3, 1, 2);
    p.dil_h = p.dil_w = 2;  // dilation 2
    v.push_back(p);
  }
  {
    ConvParams p = Conv(1, 11, 60, 70, 13, 3, 1, 0);
    p.kw = 4, p.pad_t = 0, p.pad_l = 3, p.pad_b = 2, p.pad_r = 1;  // asymmetric padding
    v.push_back(p);
  }
  {
    ConvParams p = Conv(1, 11, 61, 73, 9, 3, 1, 1);
    p.stride_h = 2, p.stride_w = 1;  // strides 2,1
    v.push_back(p);
  }
  v.push_back(Conv(1, 8, 90, 40, 5, 9, 1, 4));      // 81 taps: more than GatherTile takes
  // Large maps GatherTile does not take: AVX-512 writes the im2col band by band (output rows).
  v.push_back(Conv(1, 7, 60, 12, 9, 7, 1, 3));      // 2 reduction blocks, bands 21+21+18 rows
  v.push_back(Conv(1, 9, 130, 127, 11, 3, 2, 1));   // stride 2, 65x64 out
  // Stride 2 with fewer than 8 channels, one reduction block: AVX-512 splits the padded input
  // into its even and odd columns and reads each tap's B row there (kPhaseRows).
  v.push_back(Conv(2, 3, 75, 70, 11, 5, 2, 2));    // batch 2, 35 columns: one 3-vector tile
  v.push_back(Conv(1, 3, 131, 97, 10, 7, 2, 3));   // ResNet's 7x7/2 stem, 49 columns: 48 + 1
  v.push_back(Conv(1, 3, 130, 100, 13, 3, 2, 1));  // MobileNetV2's 3x3/2 stem, 8 + 5 rows
  {
    ConvParams p = Conv(1, 7, 95, 81, 6, 5, 2, 0);
    p.pad_l = 2, p.pad_b = 3, p.pad_r = 1;  // 7 channels, 5x5, asymmetric padding, odd width
    v.push_back(p);
  }
  v.push_back(Conv(1, 8, 131, 97, 10, 7, 2, 3));    // the same gathered, 49 columns a row
  v.push_back(Conv(1, 12, 120, 32, 5, 3, 2, 1));    // stride 2, rows of one vector
  {
    ConvParams p = Conv(1, 8, 80, 75, 6, 3, 2, 0);
    p.pad_l = 1, p.pad_b = 1;  // stride 2, one-sided padding, odd width
    v.push_back(p);
  }
  {
    ConvParams p = Conv(1, 11, 61, 73, 9, 3, 1, 1);
    p.stride_w = 2;  // strides 1,2
    v.push_back(p);
  }
  {
    ConvParams p = Conv(1, 9, 70, 90, 5, 3, 2, 2);
    p.dil_h = p.dil_w = 2;  // stride 2, dilation 2
    v.push_back(p);
  }
  v.push_back(Conv(2, 20, 400, 3, 5, 3, 1, 1));     // 3 columns a row: im2col
  // 3x3, stride 1, 8+ channels and 32+ 2x2 tiles but fewer than 32 4x4 ones: Winograd
  // F(2x2, 3x3) on AVX-512 (f32/winograd_inl.h; PlanWinograd's blocks in
  // ConvPlanChoosesWinograd below).
  v.push_back(Conv(1, 8, 13, 11, 9, 3, 1, 1));      // odd sizes: 7x6 tiles, the last half out
  v.push_back(Conv(1, 64, 20, 20, 17, 3, 1, 1));    // 100 tiles: 96 + a rest of 4, one block
  v.push_back(Conv(1, 64, 8, 58, 11, 3, 1, 1));     // 116 tiles: blocks of 96 and 20, rows cut
  v.push_back(Conv(1, 300, 12, 14, 10, 3, 1, 1));   // 2 reduction blocks; 42 tiles: 32 + 10
  v.push_back(Conv(1, 16, 18, 17, 12, 3, 1, 0));    // no padding, 16x15 out
  v.push_back(Conv(2, 12, 16, 16, 20, 3, 1, 1));    // batch 2
  v.push_back(Conv(1, 8, 10, 10, 8, 3, 1, 3));      // padding 3: tiles wholly in the padding
  v.push_back(Conv(1, 10, 12, 40, 8, 3, 1, 1));     // 20 tiles a row: 16 + 4 lanes
  {
    ConvParams p = Conv(1, 9, 14, 15, 8, 3, 1, 0);
    p.pad_t = 2, p.pad_r = 2;  // one-sided padding
    v.push_back(p);
  }
  // 32+ 4x4 tiles: Winograd F(4x4, 3x3).
  v.push_back(Conv(1, 9, 23, 25, 10, 3, 1, 1));     // 6x7 tiles, the last 3 rows and 1 column
  v.push_back(Conv(1, 16, 30, 22, 13, 3, 1, 1));    // the last tiles half out both ways
  v.push_back(Conv(1, 300, 24, 24, 9, 3, 1, 1));    // 2 reduction blocks; 36 tiles: 16 + 20
  v.push_back(Conv(1, 64, 40, 72, 8, 3, 1, 1));     // 180 tiles: 80 + 80 + 20, rows cut
  v.push_back(Conv(1, 12, 34, 30, 8, 3, 1, 0));     // no padding, 32x28 out
  v.push_back(Conv(1, 8, 26, 26, 8, 3, 1, 3));      // padding 3: tiles wholly in the padding
  v.push_back(Conv(2, 10, 24, 24, 12, 3, 1, 1));    // batch 2
  {
    ConvParams p = Conv(1, 9, 30, 29, 8, 3, 1, 0);
    p.pad_t = 2, p.pad_r = 2;  // one-sided padding
    v.push_back(p);
  }
  {
    ConvParams p = Conv(1, 16, 100, 110, 7, 3, 3, 2);
    p.dil_h = p.dil_w = 2;  // stride 3, dilation 2: the generic strided copy
    v.push_back(p);
  }
  return v;
}

class X86F32Test : public ::testing::TestWithParam<uint32_t> {
 protected:
  void SetUp() override {
    if (!Supported(GetParam())) {
      char have[128];
      DescribeCpuFeatures(DetectCpuFeatures(), have, sizeof(have));
      GTEST_SKIP() << "CPU lacks " << IsaName(GetParam()) << " (has: " << have << ")";
    }
  }
};

TEST_P(X86F32Test, ConvMatchesReference) {
  for (ConvParams p : ConvCases()) {
    RunConv(p, GetParam());
    p.bias = !p.bias;
    RunConv(p, GetParam());
  }
}

TEST_P(X86F32Test, ConvActivations) {
  const Activation acts[] = {Activation::RELU, Activation::CLIP, Activation::HARD_SWISH};
  // 37 and 300 channels and the 7x7 kernel make blocked reductions: the activation must apply
  // once, after the last block; 7x7 has a one-column tail tile (49 columns), the 7x7 kernel is
  // written in bands of output rows, and the last two run as Winograd F(2x2, 3x3) and F(4x4,
  // 3x3), whose GEMMs have no activation and whose output transforms apply it (AVX-512).
  const ConvParams shapes[] = {Conv(1, 7, 5, 9, 13, 1, 1, 0),
                               Conv(1, 3, 11, 13, 7, 3, 2, 1),
                               Conv(1, 13, 9, 35, 13, 3, 1, 1, 13),
                               Conv(1, 13, 7, 7, 13, 3, 1, 1, 13),  // depthwise, flat plane
                               Conv(1, 37, 6, 7, 19, 3, 1, 1),
                               Conv(1, 37, 7, 7, 19, 3, 1, 1),
                               Conv(1, 7, 60, 12, 9, 7, 1, 3),
                               Conv(1, 3, 130, 100, 13, 3, 2, 1),  // split columns
                               Conv(1, 300, 12, 14, 10, 3, 1, 1),  // Winograd F(2x2)
                               Conv(1, 16, 30, 22, 13, 3, 1, 1)};  // F(4x4)
  for (ConvParams p : shapes)
    for (Activation a : acts) {
      p.act = a;
      p.act_min = -0.25f;
      p.act_max = 0.5f;
      RunConv(p, GetParam());
    }
}

TEST_P(X86F32Test, ConvWithRuntimeWeightsFallsBackToReference) {
  // Weights computed at run time cannot be packed in prepare: the reference eval runs inside
  // the optimized kernel (same registration, no packed memory).
  RunConv(Conv(1, 7, 5, 9, 13, 3, 1, 1), GetParam(), /*weights_constant=*/false);
  RunConv(Conv(1, 7, 5, 9, 7, 3, 1, 1, 7), GetParam(), /*weights_constant=*/false);
}

void RunFullyConnected(int n, int k, int o, bool bias, Activation act, uint32_t features) {
  const std::vector<float> x = RandomFloats(n * k, 4);
  const std::vector<float> w = RandomFloats(o * k, 5);
  const std::vector<float> b = RandomFloats(o, 6);
  opm::FullyConnectedOptionsT opt;
  opt.activation = act;
  opt.act_min = -0.25f;
  opt.act_max = 0.5f;
  std::vector<Operand> in = {Operand::F32({n, k}, x), Operand::F32({o, k}, w, true),
                             bias ? Operand::F32({o}, b, true) : Operand::Absent()};
  SingleOpModel model(opm::OpCode::FULLY_CONNECTED, Options(opt), in, {Operand::Out({n, o})});
  ASSERT_EQ(model.status(), Status::kOk) << model.error();
  char what[128];
  std::snprintf(what, sizeof(what), "%s fc n%d k%d o%d%s act%d", IsaName(features), n, k, o,
                bias ? " bias" : "", static_cast<int>(act));
  const std::string expect = std::string("fully_connected_f32_") + IsaName(features);
  CompareWithReference(model.file(), {in[0].bytes}, features, expect.c_str(), what);
}

TEST_P(X86F32Test, FullyConnectedMatchesReference) {
  RunFullyConnected(1, 31, 13, true, Activation::NONE, GetParam());
  RunFullyConnected(2, 7, 3, false, Activation::RELU, GetParam());
  RunFullyConnected(9, 130, 61, true, Activation::CLIP, GetParam());
  RunFullyConnected(1, 1280, 1000, true, Activation::NONE, GetParam());
  RunFullyConnected(3, 17, 50, true, Activation::HARD_SWISH, GetParam());  // 48 + 2 columns
  RunFullyConnected(2, 300, 52, true, Activation::RELU, GetParam());  // 48 + 4, blocked reduction
  // Batch 1 runs as a GEMV on the stored weights: rows not a multiple of the row block,
  // reductions shorter than, equal to and not a multiple of the vector width, and one large
  // enough to be split across tasks.
  RunFullyConnected(1, 5, 1, false, Activation::NONE, GetParam());
  RunFullyConnected(1, 16, 4, true, Activation::CLIP, GetParam());
  RunFullyConnected(1, 47, 6, true, Activation::HARD_SWISH, GetParam());
  RunFullyConnected(1, 3136, 130, true, Activation::RELU, GetParam());
}

TEST_P(X86F32Test, FullyConnectedBatchOnePacksNothing) {
  for (int n : {1, 2}) {
    const int k = 40, o = 9;
    const std::vector<float> x = RandomFloats(n * k, 1), w = RandomFloats(o * k, 2);
    std::vector<Operand> in = {Operand::F32({n, k}, x), Operand::F32({o, k}, w, true),
                               Operand::Absent()};
    SingleOpModel model(opm::OpCode::FULLY_CONNECTED, Options(opm::FullyConnectedOptionsT()),
                        in, {Operand::Out({n, o})});
    ASSERT_EQ(model.status(), Status::kOk);
    const RunResult opt = RunWith(model.file(), {in[0].bytes}, GetParam(), false);
    ASSERT_EQ(opt.status, Status::kOk);
    if (n == 1) {
      EXPECT_EQ(opt.req.packed_bytes, 0u);
      EXPECT_EQ(opt.req.scratch_bytes, 0u);
    } else {
      EXPECT_GT(opt.req.packed_bytes, 0u);
    }
  }
}

// Weights the model stores sparse (format 1.5) are read in place by the batch-1 kernel: no
// decoded copy in the arena, the same results as the reference on the decoded weights. Rows
// that are all zeros, a row count that is not a multiple of the row block, every density.
TEST_P(X86F32Test, FullyConnectedReadsSparseWeightsInPlace) {
  struct Case {
    int k, o;
    double sparsity;
    bool bias;
  };
  for (const Case c : {Case{64, 9, 0.7, true}, Case{320, 37, 0.9, false},
                       Case{8, 300, 0.5, true}, Case{1024, 130, 0.4, true}}) {
    std::vector<float> w = RandomFloats(static_cast<size_t>(c.o) * c.k, 2);
    const std::vector<float> pick = RandomFloats(w.size(), 3, 0.0f, 1.0f);
    for (size_t i = 0; i < w.size(); ++i)
      if (pick[i] < c.sparsity) w[i] = 0.0f;
    for (int i = 0; i < c.k; ++i) w[2 * c.k + i] = 0.0f;  // a row with no weight at all
    const std::vector<float> x = RandomFloats(c.k, 1);
    std::vector<Operand> in = {Operand::F32({1, c.k}, x), Operand::F32({c.o, c.k}, w, true),
                               c.bias ? Operand::F32({c.o}, RandomFloats(c.o, 4), true)
                                      : Operand::Absent()};
    opm::FullyConnectedOptionsT fc;
    fc.activation = opm::Activation::RELU;
    SingleOpModel model(opm::OpCode::FULLY_CONNECTED, Options(fc), in, {Operand::Out({1, c.o})});
    ASSERT_EQ(model.status(), Status::kOk);
    const std::string what = "sparse fc k" + std::to_string(c.k) + " o" + std::to_string(c.o) +
                             " sparsity " + std::to_string(c.sparsity);
    CompareWithReference(model.file(), {in[0].bytes}, GetParam(), "fully_connected_f32", what);
    const RunResult ref = RunWith(model.file(), {in[0].bytes}, 0, false);
    const RunResult opt = RunWith(model.file(), {in[0].bytes}, GetParam(), false);
    ASSERT_EQ(opt.status, Status::kOk);
    EXPECT_GT(ref.req.decoded_bytes, 0u) << what << ": the weights were not stored sparse";
    EXPECT_EQ(opt.req.decoded_bytes, 0u) << what;
  }
  // Rows that are not whole bitmap bytes (k % 8 != 0) are decoded for the dense kernel.
  const int k = 60, o = 7;
  std::vector<float> w = RandomFloats(o * k, 5);
  for (size_t i = 0; i < w.size(); i += 3) w[i] = w[i + 1] = 0.0f;
  std::vector<Operand> in = {Operand::F32({1, k}, RandomFloats(k, 6)),
                             Operand::F32({o, k}, w, true), Operand::Absent()};
  SingleOpModel model(opm::OpCode::FULLY_CONNECTED, Options(opm::FullyConnectedOptionsT()), in,
                      {Operand::Out({1, o})});
  ASSERT_EQ(model.status(), Status::kOk);
  CompareWithReference(model.file(), {in[0].bytes}, GetParam(), "fully_connected_f32", "k60");
  const RunResult opt = RunWith(model.file(), {in[0].bytes}, GetParam(), false);
  EXPECT_EQ(opt.req.decoded_bytes, (o * k * 4 + 63) / 64 * 64);
}

TEST_P(X86F32Test, MeasureCountsPackedWeights) {
  // Pointwise conv, 13 output channels x 7 inputs: A panels padded to the micro-kernel rows.
  ConvParams p = Conv(1, 7, 5, 9, 13, 1, 1, 0);
  const std::vector<float> x = RandomFloats(7 * 45, 1), w = RandomFloats(13 * 7, 2);
  std::vector<Operand> in = {Operand::F32({1, 7, 5, 9}, x), Operand::F32({13, 7, 1, 1}, w, true),
                             Operand::Absent()};
  SingleOpModel model(opm::OpCode::CONV_2D, Options(FillOptions<opm::Conv2DOptionsT>(p)), in,
                      {Operand::Out({1, 13, 5, 9})});
  ASSERT_EQ(model.status(), Status::kOk);
  const RunResult ref = RunWith(model.file(), {in[0].bytes}, 0, false);
  const RunResult opt = RunWith(model.file(), {in[0].bytes}, GetParam(), false);
  ASSERT_EQ(opt.status, Status::kOk);
  const size_t mr = GetParam() == kAvx512 ? 8 : 6;
  const size_t want = ((13 + mr - 1) / mr * mr * 7 * sizeof(float) + 63) / 64 * 64;
  EXPECT_EQ(ref.req.packed_bytes, 0u);
  EXPECT_EQ(opt.req.packed_bytes, want);
  EXPECT_EQ(opt.req.total_bytes - ref.req.total_bytes,
            want + (opt.req.state_bytes - ref.req.state_bytes));
}

struct PoolCase {
  int n, c, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  bool ceil;
};

int PoolOut(int in, int k, int s, int d, int p0, int p1, bool ceil) {
  const int span = in + p0 + p1 - (d * (k - 1) + 1);
  return (ceil ? (span + s - 1) / s : span / s) + 1;
}

// Max pooling moves values, so the optimized kernel must match exactly: the same value, NaN
// where the reference has NaN (a window with a NaN), -0 and +0 counting as equal.
void RunMaxPool(const PoolCase& p, uint32_t features, bool with_nan) {
  std::vector<float> x = RandomFloats(p.n * p.c * p.h * p.w, 7);
  if (with_nan)
    for (size_t i = 5; i < x.size(); i += 37) x[i] = NAN;
  opm::Pool2DOptionsT o;
  o.kernel_h = p.kh, o.kernel_w = p.kw, o.stride_h = p.sh, o.stride_w = p.sw;
  o.dilation_h = p.dh, o.dilation_w = p.dw;
  o.pad_top = p.pt, o.pad_left = p.pl, o.pad_bottom = p.pb, o.pad_right = p.pr;
  const int oh = PoolOut(p.h, p.kh, p.sh, p.dh, p.pt, p.pb, p.ceil);
  const int ow = PoolOut(p.w, p.kw, p.sw, p.dw, p.pl, p.pr, p.ceil);
  std::vector<Operand> in = {Operand::F32({p.n, p.c, p.h, p.w}, x)};
  SingleOpModel model(opm::OpCode::MAX_POOL_2D, Options(o), in,
                      {Operand::Out({p.n, p.c, oh, ow})});
  ASSERT_EQ(model.status(), Status::kOk) << model.error();
  char what[200];
  std::snprintf(what, sizeof(what), "%s max pool n%d c%d %dx%d k%dx%d s%d,%d d%d,%d p%d,%d,%d,%d%s%s",
                IsaName(features), p.n, p.c, p.h, p.w, p.kh, p.kw, p.sh, p.sw, p.dh, p.dw, p.pt,
                p.pl, p.pb, p.pr, p.ceil ? " ceil" : "", with_nan ? " nan" : "");
  ThreeRuns runs;
  ASSERT_NO_FATAL_FAILURE(RunThreeWays(model.file(), {in[0].bytes}, features, what, &runs));
  const RunResult &ref = runs.ref, &opt = runs.opt, &split = runs.split;
  ASSERT_EQ(opt.out.size(), ref.out.size()) << what;
  int mismatches = 0;
  for (size_t i = 0; i < ref.out.size(); ++i) {
    const bool same = std::isnan(ref.out[i]) ? std::isnan(opt.out[i]) : opt.out[i] == ref.out[i];
    if (!same && ++mismatches <= 3)
      ADD_FAILURE() << what << ": [" << i << "] " << opt.out[i] << " vs " << ref.out[i];
  }
  EXPECT_EQ(std::memcmp(split.out.data(), opt.out.data(), opt.out.size() * sizeof(float)), 0)
      << what << ": results depend on the thread split";
  EXPECT_EQ(opt.kernel, features == kAvx512 ? "max_pool2d_f32_avx512" : "max_pool2d_f32_avx2")
      << what;
  std::printf("  %-58s %-26s %d mismatches\n", what, opt.kernel.c_str(), mismatches);
}

TEST_P(X86F32Test, MaxPoolMatchesReference) {
  const PoolCase cases[] = {
      {1, 64, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false},  // ResNet stem pool
      {2, 5, 17, 37, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false},     // stride 1, batch 2
      {1, 3, 9, 70, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, false},      // 2x2/2: 35 columns
      {1, 3, 10, 71, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, true},      // ceil mode: window overhangs
      {1, 2, 13, 150, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false},    // 75 columns: 4 blocks + 1
      {1, 3, 11, 200, 2, 3, 1, 1, 1, 1, 0, 1, 0, 0, false},    // 198 columns, 4 blocks + 1
      {1, 4, 12, 40, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, true},      // stride 3 (gather), ceil
      {1, 3, 15, 33, 3, 3, 1, 2, 2, 2, 2, 2, 2, 2, false},     // dilation 2, strides 1,2
      {1, 3, 9, 19, 5, 4, 2, 1, 1, 3, 2, 0, 1, 3, false},      // asymmetric pads, dilation 3
      {1, 2, 5, 5, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, false},       // window larger than the input
      {1, 1, 3, 4, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, false},       // 1x1: a copy
      // 3x3/2 runs separably (rows, then columns): odd and even widths, no or one-sided
      // padding, ceil mode, widths below a vector and above several.
      {2, 3, 7, 5, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, false},       // 5 columns: one masked vector
      {1, 2, 9, 33, 3, 3, 2, 2, 1, 1, 0, 1, 1, 0, true},       // one-sided pads, ceil
      {1, 3, 12, 97, 3, 3, 2, 2, 1, 1, 2, 2, 2, 2, false},     // padding 2: empty edge taps
      {1, 2, 6, 300, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true},      // 150 columns, ceil
  };
  for (const PoolCase& p : cases) {
    RunMaxPool(p, GetParam(), false);
    RunMaxPool(p, GetParam(), true);
  }
}

struct AddCase {
  std::vector<int32_t> a, b, y;
  bool b_constant;
};

// ADD is one rounding per element, so the optimized kernel must match the reference exactly
// (NaN where the reference has NaN). Shapes that broadcast must run the reference eval.
void RunAdd(const AddCase& c, Activation act, uint32_t features) {
  auto count = [](const std::vector<int32_t>& d) {
    size_t n = 1;
    for (int32_t v : d) n *= static_cast<size_t>(v);
    return n;
  };
  std::vector<float> a = RandomFloats(count(c.a), 11, -4.0f, 4.0f);
  std::vector<float> b = RandomFloats(count(c.b), 12, -4.0f, 4.0f);
  for (size_t i = 3; i < a.size(); i += 41) a[i] = NAN;
  for (size_t i = 7; i < b.size(); i += 53) b[i] = i % 2 ? INFINITY : -INFINITY;
  opm::BinaryOptionsT o;
  o.activation = act;
  o.act_min = -0.5f;
  o.act_max = 0.25f;
  std::vector<Operand> in = {Operand::F32(c.a, a), Operand::F32(c.b, b, c.b_constant)};
  SingleOpModel model(opm::OpCode::ADD, Options(o), in, {Operand::Out(c.y)});
  ASSERT_EQ(model.status(), Status::kOk) << model.error();
  std::vector<std::vector<uint8_t>> feeds = {in[0].bytes};
  if (!c.b_constant) feeds.push_back(in[1].bytes);
  std::string what = std::string(IsaName(features)) + " add a[";
  for (int32_t v : c.a) what += std::to_string(v) + ",";
  what += "] b[";
  for (int32_t v : c.b) what += std::to_string(v) + ",";
  what += "] act " + std::to_string(static_cast<int>(act));
  ThreeRuns runs;
  ASSERT_NO_FATAL_FAILURE(RunThreeWays(model.file(), feeds, features, what, &runs));
  const RunResult &ref = runs.ref, &opt = runs.opt, &split = runs.split;
  EXPECT_EQ(opt.kernel, "add_f32_avx512") << what;
  ASSERT_EQ(opt.out.size(), ref.out.size()) << what;
  int mismatches = 0;
  for (size_t i = 0; i < ref.out.size(); ++i) {
    const bool same = std::isnan(ref.out[i])
                          ? std::isnan(opt.out[i])
                          : std::memcmp(&opt.out[i], &ref.out[i], sizeof(float)) == 0;
    if (!same && ++mismatches <= 3)
      ADD_FAILURE() << what << ": [" << i << "] " << opt.out[i] << " vs " << ref.out[i];
  }
  EXPECT_EQ(std::memcmp(split.out.data(), opt.out.data(), opt.out.size() * sizeof(float)), 0)
      << what << ": results depend on the thread split";
  std::printf("  %-58s %-26s %d mismatches\n", what.c_str(), opt.kernel.c_str(), mismatches);
}

TEST_P(X86F32Test, AddMatchesReference) {
  if (GetParam() != kAvx512) GTEST_SKIP() << "ADD is optimized for AVX-512 only";
  const AddCase cases[] = {
      {{1, 1}, {1, 1}, {1, 1}, false},                          // one element: masked only
      {{1, 3, 5, 7}, {1, 3, 5, 7}, {1, 3, 5, 7}, false},        // 105: 64-step + masked tail
      {{2, 13, 11, 17}, {2, 13, 11, 17}, {2, 13, 11, 17}, true},  // 4862: several tasks
      {{1, 24, 56, 56}, {1, 24, 56, 56}, {1, 24, 56, 56}, false},  // MobileNetV2 residual
      {{1, 1, 1, 1024}, {1, 1, 1, 1024}, {1, 1, 1, 1024}, false},  // exactly one task
      {{1, 1, 1, 1041}, {1, 1, 1, 1041}, {1, 1, 1, 1041}, false},  // one task + 17
      {{2, 13, 11, 17}, {13, 1, 1}, {2, 13, 11, 17}, true},     // per-channel broadcast
      {{1, 5}, {3, 1}, {3, 5}, false},                          // both operands broadcast
      {{67}, {1}, {67}, false},                                 // scalar operand
  };
  const Activation acts[] = {Activation::NONE, Activation::RELU, Activation::CLIP,
                             Activation::HARD_SWISH};
  for (const AddCase& c : cases)
    for (Activation act : acts) RunAdd(c, act, GetParam());
}

// GLOBAL_AVERAGE_POOL sums each plane in double as the reference does, in another order: the
// float means may differ in the last place in a tie, no more. NaN and infinities propagate.
void RunGlobalAveragePool(const std::vector<int32_t>& shape, bool specials, uint32_t features) {
  size_t count = 1;
  for (int32_t v : shape) count *= static_cast<size_t>(v);
  std::vector<float> x = RandomFloats(count, 13, -8.0f, 8.0f);
  if (specials) {
    x[count / 3] = NAN;
    x[count / 2] = INFINITY;
    x[count - 1] = -INFINITY;  // a plane with +inf and -inf means NaN, else the infinity
  }
  std::vector<int32_t> out(shape.size(), 1);
  out[0] = shape[0], out[1] = shape[1];
  std::vector<Operand> in = {Operand::F32(shape, x)};
  SingleOpModel model(opm::OpCode::GLOBAL_AVERAGE_POOL, {}, in, {Operand::Out(out)});
  ASSERT_EQ(model.status(), Status::kOk) << model.error();
  std::string what = std::string(IsaName(features)) + " global average pool [";
  for (int32_t v : shape) what += std::to_string(v) + ",";
  what += specials ? "] nan/inf" : "]";
  ThreeRuns runs;
  ASSERT_NO_FATAL_FAILURE(RunThreeWays(model.file(), {in[0].bytes}, features, what, &runs));
  const RunResult &ref = runs.ref, &opt = runs.opt, &split = runs.split;
  EXPECT_EQ(opt.kernel, "global_average_pool_f32_avx512") << what;
  ASSERT_EQ(opt.out.size(), ref.out.size()) << what;
  int inexact = 0, bad = 0;
  for (size_t i = 0; i < ref.out.size(); ++i) {
    if (std::isnan(ref.out[i]) || std::isinf(ref.out[i])) {
      const bool same = std::isnan(ref.out[i]) ? std::isnan(opt.out[i]) : opt.out[i] == ref.out[i];
      if (!same && ++bad <= 3)
        ADD_FAILURE() << what << ": [" << i << "] " << opt.out[i] << " vs " << ref.out[i];
      continue;
    }
    if (opt.out[i] == ref.out[i]) continue;
    ++inexact;
    const bool one_ulp = opt.out[i] == std::nextafter(ref.out[i], INFINITY) ||
                         opt.out[i] == std::nextafter(ref.out[i], -INFINITY);
    if (!one_ulp && ++bad <= 3)
      ADD_FAILURE() << what << ": [" << i << "] " << opt.out[i] << " vs " << ref.out[i];
  }
  EXPECT_EQ(std::memcmp(split.out.data(), opt.out.data(), opt.out.size() * sizeof(float)), 0)
      << what << ": results depend on the thread split";
  std::printf("  %-58s %-30s %d of %zu off by one ulp\n", what.c_str(), opt.kernel.c_str(), inexact,
              ref.out.size());
}

TEST_P(X86F32Test, GlobalAveragePoolMatchesReference) {
  if (GetParam() != kAvx512) GTEST_SKIP() << "GLOBAL_AVERAGE_POOL is optimized for AVX-512 only";
  const std::vector<int32_t> shapes[] = {
      {1, 1280, 7, 7},    // MobileNetV2: 3 vectors and a masked lane per plane
      {1, 512, 7, 7},     // ResNet18
      {2, 5, 3, 5},       // 15: one masked vector, batch 2
      {1, 3, 4, 4},       // exactly one vector
      {1, 2, 1, 1},       // one value: the mean is the value
      {1, 3, 33, 17},     // 561: a long plane, several tasks' worth of floats in all
      {2, 4, 37},         // rank 3
      {1, 2, 3, 4, 5},    // rank 5
      {1, 64, 56, 56},    // planes of 3136: one plane a task
  };
  for (const auto& shape : shapes) {
    RunGlobalAveragePool(shape, false, GetParam());
    RunGlobalAveragePool(shape, true, GetParam());
  }
}

// Which convolutions take the gathered (implicit im2col) path, and the scratch each plans:
// the ResNet18 shapes, and the cases the test shapes above rely on.
TEST(X86F32Kernels, ConvPlanChoosesGatherOnLargeMaps) {
  using kernels::f32::ConvPath;
  auto plan = [](int64_t c, int64_t hw, int64_t m, int64_t k, int64_t stride, bool gather) {
    kernels::f32::ConvShape s{};
    s.n = 1, s.c = c, s.h = s.w = hw, s.m = m, s.kh = s.kw = k;
    s.oh = s.ow = (hw + 2 * (k / 2) - k) / stride + 1;
    s.stride_h = s.stride_w = stride, s.dil_h = s.dil_w = 1;
    s.pad_t = s.pad_l = s.pad_b = s.pad_r = k / 2, s.groups = 1, s.weights_constant = true;
    return kernels::f32::PlanConv(s, 8, 48, true, gather, false);
  };
  const kernels::f32::ConvPlan l1 = plan(64, 56, 64, 3, 1, true);
  EXPECT_EQ(l1.path, ConvPath::kGatherTiles);
  EXPECT_EQ(l1.scratch_bytes, 16u * 256 * 48 * sizeof(float));  // 16 tasks' B blocks
  EXPECT_EQ(plan(64, 56, 128, 3, 2, true).path, ConvPath::kGatherTiles);  // layer2 stride 2
  EXPECT_EQ(plan(64, 56, 64, 3, 1, false).path, ConvPath::kIm2col);       // no GatherTile
  // Panel-major, several reduction blocks: the whole im2col, rows of 49 padded to 64, with
  // GatherTile or without.
  for (bool gather : {true, false}) {
    const kernels::f32::ConvPlan l4 = plan(512, 7, 512, 3, 1, gather);
    EXPECT_EQ(l4.path, ConvPath::kIm2col);
    EXPECT_EQ(l4.scratch_bytes, 4608u * 64 * sizeof(float));
  }
  EXPECT_EQ(plan(256, 14, 512, 1, 2, true).path, ConvPath::kIm2col);  // one block: whole
  // The 7x7/2 stem (3 channels): bands of 3 output rows (147 x 336 floats, under 256 KiB),
  // 8 tasks' buffers instead of a 7.4 MB im2col.
  const kernels::f32::ConvPlan stem = plan(3, 224, 64, 7, 2, true);
  EXPECT_EQ(stem.path, ConvPath::kIm2colBands);
  EXPECT_EQ(kernels::f32::Im2colBandRows(147, 112, 112), 3);
  EXPECT_EQ(stem.scratch_bytes, 8u * 147 * 336 * sizeof(float));
  EXPECT_EQ(plan(3, 224, 64, 7, 2, false).path, ConvPath::kIm2col);
}

// Which convolutions split their input's columns (AVX-512's kPhaseRows), and the scratch the
// split takes: the two stems, against their neighbours that do not qualify.
TEST(X86F32Kernels, ConvPlanSplitsColumnsOfStridedStems) {
  using kernels::f32::ConvPath;
  auto shape = [](int64_t c, int64_t hw, int64_t m, int64_t k, int64_t stride) {
    kernels::f32::ConvShape s{};
    s.n = 1, s.c = c, s.h = s.w = hw, s.m = m, s.kh = s.kw = k;
    s.oh = s.ow = (hw + 2 * (k / 2) - k) / stride + 1;
    s.stride_h = s.stride_w = stride, s.dil_h = s.dil_w = 1;
    s.pad_t = s.pad_l = s.pad_b = s.pad_r = k / 2, s.groups = 1, s.weights_constant = true;
    return s;
  };
  auto plan = [](const kernels::f32::ConvShape& s) {
    return kernels::f32::PlanConv(s, 8, 48, true, true, true, true);
  };
  // ResNet18: 230 padded rows of 115 columns each way, rows of 128 floats.
  const kernels::f32::ConvPlan r18 = plan(shape(3, 224, 64, 7, 2));
  EXPECT_EQ(r18.path, ConvPath::kPhaseRows);
  EXPECT_EQ(r18.scratch_bytes, 3u * 230 * 2 * 128 * sizeof(float));
  EXPECT_EQ(r18.packed_bytes, 64u * 147 * sizeof(float));
  // MobileNetV2: 226 rows; 113 columns read (112 out + 1), rounded up to 128.
  const kernels::f32::ConvPlan mb = plan(shape(3, 224, 32, 3, 2));
  EXPECT_EQ(mb.path, ConvPath::kPhaseRows);
  EXPECT_EQ(mb.scratch_bytes, 3u * 226 * 2 * 128 * sizeof(float));
  EXPECT_EQ(kernels::f32::PlanPhaseRows(shape(3, 224, 32, 3, 2)).rows, 226);
  EXPECT_EQ(plan(shape(8, 224, 32, 3, 2)).path, ConvPath::kGatherTiles);  // 8 channels
  EXPECT_NE(plan(shape(3, 224, 32, 3, 1)).path, ConvPath::kPhaseRows);    // stride 1
  EXPECT_EQ(plan(shape(3, 40, 32, 3, 2)).path, ConvPath::kIm2col);        // small: in L2
  EXPECT_NE(plan(shape(7, 224, 32, 7, 2)).path, ConvPath::kPhaseRows);    // 343 > kKc
  kernels::f32::ConvShape dilated = shape(3, 224, 32, 3, 2);
  dilated.dil_h = dilated.dil_w = 2, dilated.oh = dilated.ow = 111;
  EXPECT_NE(plan(dilated).path, ConvPath::kPhaseRows);
  EXPECT_NE(kernels::f32::PlanConv(shape(3, 224, 64, 7, 2), 8, 48, true, true, true, false).path,
            ConvPath::kPhaseRows);  // an instruction set without it
}

// Which convolutions run as Winograd on AVX-512, F(4x4, 3x3) or F(2x2, 3x3), and how an image
// is split.
TEST(X86F32Kernels, ConvPlanChoosesWinograd) {
  using kernels::f32::ConvPath;
  auto shape = [](int64_t c, int64_t hw, int64_t m, int64_t stride) {
    kernels::f32::ConvShape s{};
    s.n = 1, s.c = c, s.h = s.w = hw, s.m = m, s.kh = s.kw = 3;
    s.oh = s.ow = (hw - 1) / stride + 1;
    s.stride_h = s.stride_w = stride, s.dil_h = s.dil_w = 1;
    s.pad_t = s.pad_l = s.pad_b = s.pad_r = 1, s.groups = 1, s.weights_constant = true;
    return s;
  };
  auto plan = [](const kernels::f32::ConvShape& s) {
    return kernels::f32::PlanConv(s, 8, 48, true, true, true);
  };
  // ResNet18: the 3x3 stride-1 layers on 56x56 and 28x28 maps as F(4x4) (196 and 49 4x4
  // tiles), on 14x14 as F(2x2) (16 4x4 tiles, 49 2x2 ones); not the 7x7 ones (16 2x2 tiles),
  // stride 2, or without the instruction set's transforms.
  EXPECT_EQ(plan(shape(64, 56, 64, 1)).path, ConvPath::kWinograd);
  EXPECT_EQ(plan(shape(64, 56, 64, 1)).winograd_tile, 4);
  EXPECT_EQ(plan(shape(128, 28, 128, 1)).winograd_tile, 4);
  EXPECT_EQ(plan(shape(256, 14, 256, 1)).path, ConvPath::kWinograd);
  EXPECT_EQ(plan(shape(256, 14, 256, 1)).winograd_tile, 2);
  EXPECT_EQ(plan(shape(512, 7, 512, 1)).path, ConvPath::kIm2col);
  EXPECT_EQ(plan(shape(64, 56, 128, 2)).path, ConvPath::kGatherTiles);
  EXPECT_EQ(kernels::f32::PlanConv(shape(64, 56, 64, 1), 8, 48, true, true, false).path,
            ConvPath::kGatherTiles);
  kernels::f32::ConvShape s = shape(7, 56, 64, 1);  // too few input channels
  EXPECT_NE(plan(s).path, ConvPath::kWinograd);
  s = shape(64, 56, 64, 1);
  s.dil_h = s.dil_w = 2, s.pad_t = s.pad_l = s.pad_b = s.pad_r = 2;
  EXPECT_NE(plan(s).path, ConvPath::kWinograd);
  s = shape(64, 56, 64, 1);
  s.groups = 2;
  EXPECT_NE(plan(s).path, ConvPath::kWinograd);
  // 36 (16) transformed 3x3 kernels per channel pair, packed like GEMM A panels.
  EXPECT_EQ(plan(shape(64, 56, 60, 1)).packed_bytes, 36u * 64 * 64 * sizeof(float));
  EXPECT_EQ(plan(shape(64, 14, 60, 1)).packed_bytes, 16u * 64 * 64 * sizeof(float));
  // 56x56, 64 channels, F(4x4): 196 tiles; V within 768 KiB allows 80 a block: 80 + 80 + 36.
  kernels::f32::WinogradGeometry g = kernels::f32::PlanWinograd(64, 56, 56, 8, 4);
  EXPECT_EQ(g.xis, 36);
  EXPECT_EQ(g.tiles, 196);
  EXPECT_EQ(g.block, 80);
  EXPECT_EQ(g.blocks, 3);
  EXPECT_EQ(g.ld, 80);
  EXPECT_EQ(plan(shape(64, 56, 64, 1)).scratch_bytes,
            static_cast<size_t>(g.buffers * g.buffer_floats) * sizeof(float));
  EXPECT_LE(g.buffers * g.buffer_floats * sizeof(float), 4u << 20);
  // F(2x2), 56x56: 784 tiles in 8 blocks of 96 and one of 16; 8 task buffers.
  g = kernels::f32::PlanWinograd(64, 56, 56, 8, 2);
  EXPECT_EQ(g.tiles, 784);
  EXPECT_EQ(g.block, 96);
  EXPECT_EQ(g.blocks, 9);
  EXPECT_EQ(g.buffers, 8);
  // 14x14, 256 channels: blocks of 48 at most, but a rest of 1 tile joins them: one block of
  // 49.
  g = kernels::f32::PlanWinograd(256, 14, 14, 8, 2);
  EXPECT_EQ(g.tiles, 49);
  EXPECT_EQ(g.blocks, 1);
  EXPECT_EQ(g.ld, 49);
  // V planes are not a multiple of 4 KiB apart (they would share L1 sets).
  EXPECT_NE(g.v_xi * sizeof(float) % 4096, 0u);
  EXPECT_NE(kernels::f32::PlanWinograd(64, 56, 56, 8, 2).v_xi * sizeof(float) % 4096, 0u);
  EXPECT_NE(kernels::f32::PlanWinograd(64, 56, 56, 8, 4).v_xi * sizeof(float) % 4096, 0u);
}

TEST(X86F32Kernels, RegistrationsAndResolver) {
  size_t n = 0;
  const KernelRegistration* const* all = kernels::X86Kernels(&n);
  ASSERT_EQ(n, 8u);
  for (size_t i = 0; i < n; ++i) {
    const KernelRegistration& k = *all[i];
    SCOPED_TRACE(k.name);
    EXPECT_EQ(k.family, KernelFamily::kX86);
    EXPECT_EQ(k.dtype, DType::FLOAT32);
    EXPECT_NE(k.required_cpu_features & kCpuX86Avx2Fma, 0u);
    if (k.op == OpCode::CONV_2D || k.op == OpCode::FULLY_CONNECTED) {
      EXPECT_NE(k.packed_bytes, nullptr);
      EXPECT_NE(k.scratch_bytes, nullptr);
    }
  }
  // The resolver picks the widest variant the features allow, and the reference without any.
  AllOpsResolver resolver;
  ASSERT_EQ(RegisterAllKernels(resolver), Status::kOk);
  resolver.set_cpu_features(0);
  EXPECT_STREQ(resolver.Find(OpCode::CONV_2D, DType::FLOAT32)->name, "conv2d_f32_ref");
  resolver.set_cpu_features(kAvx2);
  EXPECT_STREQ(resolver.Find(OpCode::CONV_2D, DType::FLOAT32)->name, "conv2d_f32_avx2");
  resolver.set_cpu_features(kAvx512);
  EXPECT_STREQ(resolver.Find(OpCode::CONV_2D, DType::FLOAT32)->name, "conv2d_f32_avx512");
  EXPECT_STREQ(resolver.Find(OpCode::FULLY_CONNECTED, DType::FLOAT32)->name,
               "fully_connected_f32_avx512");
  EXPECT_STREQ(resolver.Find(OpCode::MAX_POOL_2D, DType::FLOAT32)->name,
               "max_pool2d_f32_avx512");
  EXPECT_STREQ(resolver.Find(OpCode::ADD, DType::FLOAT32)->name, "add_f32_avx512");
  EXPECT_STREQ(resolver.Find(OpCode::GLOBAL_AVERAGE_POOL, DType::FLOAT32)->name,
               "global_average_pool_f32_avx512");
  resolver.set_cpu_features(kAvx2);
  EXPECT_STREQ(resolver.Find(OpCode::MAX_POOL_2D, DType::FLOAT32)->name, "max_pool2d_f32_avx2");
  EXPECT_STREQ(resolver.Find(OpCode::ADD, DType::FLOAT32)->name, "add_f32_ref");
  EXPECT_STREQ(resolver.Find(OpCode::GLOBAL_AVERAGE_POOL, DType::FLOAT32)->name,
               "global_average_pool_f32_ref");
}

INSTANTIATE_TEST_SUITE_P(Isa, X86F32Test, ::testing::Values(kAvx2, kAvx512),
                         [](const ::testing::TestParamInfo<uint32_t>& info) {
                           return std::string(IsaName(info.param));
                         });

}  // namespace
}  // namespace outpost::testing
