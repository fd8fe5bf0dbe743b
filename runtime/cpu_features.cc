#include "runtime/cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
// glibc (2.33 and later) keeps what its start-up CPUID found, usable features marked active.
#if defined(__GLIBC__) && defined(__has_include)
#if __has_include(<sys/platform/x86.h>)
#include <sys/platform/x86.h>
#define OUTPOST_GLIBC_CPU_FEATURES 1
#endif
#endif
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace outpost {
namespace {

#if defined(__x86_64__) || defined(__i386__)
// XCR0: which register state the OS saves on a context switch. AVX needs XMM+YMM (bits 1, 2);
// AVX-512 also needs opmask and both ZMM halves (bits 5, 6, 7). A CPU may support AVX-512
// while the OS does not enable it; then its instructions fault.
uint64_t ReadXcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

uint32_t DetectX86() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  const unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf < 1) return 0;
  __cpuid(1, a, b, c, d);
  const bool osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
  if (!osxsave || !avx) return 0;
  const uint64_t xcr0 = ReadXcr0();
  if ((xcr0 & 0x6) != 0x6 || max_leaf < 7) return 0;
  __cpuid_count(7, 0, a, b, c, d);
  uint32_t f = 0;
  const bool avx2 = (b >> 5) & 1;
  if (avx2 && fma) f |= kCpuX86Avx2Fma;
  const bool avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1, avx512bw = (b >> 30) & 1,
             avx512vl = (b >> 31) & 1, avx512vnni = (c >> 11) & 1;
  if ((f & kCpuX86Avx2Fma) && avx512f && avx512dq && avx512bw && avx512vl &&
      (xcr0 & 0xe0) == 0xe0) {
    f |= kCpuX86Avx512;
    if (avx512vnni) f |= kCpuX86Avx512Vnni;
    if (avx512vnni && ((c >> 1) & 1)) f |= kCpuX86Avx512Vbmi;
  }
  unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
  if (f & kCpuX86Avx2Fma) {
    __cpuid_count(7, 1, a1, b1, c1, d1);
    if ((a1 >> 4) & 1) f |= kCpuX86AvxVnni;
  }
  return f;
}

#ifdef OUTPOST_GLIBC_CPU_FEATURES
// The same bits from glibc's record: "active" means the CPU has the feature and the OS saves
// its registers, what DetectX86 checks with XGETBV.
uint32_t DetectGlibc() {
  uint32_t f = 0;
  if (CPU_FEATURE_ACTIVE(AVX2) && CPU_FEATURE_ACTIVE(FMA)) f |= kCpuX86Avx2Fma;
  if ((f & kCpuX86Avx2Fma) && CPU_FEATURE_ACTIVE(AVX512F) && CPU_FEATURE_ACTIVE(AVX512DQ) &&
      CPU_FEATURE_ACTIVE(AVX512BW) && CPU_FEATURE_ACTIVE(AVX512VL)) {
    f |= kCpuX86Avx512;
    if (CPU_FEATURE_ACTIVE(AVX512_VNNI)) {
      f |= kCpuX86Avx512Vnni;
      if (CPU_FEATURE_ACTIVE(AVX512_VBMI)) f |= kCpuX86Avx512Vbmi;
    }
  }
  if ((f & kCpuX86Avx2Fma) && CPU_FEATURE_ACTIVE(AVX_VNNI)) f |= kCpuX86AvxVnni;
  return f;
}
#endif
#endif

}  // namespace

uint32_t DetectCpuFeatures() {
#if defined(OUTPOST_GLIBC_CPU_FEATURES)
  // No CPUID of our own: in a virtual machine each one traps to the hypervisor (13 us here),
  // and the four of DetectX86 were a tenth of the Fashion-MNIST model's cold start.
  return DetectGlibc();
#elif defined(__x86_64__) || defined(__i386__)
  return DetectX86();
#elif defined(__aarch64__)
  uint32_t f = kCpuArmNeon;
#if defined(__linux__)
  // HWCAP_ASIMDDP is bit 20 of AT_HWCAP on AArch64 Linux.
  if ((getauxval(AT_HWCAP) >> 20) & 1) f |= kCpuArmDotProd;
#elif defined(__ARM_FEATURE_DOTPROD)
  f |= kCpuArmDotProd;
#endif
  return f;
#else
  return 0;
#endif
}

uint32_t DetectCpuFeaturesByCpuid() {
#if defined(__x86_64__) || defined(__i386__)
  return DetectX86();
#else
  return DetectCpuFeatures();
#endif
}

void DescribeCpuFeatures(uint32_t features, char* out, int size) {
  if (size <= 0) return;
  static const struct {
    uint32_t bit;
    const char* name;
  } kNames[] = {{kCpuX86Avx2Fma, "avx2-fma"},   {kCpuX86Avx512, "avx512"},
                {kCpuX86Avx512Vnni, "avx512-vnni"}, {kCpuX86AvxVnni, "avx-vnni"},
                {kCpuX86Avx512Vbmi, "avx512-vbmi"},
                {kCpuArmNeon, "neon"},           {kCpuArmDotProd, "dotprod"}};
  int n = 0;
  out[0] = '\0';
  for (const auto& e : kNames) {
    if (!(features & e.bit)) continue;
    for (const char* p = n ? " " : ""; *p && n < size - 1; ++p) out[n++] = *p;
    for (const char* p = e.name; *p && n < size - 1; ++p) out[n++] = *p;
  }
  if (n == 0)
    for (const char* p = "none"; *p && n < size - 1; ++p) out[n++] = *p;
  out[n] = '\0';
}

}  // namespace outpost
