// int8 CONV_2D and FULLY_CONNECTED with the Armv8.2-A dot-product instructions (SDOT by
// element), bit-exact with the reference kernels.
//
// Only the functions in this file are compiled for armv8.2-a+dotprod (target pragma below);
// the rest of the build stays baseline Armv8-A, and the resolver selects these kernels only
// on CPUs whose HWCAP reports the extension (kCpuArmDotProd).
#include <arm_neon.h>

#include "runtime/cpu_features.h"
#include "runtime/kernels/arm/arm_kernels.h"
#include "runtime/kernels/arm/int8_plan.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("dotprod"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("arch=armv8.2-a+dotprod")
#endif

namespace outpost {
namespace kernels {
namespace arm {
namespace {

struct NeonDot {
  template <int L>
  static int32x4_t Dot(int32x4_t acc, int8x16_t a, int8x16_t b) {
    return vdotq_laneq_s32(acc, a, b, L);
  }
};

}  // namespace
}  // namespace arm
}  // namespace kernels
}  // namespace outpost

#include "runtime/kernels/arm/int8_gemm_inl.h"

namespace outpost {
namespace kernels {
namespace arm {

const KernelRegistration kConv2DI8NeonDot = {
    OpCode::CONV_2D,      DType::INT8,          KernelFamily::kArm,
    "conv2d_i8_neon_dot", sizeof(Int8ConvData), ConvScratchBytes,
    PrepareConv,          EvalConv<NeonDot>,    kCpuArmNeon | kCpuArmDotProd,
    ConvPackedBytes};

const KernelRegistration kFullyConnectedI8NeonDot = {OpCode::FULLY_CONNECTED,
                                                     DType::INT8,
                                                     KernelFamily::kArm,
                                                     "fully_connected_i8_neon_dot",
                                                     sizeof(Int8FullyConnectedData),
                                                     FullyConnectedScratchBytes,
                                                     PrepareFullyConnected,
                                                     EvalFullyConnected<NeonDot>,
                                                     kCpuArmNeon | kCpuArmDotProd,
                                                     FullyConnectedPackedBytes};

}  // namespace arm
}  // namespace kernels
}  // namespace outpost

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
