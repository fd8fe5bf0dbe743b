// The float32 CONV_2D reference kernel's prepare and eval, shared with the optimized kernels:
// they validate a model exactly as the reference does (it is the specification) and fall back
// to its eval for the shapes they do not optimize.
#pragma once

#include "runtime/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/conv_window.h"

namespace outpost {
namespace kernels {
namespace ref {

// Written by PrepareConvF32 at the start of the operator's op_data; an optimized kernel that
// reuses it keeps this struct as the first member of its own op_data.
struct ConvF32Data : ConvWindow {
  FusedActivation act;
};

Status PrepareConvF32(KernelContext& ctx);
Status EvalConvF32(KernelContext& ctx);

}  // namespace ref
}  // namespace kernels
}  // namespace outpost
