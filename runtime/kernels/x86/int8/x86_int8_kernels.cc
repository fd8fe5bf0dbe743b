#include "runtime/kernels/x86/int8/x86_int8_kernels.h"

namespace outpost {
namespace kernels {
namespace x86 {

const KernelRegistration* const* Int8Kernels(size_t* count) {
  static const KernelRegistration* const kAll[] = {&kConv2DI8Avx2,
                                                   &kFullyConnectedI8Avx2,
                                                   &kAddI8Avx2,
                                                   &kQuantizeF32ToI8Avx2,
                                                   &kAddI8Avx512Vnni,
                                                   &kConv2DI8Avx512Vnni,
                                                   &kConv2DI8Avx512Vbmi,
                                                   &kFullyConnectedI8Avx512Vnni,
                                                   &kGlobalAveragePoolI8Avx512,
                                                   &kMaxPool2DI8Avx512,
                                                   &kQuantizeF32ToI8Avx512};
  *count = sizeof(kAll) / sizeof(kAll[0]);
  return kAll;
}

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
