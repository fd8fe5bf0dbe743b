#include "runtime/kernels/arm/arm_kernels.h"

namespace outpost {
namespace kernels {
namespace arm {

const KernelRegistration* const* ArmKernels(size_t* count) {
  static const KernelRegistration* const kAll[] = {
      &kConv2DF32Neon,        &kFullyConnectedF32Neon, &kConv2DI8Neon,
      &kFullyConnectedI8Neon, &kConv2DI8NeonDot,       &kFullyConnectedI8NeonDot,
  };
  *count = sizeof(kAll) / sizeof(kAll[0]);
  return kAll;
}

}  // namespace arm
}  // namespace kernels
}  // namespace outpost
