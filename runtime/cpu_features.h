// CPU features that select optimized kernels. A kernel registers the bits it needs; the
// resolver picks, per (op, dtype), the last registered kernel whose bits the CPU has.
#pragma once

#include <stdint.h>

namespace outpost {

enum CpuFeature : uint32_t {
  kCpuX86Avx2Fma = 1u << 0,     // AVX2 + FMA3 (Haswell, Zen 1 and later)
  kCpuX86Avx512 = 1u << 1,      // AVX-512 F, BW, DQ, VL (Skylake-SP, Zen 4)
  kCpuX86Avx512Vnni = 1u << 2,  // AVX-512 VNNI: vpdpbusd (Cascade Lake, Zen 4)
  kCpuX86AvxVnni = 1u << 3,     // AVX-VNNI on 256-bit registers (Alder Lake)
  kCpuX86Avx512Vbmi = 1u << 4,  // AVX-512 VBMI with AVX-512 VNNI: vpermb (Ice Lake, Zen 4)
  kCpuArmNeon = 1u << 8,        // AArch64 Advanced SIMD (always present on AArch64)
  kCpuArmDotProd = 1u << 9,     // AArch64 SDOT/UDOT (Armv8.2-A dotprod)
};

// Features of the CPU this code runs on (on x86 with glibc, from the record of its start-up
// CPUID; other x86 C libraries: CPUID and XGETBV; HWCAP on AArch64 Linux). Bare-metal builds
// return the features the compiler was told to assume.
uint32_t DetectCpuFeatures();

// The same, on x86 always from CPUID and XGETBV (elsewhere DetectCpuFeatures()): what the
// C library's record must agree with.
uint32_t DetectCpuFeaturesByCpuid();

// "avx2-fma avx512 avx512-vnni" etc., for logs and profiles. Writes at most `size` bytes.
void DescribeCpuFeatures(uint32_t features, char* out, int size);

}  // namespace outpost
