#include "runtime/all_ops_resolver.h"

#include "runtime/cpu_features.h"
#include "runtime/kernels/reference/reference_kernels.h"
// runtime/CMakeLists.txt builds the x86 kernels exactly on x86-64.
#if defined(__x86_64__)
#include "runtime/kernels/x86/int8/x86_int8_kernels.h"
#endif

namespace outpost {

Status RegisterAllKernels(AllOpsResolver& resolver) {
  size_t n = 0;
  const KernelRegistration* const* ref = kernels::ReferenceKernels(&n);
  for (size_t i = 0; i < n; ++i) OUTPOST_RETURN_IF_ERROR(resolver.Add(*ref[i]));
#if defined(__x86_64__)
  const KernelRegistration* const* x86_int8 = kernels::x86::Int8Kernels(&n);
  for (size_t i = 0; i < n; ++i) OUTPOST_RETURN_IF_ERROR(resolver.Add(*x86_int8[i]));
#endif
  // Optimized kernels register after the reference ones and win where the CPU has their
  // features; a caller may set_cpu_features(0) afterwards to run the reference kernels only.
  resolver.set_cpu_features(DetectCpuFeatures());
  return Status::kOk;
}

}  // namespace outpost
