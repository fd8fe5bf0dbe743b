// CPU feature detection, kernel selection by features, and the packed-weight memory an
// optimized kernel gets from the interpreter.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "runtime/cpu_features.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "tests/runtime/kernel_test_util.h"

namespace outpost::testing {
namespace {

TEST(CpuFeatures, AgreeWithTheCompilerBuiltins) {
  const uint32_t f = DetectCpuFeatures();
  char text[128];
  DescribeCpuFeatures(f, text, sizeof(text));
  std::printf("CPU features: %s\n", text);
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  EXPECT_EQ((f & kCpuX86Avx2Fma) != 0, avx2_fma);
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  EXPECT_EQ((f & kCpuX86Avx512) != 0, avx512 && avx2_fma);
  if (f & kCpuX86Avx512Vnni) {
    EXPECT_TRUE(f & kCpuX86Avx512);
    EXPECT_TRUE(__builtin_cpu_supports("avx512vnni"));
  }
  if (f & kCpuX86Avx512Vbmi) {
    EXPECT_TRUE(f & kCpuX86Avx512Vnni);
    EXPECT_TRUE(__builtin_cpu_supports("avx512vbmi"));
  }
  EXPECT_EQ(f & (kCpuArmNeon | kCpuArmDotProd), 0u);
#elif defined(__aarch64__)
  EXPECT_TRUE(f & kCpuArmNeon) << "Advanced SIMD is mandatory on AArch64";
  EXPECT_EQ(f & (kCpuX86Avx2Fma | kCpuX86Avx512 | kCpuX86Avx512Vnni | kCpuX86AvxVnni |
                 kCpuX86Avx512Vbmi),
            0u);
#endif
}

TEST(CpuFeatures, TheCLibraryRecordAgreesWithCpuid) {
  EXPECT_EQ(DetectCpuFeatures(), DetectCpuFeaturesByCpuid());
}

TEST(CpuFeatures, DescribeNamesBitsAndTruncates) {
  char text[64];
  DescribeCpuFeatures(0, text, sizeof(text));
  EXPECT_STREQ(text, "none");
  DescribeCpuFeatures(kCpuX86Avx2Fma | kCpuX86Avx512Vnni, text, sizeof(text));
  EXPECT_STREQ(text, "avx2-fma avx512-vnni");
  char small[6];
  DescribeCpuFeatures(kCpuX86Avx2Fma | kCpuX86Avx512, small, sizeof(small));
  EXPECT_STREQ(small, "avx2-");
}

// A stand-in optimized RELU: it asks for packed memory, fills it in prepare and checks it is
// intact in eval, so the test sees where the interpreter put it and that it persists.
constexpr size_t kPackedBytes = 1000;
void* g_prepared_packed = nullptr;
size_t g_prepared_bytes = 0;

size_t FakePackedBytes(const Model&, const opm::Operator&) { return kPackedBytes; }

Status FakePrepare(KernelContext& ctx) {
  g_prepared_packed = ctx.packed();
  g_prepared_bytes = ctx.packed_bytes();
  if (ctx.packed() == nullptr) return Status::kInvalidArgument;
  memset(ctx.packed(), 0x5a, ctx.packed_bytes());
  return Status::kOk;
}

Status FakeEval(KernelContext& ctx) {
  const uint8_t* p = static_cast<const uint8_t*>(ctx.packed());
  for (size_t i = 0; i < ctx.packed_bytes(); ++i)
    if (p[i] != 0x5a) return Status::kInvalidArgument;
  const float* x = ctx.input(0).as<float>();
  float* y = ctx.output(0).as<float>();
  for (int64_t i = 0; i < ctx.output(0).num_elements(); ++i) y[i] = x[i] > 0 ? x[i] : 0;
  return Status::kOk;
}

const KernelRegistration kFakeRelu = {OpCode::RELU,     DType::FLOAT32, KernelFamily::kX86,
                                      "relu_f32_fake",  0,              nullptr,
                                      FakePrepare,      FakeEval,       kCpuX86Avx2Fma,
                                      FakePackedBytes};

TEST(OptimizedKernels, WinOnlyWhenTheCpuHasTheirFeatures) {
  MutableOpResolver<256> r;
  size_t n = 0;
  const KernelRegistration* const* ref = kernels::ReferenceKernels(&n);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(r.Add(*ref[i]), Status::kOk);
  ASSERT_EQ(r.Add(kFakeRelu), Status::kOk);
  r.set_cpu_features(0);
  EXPECT_STREQ(r.Find(OpCode::RELU, DType::FLOAT32)->name, "relu_f32_ref");
  r.set_cpu_features(kCpuX86Avx512);  // not the feature the fake needs
  EXPECT_STREQ(r.Find(OpCode::RELU, DType::FLOAT32)->name, "relu_f32_ref");
  r.set_cpu_features(kCpuX86Avx2Fma | kCpuX86Avx512);
  EXPECT_STREQ(r.Find(OpCode::RELU, DType::FLOAT32)->name, "relu_f32_fake");
}

TEST(OptimizedKernels, PackedMemoryIsMeasuredAlignedAndPersistent) {
  SingleOpModel sm(OpCode::RELU, opm::OpOptionsUnion(), {Operand::F32({1, 5}, {-2, -1, 0, 1, 2})},
                   {Operand::Out({1, 5})});
  ASSERT_EQ(sm.status(), Status::kOk) << sm.error();
  const std::vector<uint8_t>& file = sm.file();
  std::unique_ptr<uint8_t[]> storage(new uint8_t[file.size() + 64]);
  uint8_t* bytes = storage.get() + (64 - reinterpret_cast<uintptr_t>(storage.get()) % 64) % 64;
  memcpy(bytes, file.data(), file.size());
  Model model;
  ASSERT_EQ(model.Load(bytes, file.size()), Status::kOk);

  MutableOpResolver<256> reference_only;
  size_t n = 0;
  const KernelRegistration* const* ref = kernels::ReferenceKernels(&n);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(reference_only.Add(*ref[i]), Status::kOk);
  ArenaRequirement base;
  ASSERT_EQ(Interpreter::Measure(model, reference_only, &base), Status::kOk);
  EXPECT_EQ(base.packed_bytes, 0u);

  MutableOpResolver<256> with_fake(kCpuX86Avx2Fma);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(with_fake.Add(*ref[i]), Status::kOk);
  ASSERT_EQ(with_fake.Add(kFakeRelu), Status::kOk);
  ArenaRequirement need;
  ASSERT_EQ(Interpreter::Measure(model, with_fake, &need), Status::kOk);
  EXPECT_EQ(need.packed_bytes, 1024u) << "1000 bytes rounded up to a 64-byte block";
  EXPECT_EQ(need.total_bytes, base.total_bytes + 1024u);

  std::unique_ptr<uint8_t[]> arena(new uint8_t[need.total_bytes + 64]);
  uint8_t* aligned = arena.get() + (64 - reinterpret_cast<uintptr_t>(arena.get()) % 64) % 64;
  Interpreter interp;
  ErrorReporter err;
  ASSERT_EQ(interp.Init(model, with_fake, aligned, need.total_bytes, &err), Status::kOk)
      << err.message();
  ASSERT_NE(g_prepared_packed, nullptr);
  EXPECT_EQ(g_prepared_bytes, kPackedBytes);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(g_prepared_packed) % 64, 0u);
  const uint8_t* p = static_cast<const uint8_t*>(g_prepared_packed);
  EXPECT_GE(p, aligned);
  EXPECT_LE(p + kPackedBytes, aligned + need.total_bytes);
  const float x[5] = {-2, -1, 0, 1, 2};
  memcpy(interp.input(0).data, x, sizeof(x));
  ASSERT_EQ(interp.Invoke(), Status::kOk) << "packed memory was overwritten between prepare and eval";
  ASSERT_EQ(interp.Invoke(), Status::kOk);
  const float* y = interp.output(0).as<float>();
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[4], 2.0f);
}

}  // namespace
}  // namespace outpost::testing
