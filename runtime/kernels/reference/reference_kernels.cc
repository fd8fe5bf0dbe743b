#include "runtime/kernels/reference/reference_kernels.h"

namespace outpost {
namespace kernels {
namespace {

#define OUTPOST_KERNEL_ADDRESS(NAME, DT) &k##NAME##DT##Ref,
const KernelRegistration* const kAll[] = {OUTPOST_REFERENCE_KERNELS(OUTPOST_KERNEL_ADDRESS)};
#undef OUTPOST_KERNEL_ADDRESS

}  // namespace

const KernelRegistration* const* ReferenceKernels(size_t* count) {
  *count = sizeof(kAll) / sizeof(kAll[0]);
  return kAll;
}

}  // namespace kernels
}  // namespace outpost
