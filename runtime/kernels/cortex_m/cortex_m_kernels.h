// Optimized int8 kernels for Cortex-M CPUs with the DSP extension (Armv7E-M: Cortex-M4, M7;
// Armv8.1-M: Cortex-M55), bit-exact with the reference kernels. Compiled only into OUTPOST_MCU
// builds whose CPU has __ARM_FEATURE_DSP; such builds define OUTPOST_CORTEX_M_DSP_KERNELS on
// outpost_runtime (publicly), so code that registers these kernels can test for them.
// required_cpu_features is 0: the compile-time guard is the guarantee.
#pragma once

#include "runtime/kernel.h"

namespace outpost {
namespace kernels {

extern const KernelRegistration kConv2DI8CortexMDsp;
extern const KernelRegistration kFullyConnectedI8CortexMDsp;

}  // namespace kernels
}  // namespace outpost
