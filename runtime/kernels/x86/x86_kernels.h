// Optimized float32 kernels for x86-64 (AVX2+FMA and AVX-512 variants). Registered after the
// reference kernels; the resolver picks them where the CPU has the features they require.
#pragma once

#include <stddef.h>

#include "runtime/kernel.h"

namespace outpost {
namespace kernels {

extern const KernelRegistration kConv2DF32Avx2;
extern const KernelRegistration kFullyConnectedF32Avx2;
extern const KernelRegistration kConv2DF32Avx512;
extern const KernelRegistration kFullyConnectedF32Avx512;
extern const KernelRegistration kMaxPool2DF32Avx2;
extern const KernelRegistration kMaxPool2DF32Avx512;
extern const KernelRegistration kAddF32Avx512;
extern const KernelRegistration kGlobalAveragePoolF32Avx512;

// All x86 kernels, AVX2 before AVX-512 so that the wider one wins where both are supported.
const KernelRegistration* const* X86Kernels(size_t* count);

}  // namespace kernels
}  // namespace outpost
