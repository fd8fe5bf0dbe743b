// Optimized kernels for 64-bit ARM (AArch64): float32 on Advanced SIMD (NEON), int8 on NEON
// and on the Armv8.2-A dot-product extension (SDOT). Registered after the reference kernels;
// the resolver picks them where the CPU has the features they require.
#pragma once

#include <stddef.h>

#include "runtime/kernel.h"

namespace outpost {
namespace kernels {
namespace arm {

extern const KernelRegistration kConv2DF32Neon;
extern const KernelRegistration kFullyConnectedF32Neon;
extern const KernelRegistration kConv2DI8Neon;
extern const KernelRegistration kFullyConnectedI8Neon;
extern const KernelRegistration kConv2DI8NeonDot;
extern const KernelRegistration kFullyConnectedI8NeonDot;

// All ARM kernels, plain NEON before dot product so that SDOT wins where the CPU has it.
const KernelRegistration* const* ArmKernels(size_t* count);

}  // namespace arm
}  // namespace kernels
}  // namespace outpost
