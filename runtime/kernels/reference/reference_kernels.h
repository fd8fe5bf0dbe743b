// The reference kernels: portable C++, the specification every optimized kernel is tested
// against. One registration per (op, dtype); the list below is the single source of truth for
// the resolver, the kernel tests and the benchmarks.
#pragma once

#include <stddef.h>

#include "runtime/kernel.h"

namespace outpost {
namespace kernels {

// X(NAME, DTYPE_SUFFIX) for every reference kernel.
#define OUTPOST_REFERENCE_KERNELS(X) \
  X(Relu, F32)                       \
  X(LeakyRelu, F32)                  \
  X(Clip, F32)                       \
  X(Sigmoid, F32)                    \
  X(Tanh, F32)                       \
  X(HardSigmoid, F32)                \
  X(HardSwish, F32)                  \
  X(Add, F32)                        \
  X(Sub, F32)                        \
  X(Mul, F32)                        \
  X(Div, F32)                        \
  X(PRelu, F32)

#define OUTPOST_DECLARE_KERNEL(NAME, DT) extern const KernelRegistration k##NAME##DT##Ref;
OUTPOST_REFERENCE_KERNELS(OUTPOST_DECLARE_KERNEL)
#undef OUTPOST_DECLARE_KERNEL

// All reference kernels, in the order above.
const KernelRegistration* const* ReferenceKernels(size_t* count);

}  // namespace kernels
}  // namespace outpost
