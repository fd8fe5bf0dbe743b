#include "runtime/all_ops_resolver.h"

#include "runtime/cpu_features.h"
#include "runtime/kernels/reference/reference_kernels.h"
#if defined(OUTPOST_HAVE_X86_KERNELS)
#include "runtime/kernels/x86/x86_kernels.h"
#include "runtime/kernels/x86/int8/x86_int8_kernels.h"
#endif
#if defined(OUTPOST_HAVE_ARM_KERNELS)
#include "runtime/kernels/arm/arm_kernels.h"
#endif

namespace outpost {

Status RegisterAllKernels(AllOpsResolver& resolver) {
  size_t n = 0;
  const KernelRegistration* const* ref = kernels::ReferenceKernels(&n);
  for (size_t i = 0; i < n; ++i) OUTPOST_RETURN_IF_ERROR(resolver.Add(*ref[i]));
  // Optimized kernels register after the reference ones and win where the CPU has their
  // features; a caller may set_cpu_features(0) afterwards to run the reference kernels only.
#if defined(OUTPOST_HAVE_X86_KERNELS)
  const KernelRegistration* const* x86 = kernels::X86Kernels(&n);
  for (size_t i = 0; i < n; ++i) OUTPOST_RETURN_IF_ERROR(resolver.Add(*x86[i]));
  const KernelRegistration* const* x86_int8 = kernels::x86::Int8Kernels(&n);
  for (size_t i = 0; i < n; ++i) OUTPOST_RETURN_IF_ERROR(resolver.Add(*x86_int8[i]));
#endif
#if defined(OUTPOST_HAVE_ARM_KERNELS)
  const KernelRegistration* const* arm = kernels::arm::ArmKernels(&n);
  for (size_t i = 0; i < n; ++i) OUTPOST_RETURN_IF_ERROR(resolver.Add(*arm[i]));
#endif
  resolver.set_cpu_features(DetectCpuFeatures());
  return Status::kOk;
}

}  // namespace outpost
