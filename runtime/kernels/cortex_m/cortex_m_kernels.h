// Optimized int8 kernels for Cortex-M CPUs, bit-exact twins of reference kernels (same
// prepare, operator state and memory). Compiled only into OUTPOST_MCU builds, which define on
// outpost_runtime (publicly, so that code registering these kernels can test for them):
//   OUTPOST_CORTEX_M_DSP_KERNELS  the CPU has the DSP extension (__ARM_FEATURE_DSP: Armv7E-M
//                                 Cortex-M4, M7; Armv8-M M33 with DSP; Armv8.1-M M55): the
//                                 kNAMEDTYPECortexMDsp twins (SMLAD on 16-bit pairs);
//   OUTPOST_CORTEX_M_MVE_KERNELS  the CPU also has the M-profile Vector Extension (Helium,
//                                 __ARM_FEATURE_MVE: Cortex-M55, M85): the kNAMEDTYPECortexMMve
//                                 twins (128-bit vectors), which a resolver should register
//                                 instead of the DSP ones.
// required_cpu_features is 0: the compile-time guard is the guarantee.
#pragma once

#include "runtime/kernel.h"

// The reference kernels that have Cortex-M twins, as X(NAME, DTYPE): the reference kernel
// kNAMEDTYPERef (reference_kernels.h) has the twins kNAMEDTYPECortexMDsp and
// kNAMEDTYPECortexMMve. `outpost export-c` reads this list to register them.
#define OUTPOST_CORTEX_M_TWINS(X) \
  X(Conv2D, I8)                   \
  X(FullyConnected, I8)

namespace outpost {
namespace kernels {

#define OUTPOST_DECLARE_CORTEX_M_TWINS(NAME, DT)           \
  extern const KernelRegistration k##NAME##DT##CortexMDsp; \
  extern const KernelRegistration k##NAME##DT##CortexMMve;
OUTPOST_CORTEX_M_TWINS(OUTPOST_DECLARE_CORTEX_M_TWINS)
#undef OUTPOST_DECLARE_CORTEX_M_TWINS

}  // namespace kernels
}  // namespace outpost
