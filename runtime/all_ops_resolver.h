// A resolver holding every kernel this build has: reference kernels first, then optimized ones
// for the running CPU (which win when present).
#pragma once

#include "runtime/op_resolver.h"

namespace outpost {

constexpr size_t kAllOpsCapacity = 256;
using AllOpsResolver = MutableOpResolver<kAllOpsCapacity>;

// Fills `resolver` with every kernel of this build and enables those the running CPU supports
// (DetectCpuFeatures()). Returns kInvalidArgument if it is too small.
Status RegisterAllKernels(AllOpsResolver& resolver);

}  // namespace outpost
