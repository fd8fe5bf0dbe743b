#include "runtime/all_ops_resolver.h"

#include "runtime/kernels/reference/reference_kernels.h"

namespace outpost {

Status RegisterAllKernels(AllOpsResolver& resolver) {
  size_t n = 0;
  const KernelRegistration* const* ref = kernels::ReferenceKernels(&n);
  for (size_t i = 0; i < n; ++i) OUTPOST_RETURN_IF_ERROR(resolver.Add(*ref[i]));
  return Status::kOk;
}

}  // namespace outpost
