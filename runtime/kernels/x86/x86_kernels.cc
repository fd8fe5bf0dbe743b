#include "runtime/kernels/x86/x86_kernels.h"

namespace outpost {
namespace kernels {
namespace {

const KernelRegistration* const kAll[] = {
    &kConv2DF32Avx2,
    &kFullyConnectedF32Avx2,
    &kConv2DF32Avx512,
    &kFullyConnectedF32Avx512,
    &kMaxPool2DF32Avx2,
    &kMaxPool2DF32Avx512,
    &kAddF32Avx512,
    &kGlobalAveragePoolF32Avx512,
};

}  // namespace

const KernelRegistration* const* X86Kernels(size_t* count) {
  *count = sizeof(kAll) / sizeof(kAll[0]);
  return kAll;
}

}  // namespace kernels
}  // namespace outpost
