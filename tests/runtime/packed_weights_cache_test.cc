// Packed weights cached in the model (format 1.4, Operator.packed; compiler/emit/prepack.h)
// against packing at prepare: for every kernel family that packs (float32 CONV_2D and
// FULLY_CONNECTED, int8 CONV_2D and FULLY_CONNECTED) and every instruction set this CPU runs,
// on awkward shapes, the output bytes must be identical, the cached copy must be used in place
// (read-only model memory, no packed arena bytes), and a model whose cached layout is another
// kernel's must run as before. A cached buffer of the wrong size is refused at Init; a bad
// index or layout at load.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>
#include <string>
#include <vector>

#include "compiler/emit/opm_file.h"
#include "compiler/emit/prepack.h"
#include "runtime/cpu_features.h"
#include "tests/runtime/linear_op_models.h"
#include "tests/runtime/optimized_kernel_test_util.h"

namespace outpost::testing {
namespace {

using opm::Activation;

// The model bytes in their own read-only pages, as a mapped file is: a kernel that wrote to
// its cached packed weights would crash the test.
class ReadOnlyCopy {
 public:
  explicit ReadOnlyCopy(const std::vector<uint8_t>& bytes) : size_(bytes.size()) {
    map_ = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(map_, MAP_FAILED);
    std::memcpy(map_, bytes.data(), size_);
    EXPECT_EQ(mprotect(map_, size_, PROT_READ), 0);
  }
  ~ReadOnlyCopy() { munmap(map_, size_); }
  const void* data() const { return map_; }
  size_t size() const { return size_; }

 private:
  void* map_;
  size_t size_;
};

struct CachedRun {
  Status status = Status::kOk;
  std::string error;
  bool in_model = false;  // operator 0 ran with the model's cached packed weights
  ArenaRequirement req;
  std::vector<uint8_t> bytes;
};

CachedRun RunReadOnly(const std::vector<uint8_t>& file,
                      const std::vector<std::vector<uint8_t>>& inputs, uint32_t features,
                      const Executor* executor = nullptr) {
  CachedRun r;
  ReadOnlyCopy ro(file);
  ErrorReporter errors;
  Model model;
  r.status = model.Load(ro.data(), ro.size(), &errors);
  AllOpsResolver resolver;
  if (r.status == Status::kOk) r.status = RegisterAllKernels(resolver);
  resolver.set_cpu_features(features);
  if (r.status == Status::kOk) r.status = Interpreter::Measure(model, resolver, &r.req, &errors);
  std::vector<uint8_t> arena(r.req.total_bytes + 64, 0xA5);
  Interpreter interp;
  interp.set_executor(executor);
  if (r.status == Status::kOk)
    r.status = interp.Init(model, resolver, arena.data(), arena.size(), &errors);
  if (r.status == Status::kOk) {
    r.in_model = interp.packed_in_model(0);
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

// The instruction sets this CPU runs kernels of: all it has, and AVX2 alone on x86.
std::vector<emit::PrepackTarget> Targets() {
  std::vector<emit::PrepackTarget> v = {{"auto", DetectCpuFeatures()}};
  if ((DetectCpuFeatures() & kCpuX86Avx512) && (DetectCpuFeatures() & kCpuX86Avx2Fma))
    v.push_back({"avx2", kCpuX86Avx2Fma});
  return v;
}

// Packs `m` for each target and checks the cached run against packing at prepare. Returns how
// many targets cached the operator (0 when no kernel packs for it).
int CheckCached(const BuiltModel& m, const std::string& what) {
  EXPECT_EQ(m.status, Status::kOk) << what << ": " << m.error;
  int cached = 0;
  for (const emit::PrepackTarget& t : Targets()) {
    SCOPED_TRACE(what + " on " + t.name);
    const FeatureRun plain = RunWithFeatures(m.file, m.feeds, t.cpu_features);
    EXPECT_EQ(plain.status, Status::kOk) << plain.error;
    const emit::PrepackResult pp = emit::PrepackOpm(m.file, t);
    if (pp.operators == 0) {
      EXPECT_EQ(pp.bytes, m.file);
      continue;
    }
    ++cached;
    const CachedRun run = RunReadOnly(pp.bytes, m.feeds, t.cpu_features);
    EXPECT_EQ(run.status, Status::kOk) << run.error;
    EXPECT_TRUE(run.in_model);
    EXPECT_EQ(run.req.packed_bytes, 0u) << "cached weights must not take arena memory";
    EXPECT_EQ(run.bytes, plain.bytes) << "cached packing changed the result";
    // Any split of the work, on the cached weights too.
    const Executor split = SplittingExecutor(ThreeUnevenChunks, 3);
    const CachedRun run3 = RunReadOnly(pp.bytes, m.feeds, t.cpu_features, &split);
    EXPECT_EQ(run3.status, Status::kOk) << run3.error;
    EXPECT_EQ(run3.bytes, plain.bytes);
    // The reference kernels (another CPU's kernels) ignore the cache and compute as before.
    const FeatureRun ref_plain = RunWithFeatures(m.file, m.feeds, 0);
    const CachedRun ref = RunReadOnly(pp.bytes, m.feeds, 0);
    EXPECT_EQ(ref.status, Status::kOk) << ref.error;
    EXPECT_FALSE(ref.in_model);
    EXPECT_EQ(ref.bytes, ref_plain.bytes);
  }
  return cached;
}

ConvParams Conv(int n, int c, int h, int w, int m, int kh, int kw) {
  ConvParams p;
  p.n = n, p.c = c, p.h = h, p.w = w, p.m = m, p.kh = kh, p.kw = kw;
  return p;
}

bool HaveOptimizedKernels() {
  return (DetectCpuFeatures() & (kCpuX86Avx2Fma | kCpuArmNeon)) != 0;
}

TEST(PackedWeightsCache, Float32Conv) {
  if (!HaveOptimizedKernels()) GTEST_SKIP() << "no optimized kernels on this CPU";
  int cached = 0;
  ConvParams p = Conv(1, 37, 7, 9, 23, 1, 1);  // pointwise, prime channels
  cached += CheckCached(F32ConvModel(p), "pointwise");
  p = Conv(2, 5, 11, 13, 7, 3, 3);  // im2col, batch 2, k = 45
  p.stride_h = 2, p.pad_t = 1, p.pad_l = 2, p.pad_b = 0, p.pad_r = 1, p.act = Activation::RELU;
  cached += CheckCached(F32ConvModel(p), "im2col");
  p = Conv(1, 16, 40, 44, 13, 3, 3);  // large map: tile gather where the ISA has it
  p.pad_t = p.pad_l = p.pad_b = p.pad_r = 1;
  cached += CheckCached(F32ConvModel(p), "large map");
  p = Conv(1, 12, 9, 9, 18, 3, 3);  // groups
  p.groups = 3, p.bias = false;
  cached += CheckCached(F32ConvModel(p), "grouped");
  p = Conv(1, 1, 28, 28, 32, 3, 3);  // one input channel (fashion_cnn's first layer)
  p.pad_t = p.pad_l = p.pad_b = p.pad_r = 1;
  cached += CheckCached(F32ConvModel(p), "stem");
  p = Conv(1, 300, 5, 5, 9, 1, 1);  // k above one reduction block (kKc = 256)
  cached += CheckCached(F32ConvModel(p), "two reduction blocks");
  EXPECT_GE(cached, 6);
  // Depthwise uses its weights in place where the ISA has a depthwise kernel: nothing packed.
  p = Conv(1, 8, 9, 9, 8, 3, 3);
  p.groups = 8;
  CheckCached(F32ConvModel(p), "depthwise");
}

TEST(PackedWeightsCache, Float32FullyConnected) {
  if (!HaveOptimizedKernels()) GTEST_SKIP() << "no optimized kernels on this CPU";
  EXPECT_GE(CheckCached(F32FullyConnectedModel(3, 37, 53, true, Activation::RELU), "batch 3"), 1);
  EXPECT_GE(CheckCached(F32FullyConnectedModel(2, 300, 17, false, Activation::NONE), "k 300"), 1);
  // Batch 1 is a GEMV on the weights as stored: nothing to cache.
  EXPECT_EQ(CheckCached(F32FullyConnectedModel(1, 64, 10, true, Activation::NONE), "batch 1"), 0);
}

TEST(PackedWeightsCache, Int8Conv) {
  if (!HaveOptimizedKernels()) GTEST_SKIP() << "no optimized kernels on this CPU";
  int cached = 0;
  Int8ConvCase c;
  c.p = Conv(1, 37, 7, 9, 23, 1, 1);
  cached += CheckCached(Int8ConvModel(c, 10), "pointwise");
  c.p = Conv(2, 3, 19, 17, 5, 7, 7);
  c.p.stride_h = c.p.stride_w = 2, c.p.pad_t = 3, c.p.pad_l = 1, c.p.pad_b = 2, c.p.pad_r = 3;
  c.p.act = Activation::RELU, c.p.bias = false;
  cached += CheckCached(Int8ConvModel(c, 20), "general");
  c = Int8ConvCase();
  c.p = Conv(1, 12, 9, 9, 18, 3, 3);
  c.p.groups = 3;
  c.per_channel = false;
  cached += CheckCached(Int8ConvModel(c, 30), "grouped, per-tensor");
  c = Int8ConvCase();
  c.p = Conv(1, 19, 13, 11, 19, 3, 3);
  c.p.groups = 19, c.p.pad_t = c.p.pad_l = c.p.pad_b = c.p.pad_r = 1;
  cached += CheckCached(Int8ConvModel(c, 40), "depthwise");
  EXPECT_GE(cached, 4);
  // Weights with a zero point take the reference arithmetic; caching must not change that.
  c = Int8ConvCase();
  c.p = Conv(1, 5, 6, 6, 7, 3, 3);
  c.weight_zp = true;
  CheckCached(Int8ConvModel(c, 50), "weight zero point");
}

TEST(PackedWeightsCache, Int8FullyConnected) {
  if (!HaveOptimizedKernels()) GTEST_SKIP() << "no optimized kernels on this CPU";
  int cached = 0;
  for (int n : {1, 2, 5}) {
    Int8FcCase c;
    c.n = n, c.k = 37, c.out = 23, c.act = Activation::RELU;
    cached += CheckCached(Int8FullyConnectedModel(c, 60 + n), "n " + std::to_string(n));
  }
  EXPECT_GE(cached, 3);
}

// A prepacked model rewritten by `edit` (object API) with the payloads of `file`.
std::vector<uint8_t> Rewrite(const std::vector<uint8_t>& file,
                             void (*edit)(opm::ModelT&, std::vector<std::vector<uint8_t>>&)) {
  std::vector<uint8_t> copy(file.size() + 64);
  uint8_t* p = copy.data() + (64 - reinterpret_cast<uintptr_t>(copy.data()) % 64) % 64;
  std::memcpy(p, file.data(), file.size());
  Model model;
  EXPECT_EQ(model.Load(p, file.size()), Status::kOk);
  std::unique_ptr<opm::ModelT> m(model.fb()->UnPack());
  std::vector<std::vector<uint8_t>> payloads;
  for (size_t b = 0; b < m->buffers.size(); ++b) {
    const uint8_t* d = model.BufferData(static_cast<int>(b));
    payloads.emplace_back(d, d + model.BufferSize(static_cast<int>(b)));
  }
  edit(*m, payloads);
  return emit::WriteOpmBytes(std::move(*m), payloads);
}

BuiltModel PrepackedConv() {
  BuiltModel m = F32ConvModel(Conv(1, 5, 11, 13, 7, 3, 3));
  m.file = emit::PrepackOpm(m.file, {"auto", DetectCpuFeatures()}).bytes;
  return m;
}

TEST(PackedWeightsCache, WrongSizeIsRefusedAtInit) {
  if (!HaveOptimizedKernels()) GTEST_SKIP() << "no optimized kernels on this CPU";
  const BuiltModel m = PrepackedConv();
  const std::vector<uint8_t> bad = Rewrite(m.file, [](opm::ModelT& mt, auto& payloads) {
    ASSERT_EQ(mt.operators[0]->packed.size(), 1u);
    payloads[mt.operators[0]->packed[0]->buffer].resize(64);
  });
  const CachedRun r = RunReadOnly(bad, m.feeds, DetectCpuFeatures());
  EXPECT_EQ(r.status, Status::kCorruptModel);
  EXPECT_NE(r.error.find("packed weights"), std::string::npos) << r.error;
  // Kernels without that layout never look at the buffer.
  EXPECT_EQ(RunReadOnly(bad, m.feeds, 0).status, Status::kOk);
}

// The int8 constants (multipliers, shift counts) are trusted by eval: a cached copy that is
// not exactly what prepare computes from the model is refused.
TEST(PackedWeightsCache, TamperedInt8ConstantsAreRefused) {
  if (!HaveOptimizedKernels()) GTEST_SKIP() << "no optimized kernels on this CPU";
  Int8FcCase c;
  c.n = 2, c.k = 37, c.out = 23;
  BuiltModel m = Int8FullyConnectedModel(c, 70);
  m.file = emit::PrepackOpm(m.file, {"auto", DetectCpuFeatures()}).bytes;
  int tampered = 0;
  for (int word : {0, 40, 50, 80}) {  // in corr, m0, left or right, AVX2 and AVX-512 strides
    static int tamper_word;
    tamper_word = word;
    const std::vector<uint8_t> bad = Rewrite(m.file, [](opm::ModelT& mt, auto& payloads) {
      if (mt.operators[0]->packed.empty()) return;
      auto& b = payloads[mt.operators[0]->packed[0]->buffer];
      b[4 * tamper_word + 1] ^= 0x40;
    });
    const CachedRun r = RunReadOnly(bad, m.feeds, DetectCpuFeatures());
    if (bad == m.file) continue;
    ++tampered;
    EXPECT_EQ(r.status, Status::kCorruptModel) << "word " << word;
    EXPECT_NE(r.error.find("cached packed constants"), std::string::npos) << r.error;
  }
  EXPECT_EQ(tampered, 4);
}

TEST(PackedWeightsCache, OtherLayoutIsIgnored) {
  if (!HaveOptimizedKernels()) GTEST_SKIP() << "no optimized kernels on this CPU";
  const BuiltModel m = PrepackedConv();
  const std::vector<uint8_t> other = Rewrite(m.file, [](opm::ModelT& mt, auto&) {
    mt.operators[0]->packed[0]->layout = "f32-conv-panels/some-other-isa/v9";
  });
  const CachedRun r = RunReadOnly(other, m.feeds, DetectCpuFeatures());
  ASSERT_EQ(r.status, Status::kOk) << r.error;
  EXPECT_FALSE(r.in_model);
  EXPECT_EQ(r.bytes, RunWithFeatures(m.file, m.feeds, DetectCpuFeatures()).bytes);
}

TEST(PackedWeightsCache, BadEntriesAreRefusedAtLoad) {
  if (!HaveOptimizedKernels()) GTEST_SKIP() << "no optimized kernels on this CPU";
  const BuiltModel m = PrepackedConv();
  const std::vector<uint8_t> bad_index = Rewrite(m.file, [](opm::ModelT& mt, auto&) {
    mt.operators[0]->packed[0]->buffer = 1000;
  });
  const std::vector<uint8_t> no_layout = Rewrite(m.file, [](opm::ModelT& mt, auto&) {
    mt.operators[0]->packed[0]->layout.clear();
  });
  for (const auto* file : {&bad_index, &no_layout}) {
    const CachedRun r = RunReadOnly(*file, m.feeds, DetectCpuFeatures());
    EXPECT_EQ(r.status, Status::kCorruptModel);
    EXPECT_NE(r.error.find("packed weights"), std::string::npos) << r.error;
  }
}

TEST(PackedWeightsCache, PrepackTwiceIsRefused) {
  if (!HaveOptimizedKernels()) GTEST_SKIP() << "no optimized kernels on this CPU";
  const BuiltModel m = PrepackedConv();
  EXPECT_THROW(emit::PrepackOpm(m.file, {"auto", DetectCpuFeatures()}), std::runtime_error);
  EXPECT_EQ(emit::PrepackOpm(m.file, {"none", 0}).bytes, m.file);
}

}  // namespace
}  // namespace outpost::testing
