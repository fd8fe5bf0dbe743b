// int8 CONV_2D and FULLY_CONNECTED on plain NEON (Armv8-A, no dot product), bit-exact with the
// reference kernels. The 4-deep dot products SDOT would do are two widening multiplies
// (SMULL, int8 x int8 fits int16) and pairwise additions.
#include <arm_neon.h>

#include "runtime/cpu_features.h"
#include "runtime/kernels/arm/arm_kernels.h"
#include "runtime/kernels/arm/int8_plan.h"

namespace outpost {
namespace kernels {
namespace arm {
namespace {

struct NeonInt8 {
  template <int L>
  static int32x4_t Dot(int32x4_t acc, int8x16_t a, int8x16_t b) {
    const int8x16_t bl = vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(b), L));
    const int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(bl));
    const int16x8_t hi = vmull_high_s8(a, bl);
    return vaddq_s32(acc, vpaddq_s32(vpaddlq_s16(lo), vpaddlq_s16(hi)));
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

const KernelRegistration kConv2DI8Neon = {
    OpCode::CONV_2D,  DType::INT8, KernelFamily::kArm, "conv2d_i8_neon", sizeof(Int8ConvData),
    ConvScratchBytes, PrepareConv, EvalConv<NeonInt8>, kCpuArmNeon,      ConvPackedBytes};

const KernelRegistration kFullyConnectedI8Neon = {OpCode::FULLY_CONNECTED,
                                                  DType::INT8,
                                                  KernelFamily::kArm,
                                                  "fully_connected_i8_neon",
                                                  sizeof(Int8FullyConnectedData),
                                                  FullyConnectedScratchBytes,
                                                  PrepareFullyConnected,
                                                  EvalFullyConnected<NeonInt8>,
                                                  kCpuArmNeon,
                                                  FullyConnectedPackedBytes};

}  // namespace arm
}  // namespace kernels
}  // namespace outpost
